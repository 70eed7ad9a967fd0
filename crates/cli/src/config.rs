//! Configuration: flags, environment variables, and embedded defaults (an SQLite file and
//! file-transport mail in ./tenderflow-data).

use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tenderflow_notify::Transport;
use tenderflow_store::Store;
use tenderflow_store::crypto::MasterKey;

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct Config {
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
}

/// How logs are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable.
    Text,
    /// One JSON object per line.
    Json,
}

pub fn init_logging(c: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TENDERFLOW_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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

    pub fn master_key(&self) -> anyhow::Result<MasterKey> {
        match &self.master_key {
            Some(hex) => MasterKey::from_hex(hex).context("TENDERFLOW_MASTER_KEY"),
            None => MasterKey::load_or_create(&self.data_dir.join("master.key"))
                .context("master key file"),
        }
    }

    pub async fn store(&self) -> anyhow::Result<Arc<Store>> {
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("creating {}", self.data_dir.display()))?;
        let url = self.database_url();
        let store = Store::connect(&url, self.master_key()?)
            .await
            .with_context(|| format!("opening {}", redact(&url)))?;
        Ok(Arc::new(store))
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
