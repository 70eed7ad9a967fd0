//! `tenderflow audit verify`: check every tender's keyed chain and projection, and the
//! database against chain heads published earlier (`--against`).

use crate::config::Config;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Recompute every hash chain (or one tender's) and name the first altered, deleted,
    /// inserted or reordered event. Exits non-zero if any chain is broken.
    Verify {
        /// Only this tender.
        tender: Option<String>,
        /// Also check against chain heads published earlier: any JSON file holding
        /// `tenderflowChainHead` or `chainHead` objects ({tender, seq, hash}), such as an OCDS
        /// export or the records an inspector signed.
        #[arg(long, value_name = "FILE")]
        against: Option<std::path::PathBuf>,
    },
}

/// Every `{tender, seq, hash}` under a `tenderflowChainHead` or `chainHead` key.
fn published_heads(v: &serde_json::Value, out: &mut Vec<tenderflow_app::PublishedHead>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, child) in map {
                if k == "tenderflowChainHead" || k == "chainHead" {
                    if let Ok(h) = serde_json::from_value(child.clone()) {
                        out.push(h);
                        continue;
                    }
                }
                published_heads(child, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| published_heads(i, out)),
        _ => {}
    }
}

pub async fn audit(config: &Config, cmd: AuditCmd) -> anyhow::Result<ExitCode> {
    let AuditCmd::Verify { tender, against } = cmd;
    let app = config.app().await?;
    let operator = tenderflow_app::Caller::operator();
    let mut reports = app.verify(&operator, tender.as_deref()).await?.tenders;
    if let Some(path) = against {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("{} is not JSON: {e}", path.display()))?;
        let mut heads = Vec::new();
        published_heads(&json, &mut heads);
        heads.retain(|h| tender.as_ref().is_none_or(|t| *t == h.tender));
        if heads.is_empty() {
            anyhow::bail!(
                "{} holds no chain heads (tenderflowChainHead or chainHead objects)",
                path.display()
            );
        }
        println!("{} published head(s) in {}", heads.len(), path.display());
        reports = app.verify_against(&operator, &heads).await?.tenders;
    }
    let mut broken = 0;
    for r in &reports {
        match &r.problem {
            None => println!("{}: {} events, chain intact", r.tender_id, r.events),
            Some(p) => {
                broken += 1;
                println!("{}: BROKEN: {}", r.tender_id, serde_json::to_string(p)?);
            }
        }
    }
    println!("{} tender(s) checked, {broken} broken", reports.len());
    // Uploads by state: `attached` ones were read and checked with their events above.
    let census = app.document_census(&operator).await?;
    println!(
        "documents: {} referenced by events (checked), {} uploaded and not used yet, {} uploads cut off before their end (never acknowledged; removed after an hour), {} stored bytes with no record",
        census.attached, census.stored, census.partial, census.unrecorded
    );
    if census.unrecorded > 0 {
        broken += 1;
    }
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
