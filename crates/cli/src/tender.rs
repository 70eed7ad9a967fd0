//! `tenderflow tender`: list, show, create and act on tenders from the command line, as an
//! existing account.

use crate::config::Config;
use clap::Subcommand;
use std::process::ExitCode;

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
    /// Upload a file for a tender as an account and print its description (JSON), which a
    /// command's `documents` then references: staff upload tender documents, a bidder its
    /// bid's (sealed until opening). With `--amend TEXT`, staff publish it at once in an
    /// amendment.
    Attach {
        /// Tender id.
        tender: String,
        /// The file.
        file: std::path::PathBuf,
        /// The account acting.
        #[arg(long = "as")]
        actor: String,
        /// Media type (default: from the file name's extension).
        #[arg(long = "type")]
        media_type: Option<String>,
        /// File name to record (default: the file's own).
        #[arg(long)]
        name: Option<String>,
        /// Publish it in an amendment with this text (staff).
        #[arg(long)]
        amend: Option<String>,
        /// The document it replaces (with --amend): the old one stays, marked superseded.
        #[arg(long)]
        replaces: Option<String>,
        /// A bidder's document: the bid form's slot it fills (e.g. servicePlan).
        #[arg(long)]
        slot: Option<String>,
    },
    /// Download a document as an account (to `--output`, or standard output).
    Download {
        /// Tender id.
        tender: String,
        /// Document id.
        document: String,
        /// The account acting.
        #[arg(long = "as")]
        actor: String,
        /// Where to write it (default: standard output). Written whole or not at all.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
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
    /// Print a tender's event log (sealed bids stay sealed until the opening), with times in
    /// the definition's time zone.
    Events {
        /// Tender id.
        tender: String,
        /// JSON instead of lines (times as RFC 3339).
        #[arg(long)]
        json: bool,
    },
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
            let staff = tenderflow_core::Actor::new("admin", tenderflow_core::Role::STAFF.as_str())
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
            let result = store
                .create_tender(
                    &workflow,
                    &id,
                    &format!("cli:{}:create:{id}", now_ms()),
                    &actor,
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
                        println!("{seq:>4} {}", e.body.kind());
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
        TenderCmd::Attach {
            tender,
            file,
            actor,
            media_type,
            name,
            amend,
            replaces,
            slot,
        } => {
            return crate::documents::attach(
                store,
                crate::documents::Attach {
                    tender,
                    file,
                    actor,
                    media_type,
                    name,
                    amend,
                    replaces,
                    slot,
                },
            )
            .await;
        }
        TenderCmd::Download {
            tender,
            document,
            actor,
            output,
        } => {
            return crate::documents::download(store, &tender, &document, &actor, output).await;
        }
        TenderCmd::Records { tender } => {
            let (wf, t) = store.load(&tender).await?;
            let mut records = tenderflow_core::records::records(&wf, &t);
            records["chainHead"] = serde_json::json!(store.chain_head(&tender).await?);
            println!("{}", serde_json::to_string_pretty(&records)?);
        }
        TenderCmd::Events { tender, json } => {
            let (wf, t) = store.load(&tender).await?;
            let mut listed = Vec::new();
            for row in store.event_rows(&tender).await? {
                // Sealed bids stay sealed in this listing until the tender is opened.
                let sealed = tenderflow_core::definition::EventName::parse(&row.kind)
                    .is_some_and(tenderflow_core::definition::EventName::is_sealed);
                let payload: serde_json::Value = if sealed && !t.opened() {
                    serde_json::json!({ "sealed": "…" })
                } else if !tenderflow_core::view::audit_payload_visible(&t, &row.kind) {
                    tenderflow_core::view::withheld_payload(&row.kind)
                } else {
                    serde_json::from_str(&row.payload).unwrap_or(serde_json::Value::Null)
                };
                let at = tenderflow_core::Timestamp::from_unix_millis(row.at_ms);
                if json {
                    listed.push(serde_json::json!({
                        "seq": row.seq, "at": at, "type": row.kind,
                        "actor": { "id": row.actor_id, "role": row.actor_role },
                        "payload": payload,
                    }));
                    continue;
                }
                let when = at.map_or_else(
                    || row.at_ms.to_string(),
                    |a| tenderflow_notify::render::local_time(&wf, a),
                );
                println!(
                    "{:>4} {} {:<22} {}/{} {}",
                    row.seq, when, row.kind, row.actor_role, row.actor_id, payload
                );
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&listed)?);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn now_ms() -> i64 {
    now().unix_millis()
}

/// The CLI's clock (the system's).
pub(crate) fn now() -> tenderflow_core::Timestamp {
    use tenderflow_store::clock::Clock;
    tenderflow_store::clock::SystemClock.now()
}

/// The actor of an existing account.
pub(crate) async fn acting(
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
