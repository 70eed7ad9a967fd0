//! The background queues: `tenderflow outbox` (list, resend), `tenderflow timers stuck`, and
//! `tenderflow worker`, which fires timers and delivers mail until Ctrl-C.

use crate::config::Config;
use clap::Subcommand;
use std::process::ExitCode;
use tenderflow_app::{App, Caller, OutboxStatus};

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// List outbox messages.
    List {
        /// pending, sent or dead.
        #[arg(long)]
        status: Option<OutboxStatus>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Queue a dead letter again.
    Resend {
        /// Outbox id.
        id: i64,
    },
}

/// Deadlines that could not fire.
#[derive(Debug, clap::Subcommand)]
pub enum TimersCmd {
    /// List timers that failed to fire (with their failures and last error); exits 1 when
    /// there are any, so monitoring can alert on it.
    Stuck {
        /// JSON instead of lines (times as RFC 3339).
        #[arg(long)]
        json: bool,
    },
}

pub async fn timers(config: &Config, cmd: TimersCmd) -> anyhow::Result<ExitCode> {
    let app = config.app().await?;
    let TimersCmd::Stuck { json } = cmd;
    let stuck = app.stuck_timers(&Caller::operator()).await?;
    let time = |ms: i64| tenderflow_core::Timestamp::from_unix_millis(ms);
    if json {
        let rows: Vec<serde_json::Value> = stuck
            .iter()
            .map(|t| {
                serde_json::json!({
                    "tender": t.tender_id, "kind": t.kind, "due": time(t.due_ms),
                    "failures": t.failures, "lastError": t.last_error,
                    "retryAfter": t.claimed_until_ms.and_then(time),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    for t in stuck.iter().filter(|_| !json) {
        println!(
            "{:<24} {:<16} due {} failures {} retry after {} — {}",
            t.tender_id,
            t.kind,
            tenderflow_core::Timestamp::from_unix_millis(t.due_ms)
                .map_or_else(|| t.due_ms.to_string(), |d| d.to_string()),
            t.failures,
            t.claimed_until_ms
                .and_then(tenderflow_core::Timestamp::from_unix_millis)
                .map_or_else(String::new, |d| d.to_string()),
            t.last_error.as_deref().unwrap_or("")
        );
    }
    if stuck.is_empty() {
        if !json {
            println!("no stuck timers");
        }
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

/// Every outbox message (with `status`, or all), read a page at a time.
pub async fn all_outbox(
    app: &App,
    status: Option<OutboxStatus>,
) -> anyhow::Result<Vec<tenderflow_app::OutboxRow>> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = app
            .outbox(&Caller::operator(), status, after, Some(1000))
            .await?;
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

pub async fn outbox(config: &Config, cmd: OutboxCmd) -> anyhow::Result<ExitCode> {
    let app = config.app().await?;
    let operator = Caller::operator();
    match cmd {
        OutboxCmd::List { status, json } => {
            let all = all_outbox(&app, status).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(ExitCode::SUCCESS);
            }
            for r in all {
                println!(
                    "{:>6} {:<8} {:<24} {:<14} tender {} event {} attempts {} {}",
                    r.id,
                    r.status,
                    r.message,
                    r.recipient_id,
                    r.tender_id,
                    r.event_seq,
                    r.attempts,
                    r.last_error.unwrap_or_default()
                );
            }
        }
        OutboxCmd::Resend { id } => {
            app.resend(&operator, id).await?;
            println!("message {id} queued again");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Fires due timers and delivers the outbox until Ctrl-C.
pub async fn worker(config: &Config) -> anyhow::Result<ExitCode> {
    let app = config.app().await?;
    let name = format!("worker-{}", std::process::id());
    let dispatcher = config.dispatcher(&app, &name)?;
    println!("worker {name}: firing timers and delivering mail; Ctrl-C or SIGTERM stops");
    let polling = config.tuning.background();
    crate::signals::notify_ready();
    tenderflow_app::background::run(
        &app,
        Some(&dispatcher),
        &name,
        polling,
        crate::signals::shutdown(),
    )
    .await;
    crate::signals::notify_stopping();
    Ok(ExitCode::SUCCESS)
}
