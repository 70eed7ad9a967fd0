//! `tenderflow tender`: list, show, create and act on tenders from the command line, as an
//! existing account.

use crate::config::Config;
use crate::refused;
use clap::Subcommand;
use std::process::ExitCode;
use tenderflow_app::Caller;
use tenderflow_app::commands::Submission;
use tenderflow_app::views::TenderFilter;

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
    let app = config.app().await?;
    let operator = Caller::operator();
    match cmd {
        TenderCmd::List { json } => {
            // Every tender, a page at a time.
            let mut all = Vec::new();
            let mut filter = TenderFilter {
                limit: Some(1000),
                ..TenderFilter::default()
            };
            loop {
                let page = app.tenders(&operator, &filter).await?;
                all.extend(page.items);
                match page.next {
                    Some(next) => filter.after = Some(next),
                    None => break,
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(ExitCode::SUCCESS);
            }
            println!("{:<20} {:<20} {:>6}  deadline", "tender", "state", "events");
            for t in all {
                println!(
                    "{:<20} {:<20} {:>6}  {}",
                    t.id,
                    t.state,
                    t.events.unwrap_or_default(),
                    t.deadline
                        .map_or_else(|| "-".to_owned(), |d| d.to_rfc3339())
                );
            }
        }
        TenderCmd::Show { tender } => {
            let v = app.tender_view(&operator, &tender).await?;
            println!("{}", serde_json::to_string_pretty(&v.view)?);
        }
        TenderCmd::Create {
            id,
            workflow,
            actor,
        } => {
            crate::workflow::register_shipped(&app).await?;
            let caller = app.acting_as(&operator, &actor).await?;
            match app.create_tender(&caller, &workflow, &id, None).await {
                Ok(done) => println!("tender {id} created; state {}", done.state),
                Err(e) => return refused(e),
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
            let caller = app.acting_as(&operator, &actor).await?;
            let submission = Submission {
                tender_id: tender.clone(),
                body,
                key,
                if_match: None,
            };
            match app.execute(&caller, submission).await {
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
                Err(e) => return refused(e),
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
                &app,
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
            return crate::documents::download(&app, &tender, &document, &actor, output).await;
        }
        TenderCmd::Records { tender } => {
            let records = app.records(&operator, &tender).await?;
            println!("{}", serde_json::to_string_pretty(&records)?);
        }
        TenderCmd::Events { tender, json } => {
            let (wf, _) = app.readable(&operator, &tender).await?;
            let mut listed = Vec::new();
            let mut after = None;
            loop {
                let page = app.audit_trail(&operator, &tender, after, None).await?;
                listed.extend(page.items);
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&listed)?);
                return Ok(ExitCode::SUCCESS);
            }
            for e in listed {
                let when = e.at.map_or_else(
                    || "-".to_owned(),
                    |a| tenderflow_notify::render::local_time(&wf, a),
                );
                println!(
                    "{:>4} {} {:<22} {}/{} {}",
                    e.seq, when, e.kind, e.actor.role, e.actor.id, e.payload
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
