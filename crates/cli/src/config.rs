//! Configuration: flags, environment variables, and embedded defaults (an SQLite file and
//! file-transport mail in ./tenderflow-data).

use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tenderflow_app::App;
use tenderflow_app::installation::{
    Documents, Installation, MasterKey, Schema, SystemClock, Tuning,
};
use tenderflow_notify::Transport;

/// The sender of mail when none is configured.
pub const DEFAULT_MAIL_FROM: &str = "Tenderflow <noreply@tenderflow.example>";

/// Options shared by every command. Precedence: flags, then `TENDERFLOW_*` variables, then
/// the config file, then the defaults.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// A TOML config file whose keys are the global options' long names with `_` (data_dir,
    /// database_url, pg_pool, …); flags and TENDERFLOW_* variables take precedence over it.
    #[arg(long = "config", global = true, env = "TENDERFLOW_CONFIG")]
    pub config_file: Option<PathBuf>,
    /// Data directory: the SQLite database, the master key file and mail files live here.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_DATA_DIR",
        default_value = "tenderflow-data"
    )]
    pub data_dir: PathBuf,
    /// Database URL (default: an SQLite file in the data directory); e.g.
    /// postgres://user@host/db.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// SMTP URL (default: write .eml files to <data-dir>/mail); e.g.
    /// smtp://user:pass@host:587?tls=required.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_SMTP_URL",
        hide_env_values = true
    )]
    pub smtp_url: Option<String>,
    /// Sender address of outgoing mail.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_MAIL_FROM",
        default_value = DEFAULT_MAIL_FROM
    )]
    pub mail_from: String,
    /// The address people reach the pages at (e.g. https://tenders.union.example): mail
    /// links each message to its tender's notice there. Without it mail carries no links.
    #[arg(long, global = true, env = "TENDERFLOW_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// A directory of mail templates (`{zh-CN,en}/{kind}.txt`) that replace the shipped ones
    /// file by file; each is checked when the server starts.
    #[arg(long, global = true, env = "TENDERFLOW_MAIL_TEMPLATES")]
    pub mail_templates: Option<PathBuf>,
    /// A JSON file of red-flag thresholds (`minBids`, `lastHourShare`, …: docs/OPERATIONS.md);
    /// keys left out keep their defaults.
    #[arg(long, global = true, env = "TENDERFLOW_RED_FLAGS")]
    pub red_flags: Option<PathBuf>,
    /// Where documents' bytes are kept: `database` (the default: in the database itself, so
    /// servers sharing a PostgreSQL share files), `dir:PATH` (a local directory) or
    /// `s3://BUCKET` (S3-compatible object storage, configured by the AWS_* variables, e.g.
    /// AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP).
    #[arg(long, global = true, env = "TENDERFLOW_DOCUMENTS")]
    pub documents: Option<String>,
    /// Master key as 64 hex digits (default: <data-dir>/master.key, created with mode 0600).
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_MASTER_KEY",
        hide_env_values = true
    )]
    pub master_key: Option<String>,
    /// Log format.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// OCDS: the OCID prefix registered with the Open Contracting Partnership.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_OCID_PREFIX",
        default_value = "ocds-tndrfl"
    )]
    pub ocid_prefix: String,
    /// OCDS: the publisher's name in packages.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_OCDS_PUBLISHER",
        default_value = "Tenderflow"
    )]
    pub ocds_publisher: String,
    /// OCDS: the base URI of published packages and records.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_OCDS_URI",
        default_value = "https://tenderflow.example/ocds"
    )]
    pub ocds_uri: String,
    /// OCDS: the buyer's identifier, for definitions that name no buyer.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_OCDS_BUYER_ID",
        requires = "ocds_buyer_name"
    )]
    pub ocds_buyer_id: Option<String>,
    /// OCDS: the buyer's name, for definitions that name no buyer.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_OCDS_BUYER_NAME",
        requires = "ocds_buyer_id"
    )]
    pub ocds_buyer_name: Option<String>,
    /// OCDS: the ISO 4217 currency, for definitions that name none (default: the rule pack's).
    #[arg(long, global = true, env = "TENDERFLOW_OCDS_CURRENCY")]
    pub ocds_currency: Option<String>,
    /// The tuning values.
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// Every tuning value, with its flag, variable and config key (docs/OPERATIONS.md).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Tuning")]
pub struct TuningArgs {
    /// Connections per process to PostgreSQL (SQLite always has one).
    #[arg(long, global = true, env = "TENDERFLOW_PG_POOL", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub pg_pool: u32,
    /// PostgreSQL connections opened at start and kept open while idle (at most
    /// `--pg-pool`), so that a burst of commands does not wait for connections to be set up.
    #[arg(long, global = true, env = "TENDERFLOW_PG_POOL_MIN", default_value_t = 8, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub pg_pool_min: u32,
    /// How long SQLite waits for another process's write lock, in seconds.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_SQLITE_BUSY_SECS",
        default_value_t = 10
    )]
    pub sqlite_busy_secs: u64,
    /// How long a worker holds a claimed timer before another may take it, in seconds.
    #[arg(long, global = true, env = "TENDERFLOW_TIMER_LEASE_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub timer_lease_secs: u64,
    /// Timers claimed per round.
    #[arg(long, global = true, env = "TENDERFLOW_TIMER_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..))]
    pub timer_batch: u64,
    /// How often the timer loop looks for due timers, in milliseconds.
    #[arg(long, global = true, env = "TENDERFLOW_TIMER_POLL_MS", default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..))]
    pub timer_poll_ms: u64,
    /// How often the dispatcher looks for due mail, in milliseconds.
    #[arg(long, global = true, env = "TENDERFLOW_MAIL_POLL_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..))]
    pub mail_poll_ms: u64,
    /// Messages sent at once by one dispatcher.
    #[arg(long, global = true, env = "TENDERFLOW_MAIL_CONCURRENCY", default_value_t = 32, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub mail_concurrency: u64,
    /// How long a dispatcher holds claimed messages before another may take them, in seconds.
    #[arg(long, global = true, env = "TENDERFLOW_MAIL_LEASE_SECS", default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    pub mail_lease_secs: u64,
    /// SMTP connections kept open.
    #[arg(long, global = true, env = "TENDERFLOW_SMTP_POOL", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub smtp_pool: u32,
    /// SMTP timeout per command, in seconds.
    #[arg(long, global = true, env = "TENDERFLOW_SMTP_TIMEOUT_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub smtp_timeout_secs: u64,
    /// Largest batch of commands written in one transaction with `serve --group-commit`.
    #[arg(long, global = true, env = "TENDERFLOW_GROUP_COMMIT_BATCH", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=10000))]
    pub group_commit_batch: u64,
    /// Batches written in parallel with `serve --group-commit` on PostgreSQL, each on its
    /// own connection (a tender's commands always in the same lane; SQLite has one).
    #[arg(long, global = true, env = "TENDERFLOW_GROUP_COMMIT_LANES", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub group_commit_lanes: u64,
    /// Tender states kept in memory at most (the least recently used go first; 0 keeps
    /// none and replays every tender on each use).
    #[arg(long, global = true, env = "TENDERFLOW_TENDER_CACHE", default_value_t = 512, value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    pub tender_cache: u64,
}

impl TuningArgs {
    /// The store's part.
    pub fn store(&self) -> Tuning {
        Tuning {
            max_connections: self.pg_pool,
            min_connections: self.pg_pool_min,
            busy_timeout: std::time::Duration::from_secs(self.sqlite_busy_secs),
            timer_lease: std::time::Duration::from_secs(self.timer_lease_secs),
            timer_batch: self.timer_batch,
            tender_cache: usize::try_from(self.tender_cache).unwrap_or(usize::MAX),
            // Only `migrate` changes the schema (`Config::setup`).
            schema: Schema::RequireCurrent,
        }
    }

    /// The background loops' part.
    pub fn background(&self) -> tenderflow_app::background::Polling {
        tenderflow_app::background::Polling {
            timers: std::time::Duration::from_millis(self.timer_poll_ms),
        }
    }
}

/// How logs are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

/// Logs to stderr; `default` is the filter when TENDERFLOW_LOG is unset.
pub fn init_logging(c: &Config, default: &str) {
    // TENDERFLOW_LOG takes tracing's filter syntax (`debug`, `tenderflow_app=debug,info`);
    // the default shows what an operator needs: start-up, alerts, warnings, errors.
    let filter = tracing_subscriber::EnvFilter::try_from_env("TENDERFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // Colour only on a terminal: log files get no escape codes.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    match c.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

impl Config {
    /// The red flags' thresholds: the defaults, with the `--red-flags` file's values.
    pub fn red_flag_thresholds(&self) -> anyhow::Result<tenderflow_core::red_flags::Thresholds> {
        let Some(path) = &self.red_flags else {
            return Ok(tenderflow_core::red_flags::Thresholds::default());
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--red-flags {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("--red-flags {}", path.display()))
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| sqlite_url(&self.data_dir.join("tenderflow.sqlite")))
    }

    /// The master key: `TENDERFLOW_MASTER_KEY`, or `<data-dir>/master.key`. Only `migrate`
    /// (`create`) makes a new key file; every other command refuses to start without the key,
    /// since a made-up key cannot open the sealed bids.
    pub fn master_key(&self, create: bool) -> anyhow::Result<MasterKey> {
        match &self.master_key {
            Some(hex) => MasterKey::from_hex(hex).context("TENDERFLOW_MASTER_KEY"),
            None if create => MasterKey::load_or_create(&self.data_dir.join("master.key"))
                .context("master key file"),
            None => Ok(MasterKey::load(&self.data_dir.join("master.key"))?),
        }
    }

    /// Opens the existing installation with the master key, on the system clock; refuses a
    /// missing SQLite file (a mistyped `--data-dir` must not start a new, empty installation)
    /// and a key that is not the database's.
    pub async fn app(&self) -> anyhow::Result<App> {
        App::open(self.installation(false)?, Arc::new(SystemClock))
            .await
            .with_context(|| format!("opening {}", redact(&self.database_url())))
    }

    /// The installation these options describe; with `create`, the master key file is made
    /// if missing and opening migrates the schema (`tenderflow migrate`). Without it, a
    /// missing SQLite file is refused.
    pub fn installation(&self, create: bool) -> anyhow::Result<Installation> {
        let url = self.database_url();
        if let Some(path) = sqlite_path(&url).filter(|_| !create) {
            if !path.exists() {
                anyhow::bail!(
                    "no database at {}: check --data-dir (TENDERFLOW_DATA_DIR) and TENDERFLOW_DATABASE_URL, or run `tenderflow migrate` to set up a new installation",
                    path.display()
                );
            }
        }
        let mut tuning = self.tuning.store();
        if create {
            tuning.schema = Schema::Migrate;
        }
        Ok(Installation {
            url,
            master_key: self.master_key(create)?,
            tuning,
            documents: self.documents()?,
        })
    }

    /// Creates the data directory, the master key file and the database if missing, and
    /// brings the schema up to date (`tenderflow migrate`).
    pub async fn setup(&self) -> anyhow::Result<App> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        App::open(self.installation(true)?, Arc::new(SystemClock))
            .await
            .with_context(|| format!("opening {}", redact(&self.database_url())))
    }

    /// Where `--documents` keeps documents' bytes.
    pub fn documents(&self) -> anyhow::Result<Documents> {
        let spec = self.documents.as_deref().unwrap_or("database").trim();
        if spec == "database" {
            return Ok(Documents::Database);
        }
        if let Some(dir) = spec.strip_prefix("dir:") {
            return Ok(Documents::Directory(self.data_dir.join(dir)));
        }
        if let Some(bucket) = spec.strip_prefix("s3://") {
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_bucket_name(bucket.trim_end_matches('/'))
                .build()
                .with_context(|| format!("--documents {spec} (see the AWS_* variables)"))?;
            return Ok(Documents::Objects(Arc::new(s3)));
        }
        anyhow::bail!("--documents {spec}: expected `database`, `dir:PATH` or `s3://BUCKET`")
    }

    /// How OCDS is published: from these options; each definition's `publication` wins.
    pub fn ocds_options(&self) -> tenderflow_core::ocds::Options {
        tenderflow_core::ocds::Options {
            ocid_prefix: self.ocid_prefix.clone(),
            currency: self.ocds_currency.clone(),
            buyer: self.ocds_buyer_id.clone().zip(self.ocds_buyer_name.clone()),
            publisher: self.ocds_publisher.clone(),
            uri: self.ocds_uri.clone(),
            ..tenderflow_core::ocds::Options::default()
        }
    }

    /// A dispatcher named `worker` with the configured transport, sender and tuning.
    pub fn dispatcher(
        &self,
        app: &App,
        worker: &str,
    ) -> anyhow::Result<tenderflow_notify::Dispatcher> {
        let t = &self.tuning;
        let mut d = app
            .dispatcher(self.transport()?, &self.mail_from, worker)?
            .with_concurrency(usize::try_from(t.mail_concurrency).unwrap_or(32))
            .with_lease(std::time::Duration::from_secs(t.mail_lease_secs))
            .with_poll(std::time::Duration::from_millis(t.mail_poll_ms))
            .with_public_url(self.public_url.as_deref());
        if let Some(dir) = &self.mail_templates {
            d = d.with_renderer(tenderflow_notify::Renderer::with_overrides(dir)?);
        }
        Ok(d)
    }

    pub fn transport(&self) -> anyhow::Result<Transport> {
        Ok(match &self.smtp_url {
            Some(url) => Transport::smtp(
                url,
                self.tuning.smtp_pool,
                std::time::Duration::from_secs(self.tuning.smtp_timeout_secs),
            )?,
            None => Transport::file(self.data_dir.join("mail"))?,
        })
    }
}

pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The file of an SQLite URL (`sqlite://PATH?…` or `sqlite:PATH`).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// The config file as arguments (ripgrep's approach): every key of the TOML file is the long
/// name of a global option (`database_url` is `--database-url`), inserted before the command
/// line's own arguments unless the option's `TENDERFLOW_*` variable is set. The parser then
/// applies one precedence for every option: flags, then variables, then the file, then the
/// defaults. An unknown key or a value of the wrong kind is a usage error naming the file.
pub fn file_args(
    args: Vec<std::ffi::OsString>,
    cmd: &clap::Command,
) -> anyhow::Result<Vec<std::ffi::OsString>> {
    let path = config_path(&args);
    let Some(path) = path else {
        return Ok(args);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    let table: toml::Table =
        toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
    let mut inserted = Vec::new();
    for (key, value) in table {
        let long = key.replace('_', "-");
        let arg = cmd
            .get_arguments()
            .find(|a| a.is_global_set() && a.get_long() == Some(long.as_str()) && long != "config")
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "config file {}: unknown key `{key}` (the keys are the global options' long names with _; see --help)",
                    path.display()
                )
            })?;
        if arg.get_env().is_some_and(|v| std::env::var_os(v).is_some()) {
            continue;
        }
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            other => anyhow::bail!(
                "config file {}: `{key}`: expected a string, number or boolean, found {}",
                path.display(),
                other.type_str()
            ),
        };
        inserted.push(std::ffi::OsString::from(format!("--{long}={text}")));
    }
    let mut out = Vec::with_capacity(args.len() + inserted.len());
    let mut rest = args.into_iter();
    out.extend(rest.next());
    out.extend(inserted);
    out.extend(rest);
    Ok(out)
}

/// The config file named by `--config PATH`, `--config=PATH` or `TENDERFLOW_CONFIG`.
fn config_path(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let a = a.to_string_lossy();
        if a == "--" {
            break;
        }
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("TENDERFLOW_CONFIG").map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    fn parse(file: &str, cli_args: &[&str]) -> anyhow::Result<Config> {
        let dir = std::env::temp_dir().join(format!("tenderflow-config-{}", uuid_free()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("tenderflow.toml");
        std::fs::write(&path, file)?;
        let mut args: Vec<std::ffi::OsString> = vec!["tenderflow".into(), "--config".into()];
        args.push(path.clone().into());
        args.extend(cli_args.iter().map(Into::into));
        let command = crate::Cli::command().args_override_self(true);
        let args = file_args(args, &command);
        let _ = std::fs::remove_dir_all(&dir);
        let matches = command.try_get_matches_from(args?)?;
        Ok(crate::Cli::from_arg_matches(&matches)?.config)
    }

    fn uuid_free() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    }

    #[test]
    fn the_file_sets_any_global_option_and_flags_win() {
        let c = parse(
            "ocid_prefix = \"ocds-file\"\npg_pool = 7\nmail_poll_ms = 500\nlog_format = \"json\"\n",
            &["--pg-pool", "9", "migrate"],
        )
        .expect("parse");
        assert_eq!(c.ocid_prefix, "ocds-file");
        assert_eq!(c.tuning.pg_pool, 9, "the flag wins over the file");
        assert_eq!(c.tuning.mail_poll_ms, 500);
        assert!(matches!(c.log_format, LogFormat::Json));
        assert_eq!(c.tuning.store().max_connections, 9);
    }

    #[test]
    fn red_flag_thresholds_come_from_their_file() {
        let dir = std::env::temp_dir().join(format!("tenderflow-flags-{}", uuid_free()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("flags.json");
        std::fs::write(&good, r#"{"minBids": 5, "lastHourShare": 40}"#).expect("write");
        let c = parse(
            "",
            &["--red-flags", good.to_str().expect("utf-8"), "migrate"],
        )
        .expect("parse");
        let t = c.red_flag_thresholds().expect("thresholds");
        assert_eq!((t.min_bids, t.last_hour_share), (5, 40));
        assert_eq!(t.rotation_min_tenders, 3, "the rest keep their defaults");
        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"minBid": 5}"#).expect("write");
        let c = parse(
            "",
            &["--red-flags", bad.to_str().expect("utf-8"), "migrate"],
        )
        .expect("parse");
        let e = c.red_flag_thresholds().expect_err("a misspelt key");
        assert!(format!("{e:#}").contains("minBid"), "{e:#}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        let e = parse("no_such_option = 1\n", &["migrate"]).expect_err("unknown key");
        assert!(
            e.to_string().contains("unknown key `no_such_option`"),
            "{e}"
        );
        let e = parse("pg_pool = 0\n", &["migrate"]).expect_err("out of range");
        assert!(e.to_string().contains("pg-pool"), "{e}");
        let e = parse("ocid_prefix = [1]\n", &["migrate"]).expect_err("array");
        assert!(e.to_string().contains("found array"), "{e}");
    }
}
