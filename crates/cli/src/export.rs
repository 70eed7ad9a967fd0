//! `tenderflow export ocds`: an OCDS 1.1 release package of the public events.

use crate::config::Config;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ExportCmd {
    /// Write an OCDS 1.1 release package: one release per public event.
    Ocds {
        /// Only this tender.
        #[arg(long)]
        tender: Option<String>,
        /// Only releases at or after this RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

pub async fn export(config: &Config, cmd: ExportCmd) -> anyhow::Result<ExitCode> {
    let ExportCmd::Ocds { tender, since, out } = cmd;
    let since = match since {
        Some(s) => Some(
            tenderflow_core::Timestamp::parse(&s)
                .ok_or_else(|| anyhow::anyhow!("--since {s}: expected RFC 3339"))?,
        ),
        None => None,
    };
    let app = config.app().await?.with_ocds(config.ocds_options());
    let releases = app.ocds_releases(tender.as_deref(), since).await?;
    let tenders: std::collections::BTreeSet<&str> =
        releases.iter().filter_map(|r| r["ocid"].as_str()).collect();
    let (n, t) = (releases.len(), tenders.len());
    let pkg = app.ocds_package(releases);
    let text = serde_json::to_string_pretty(&pkg)?;
    match out {
        Some(path) => {
            std::fs::write(&path, text)?;
            eprintln!(
                "{n} releases of {t} tender(s) written to {}",
                path.display()
            );
        }
        None => println!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
