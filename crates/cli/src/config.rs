//! Configuration: flags, environment variables, and embedded defaults (an SQLite file and
//! file-transport mail in ./tenderflow-data).

use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tenderflow_notify::Transport;
use tenderflow_store::Store;
use tenderflow_store::crypto::MasterKey;

/// Options shared by every command. Precedence: flags, then `TENDERFLOW_*` variables, then
/// the config file, then the defaults.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// A TOML config file with any of: data_dir, database_url, smtp_url, mail_from,
    /// master_key, log_format, ocid_prefix, ocds_publisher, ocds_uri, ocds_buyer_id,
    /// ocds_buyer_name, ocds_currency.
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
    #[arg(long, global = true, env = "TENDERFLOW_DATABASE_URL")]
    pub database_url: Option<String>,
    /// SMTP URL (default: write .eml files to <data-dir>/mail); e.g.
    /// smtp://user:pass@host:587?tls=required.
    #[arg(long, global = true, env = "TENDERFLOW_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Sender address of outgoing mail.
    #[arg(
        long,
        global = true,
        env = "TENDERFLOW_MAIL_FROM",
        default_value = "Tenderflow <noreply@tenderflow.example>"
    )]
    pub mail_from: String,
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
    // TENDERFLOW_LOG takes tracing's filter syntax (`debug`, `tenderflow_store=debug,info`);
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

    /// Opens the existing database with the master key; refuses a missing SQLite file (a
    /// mistyped `--data-dir` must not start a new, empty installation) and a key that is not
    /// the database's.
    pub async fn store(&self) -> anyhow::Result<Arc<Store>> {
        self.store_on(Arc::new(tenderflow_store::clock::SystemClock))
            .await
    }

    /// [`Config::store`] on `clock`, the process's one clock.
    pub async fn store_on(
        &self,
        clock: Arc<dyn tenderflow_store::clock::Clock>,
    ) -> anyhow::Result<Arc<Store>> {
        let url = self.database_url();
        if let Some(path) = sqlite_path(&url) {
            if !path.exists() {
                anyhow::bail!(
                    "no database at {}: check --data-dir (TENDERFLOW_DATA_DIR) and TENDERFLOW_DATABASE_URL, or run `tenderflow migrate` to set up a new installation",
                    path.display()
                );
            }
        }
        self.connect(&url, false, clock).await
    }

    /// Creates the data directory, the master key file and the database if missing, and
    /// brings the schema up to date (`tenderflow migrate`).
    pub async fn setup_store(&self) -> anyhow::Result<Arc<Store>> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let clock = Arc::new(tenderflow_store::clock::SystemClock);
        self.connect(&self.database_url(), true, clock).await
    }

    async fn connect(
        &self,
        url: &str,
        create: bool,
        clock: Arc<dyn tenderflow_store::clock::Clock>,
    ) -> anyhow::Result<Arc<Store>> {
        let tuning = tenderflow_store::Tuning::default();
        let store = Store::connect_with(url, self.master_key(create)?, clock, tuning)
            .await
            .with_context(|| format!("opening {}", redact(url)))?;
        Ok(Arc::new(store))
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

    pub fn transport(&self) -> anyhow::Result<Transport> {
        Ok(match &self.smtp_url {
            Some(url) => Transport::smtp(url, 32, std::time::Duration::from_secs(30))?,
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

/// The keys a config file may set.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    master_key: Option<String>,
    log_format: Option<String>,
    ocid_prefix: Option<String>,
    ocds_publisher: Option<String>,
    ocds_uri: Option<String>,
    ocds_buyer_id: Option<String>,
    ocds_buyer_name: Option<String>,
    ocds_currency: Option<String>,
}

/// Fills in from the config file what neither a flag nor a variable set.
pub fn apply_file(c: &mut Config, matches: &clap::ArgMatches) -> anyhow::Result<()> {
    let Some(path) = c.config_file.clone() else {
        return Ok(());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading config file {}", path.display()))?;
    let file: FileConfig =
        toml::from_str(&text).with_context(|| format!("config file {}", path.display()))?;
    let unset = |id: &str| {
        matches!(
            matches.value_source(id),
            None | Some(clap::parser::ValueSource::DefaultValue)
        )
    };
    if let (Some(v), true) = (file.data_dir, unset("data_dir")) {
        c.data_dir = v;
    }
    if let (Some(v), true) = (file.database_url, unset("database_url")) {
        c.database_url = Some(v);
    }
    if let (Some(v), true) = (file.smtp_url, unset("smtp_url")) {
        c.smtp_url = Some(v);
    }
    if let (Some(v), true) = (file.mail_from, unset("mail_from")) {
        c.mail_from = v;
    }
    if let (Some(v), true) = (file.master_key, unset("master_key")) {
        c.master_key = Some(v);
    }
    if let (Some(v), true) = (file.ocid_prefix, unset("ocid_prefix")) {
        c.ocid_prefix = v;
    }
    if let (Some(v), true) = (file.ocds_publisher, unset("ocds_publisher")) {
        c.ocds_publisher = v;
    }
    if let (Some(v), true) = (file.ocds_uri, unset("ocds_uri")) {
        c.ocds_uri = v;
    }
    if let (Some(v), true) = (file.ocds_buyer_id, unset("ocds_buyer_id")) {
        c.ocds_buyer_id = Some(v);
    }
    if let (Some(v), true) = (file.ocds_buyer_name, unset("ocds_buyer_name")) {
        c.ocds_buyer_name = Some(v);
    }
    if let (Some(v), true) = (file.ocds_currency, unset("ocds_currency")) {
        c.ocds_currency = Some(v);
    }
    if c.ocds_buyer_id.is_some() != c.ocds_buyer_name.is_some() {
        anyhow::bail!("ocds_buyer_id and ocds_buyer_name go together");
    }
    if let (Some(v), true) = (file.log_format, unset("log_format")) {
        c.log_format = match v.as_str() {
            "json" => LogFormat::Json,
            "text" => LogFormat::Text,
            other => anyhow::bail!(
                "config file {}: log_format `{other}`: expected text or json",
                path.display()
            ),
        };
    }
    Ok(())
}
