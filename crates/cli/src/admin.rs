//! Administration commands: migrate, accounts, audit, tenders, outbox, the worker loop.

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

#[derive(Debug, Subcommand)]
pub enum TenderCmd {
    /// List tenders with their state.
    List {
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a tender from a workflow (id or SHA-256) as a staff account.
    Create {
        /// The new tender's id.
        #[arg(long)]
        id: String,
        /// Workflow id (shipped ones: partner-recruitment, open-tender-prc, …) or SHA-256.
        #[arg(long)]
        workflow: String,
        /// The staff account acting.
        #[arg(long = "as")]
        actor: String,
    },
    /// Run a command on a tender as an account, e.g.
    /// `tenderflow tender run T-1 --as staff-zhang '{"command": "open_bids"}'`.
    /// The command JSON is the API's; the definition decides whether the account may.
    Run {
        /// Tender id.
        tender: String,
        /// The account acting.
        #[arg(long = "as")]
        actor: String,
        /// The command as JSON (or `-` to read it from standard input).
        command: String,
        /// Idempotency key (default: a new one each call).
        #[arg(long)]
        key: Option<String>,
    },
    /// Show a tender as staff see it (JSON).
    Show {
        /// Tender id.
        tender: String,
    },
    /// Print a tender's records (receipt log, opening record, objections, evaluation report,
    /// publicity notice, supervision record) as JSON.
    Records {
        /// Tender id.
        tender: String,
    },
    /// Print a tender's event log (bids decrypted only after opening).
    Events {
        /// Tender id.
        tender: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OutboxCmd {
    /// List outbox messages.
    List {
        /// pending, sent or dead.
        #[arg(long)]
        status: Option<tenderflow_store::OutboxStatus>,
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
    Stuck,
}

pub async fn timers(config: &Config, cmd: TimersCmd) -> anyhow::Result<ExitCode> {
    let store = config.store().await?;
    let TimersCmd::Stuck = cmd;
    let stuck = store.stuck_timers().await?;
    for t in &stuck {
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
        println!("no stuck timers");
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

pub async fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    // Connecting applies every pending migration.
    config.setup_store().await?;
    println!(
        "database {} is up to date",
        crate::config::redact(&config.database_url())
    );
    Ok(ExitCode::SUCCESS)
}

/// Every `{tender, seq, hash}` under a `tenderflowChainHead` or `chainHead` key.
fn published_heads(v: &serde_json::Value, out: &mut Vec<tenderflow_store::PublishedHead>) {
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
    let store = config.store().await?;
    let mut reports = store.verify(tender.as_deref()).await?;
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
        reports = store.verify_against(&heads).await?;
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
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

pub async fn tender(config: &Config, cmd: TenderCmd) -> anyhow::Result<ExitCode> {
    let store = config.store().await?;
    match cmd {
        TenderCmd::List { json } => {
            if json {
                println!("{}", serde_json::to_string_pretty(&store.tenders().await?)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<20} {:<20} {:>6}  workflow", "tender", "state", "events");
            for t in store.tenders().await? {
                println!(
                    "{:<20} {:<20} {:>6}  {}",
                    t.tender_id,
                    t.state,
                    t.seq,
                    &t.workflow_sha256[..12]
                );
            }
        }
        TenderCmd::Show { tender } => {
            let (wf, t) = store.load(&tender).await?;
            let staff = tenderflow_core::Actor::new("admin", "staff")
                .ok_or_else(|| anyhow::anyhow!("actor"))?;
            let mut v = tenderflow_core::view(&wf, &t, &staff);
            v["obligations"] =
                serde_json::json!(tenderflow_core::obligations::obligations(&wf, &t, now()));
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        TenderCmd::Create {
            id,
            workflow,
            actor,
        } => {
            crate::workflow::register_shipped(&store).await?;
            let actor = acting(&store, &actor).await?;
            let cmd = tenderflow_core::Command {
                actor,
                body: tenderflow_core::CommandBody::CreateDraft {
                    tender_id: id.clone(),
                },
            };
            let result = store
                .create_tender(
                    &workflow,
                    &format!("cli:{}:create:{id}", now_ms()),
                    &cmd,
                    now(),
                )
                .await;
            match result {
                Ok(done) => println!("tender {id} created; state {}", done.state),
                // A refusal by a rule exits 3, as for `tender run`.
                Err(tenderflow_store::StoreError::Rejected(r)) => {
                    eprintln!("refused [{}]: {}", r.code, r.message);
                    return Ok(ExitCode::from(3));
                }
                Err(e) => return Err(e.into()),
            }
        }
        TenderCmd::Run {
            tender,
            actor,
            command,
            key,
        } => {
            let text = if command == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                command
            };
            let body: tenderflow_core::CommandBody = serde_json::from_str(&text)
                .map_err(|e| anyhow::anyhow!("the command JSON: {e}"))?;
            let actor = acting(&store, &actor).await?;
            let id = key.unwrap_or_else(|| format!("cli:{}:{}", actor.id, now_ms()));
            let cmd = tenderflow_core::Command { actor, body };
            match store.execute(&tender, &id, &cmd, now()).await {
                Ok(done) => {
                    for (seq, e) in &done.events {
                        println!(
                            "{seq:>4} {}",
                            e.body.name().map_or("state_entered", |n| n.as_str())
                        );
                    }
                    println!(
                        "tender {tender} is now `{}`{}",
                        done.state,
                        if done.repeated {
                            " (repeated command: nothing new)"
                        } else {
                            ""
                        }
                    );
                }
                Err(tenderflow_store::StoreError::Rejected(r)) => {
                    eprintln!("refused [{}]: {}", r.code, r.message);
                    return Ok(ExitCode::from(3));
                }
                Err(e) => return Err(e.into()),
            }
        }
        TenderCmd::Records { tender } => {
            let (wf, t) = store.load(&tender).await?;
            let mut records = tenderflow_core::records::records(&wf, &t);
            records["chainHead"] = serde_json::json!(store.chain_head(&tender).await?);
            println!("{}", serde_json::to_string_pretty(&records)?);
        }
        TenderCmd::Events { tender } => {
            let (_, t) = store.load(&tender).await?;
            for row in store.event_rows(&tender).await? {
                // Sealed bids stay sealed in this listing until the tender is opened.
                let payload = if row.payload.contains("\"sealed\"") && !t.opened() {
                    "{\"sealed\": \"…\"}".to_owned()
                } else if !tenderflow_core::view::audit_payload_visible(&t, &row.kind) {
                    tenderflow_core::view::withheld_payload(&row.kind).to_string()
                } else {
                    row.payload.clone()
                };
                println!(
                    "{:>4} {} {:<22} {}/{} {}",
                    row.seq, row.at_ms, row.kind, row.actor_role, row.actor_id, payload
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn outbox(config: &Config, cmd: OutboxCmd) -> anyhow::Result<ExitCode> {
    let store = config.store().await?;
    match cmd {
        OutboxCmd::List { status, json } => {
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&store.outbox(status).await?)?
                );
                return Ok(ExitCode::SUCCESS);
            }
            for r in store.outbox(status).await? {
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
            if store.resend(id).await? {
                println!("message {id} queued again");
            } else {
                anyhow::bail!("message {id} is not a dead letter");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn now_ms() -> i64 {
    now().unix_millis()
}

/// Fires due timers and delivers the outbox until Ctrl-C.
pub async fn worker(config: &Config) -> anyhow::Result<ExitCode> {
    let store = config.store().await?;
    let name = format!("worker-{}", std::process::id());
    let dispatcher = tenderflow_notify::Dispatcher::new(
        store.clone(),
        config.transport()?,
        &config.mail_from,
        &name,
    )?;
    let app = tenderflow_app::App::new(store);
    println!("worker {name}: firing timers and delivering mail; Ctrl-C stops");
    tenderflow_app::background::run(&app, Some(&dispatcher), &name, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await;
    Ok(ExitCode::SUCCESS)
}

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
    let app = tenderflow_app::App::new(config.store().await?).with_ocds(config.ocds_options());
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

/// The CLI's clock (the system's).
fn now() -> tenderflow_core::Timestamp {
    use tenderflow_store::clock::Clock;
    tenderflow_store::clock::SystemClock.now()
}

/// The actor of an existing account.
async fn acting(
    store: &tenderflow_store::Store,
    id: &str,
) -> anyhow::Result<tenderflow_core::Actor> {
    let account = store
        .account(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no account `{id}` (tenderflow account create …)"))?;
    tenderflow_core::Actor::new(&account.id, &account.role)
        .ok_or_else(|| anyhow::anyhow!("account id `{id}` is not a valid actor id"))
}
