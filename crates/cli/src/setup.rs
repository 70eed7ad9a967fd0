//! `tenderflow migrate`: the one command that sets up a data directory, a master key and a
//! database, or brings the schema up to date.

use crate::config::Config;
use std::process::ExitCode;

pub async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    // Connecting applies every pending migration.
    config.setup().await?;
    println!(
        "database {} is up to date",
        crate::config::redact(&config.database_url())
    );
    Ok(ExitCode::SUCCESS)
}
