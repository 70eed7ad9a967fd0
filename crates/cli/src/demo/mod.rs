//! `tenderflow demo`: the seed case end to end — a union's workers' service centre recruits
//! partner organisations under a discipline inspector's eyes — on an embedded SQLite database,
//! with a simulated clock that jumps over the deadlines and email written as .eml files.

use crate::config::{Config, sqlite_url};
use crate::workflow::SHIPPED;
use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tenderflow_app::administration::NewAccount;
use tenderflow_app::commands::Submission;
use tenderflow_app::installation::{
    Clock, Documents, Installation, ManualClock, MasterKey, SystemClock, Tuning, wall_ms,
};
use tenderflow_app::{Account, App, AppError, Caller, OutboxStatus};
use tenderflow_core::scenario::{self, Input, Params};
use tenderflow_core::{Role, Timestamp};
use tenderflow_notify::Dispatcher;

mod documents;
mod narration;

use narration::*;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of bidders.
    #[arg(long, default_value_t = 18, value_parser = clap::value_parser!(u32).range(1..=500))]
    bidders: u32,
    /// Number of partners to select (changes the definition's winners per lot).
    #[arg(long)]
    winners: Option<u32>,
    /// Number of evaluators on the committee.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=99))]
    evaluators: u32,
    /// Workflow: a shipped one (partner-recruitment, open-tender-prc, gov-procurement-prc,
    /// open-procedure-eu) or a definition file.
    #[arg(long, default_value = "partner-recruitment")]
    workflow: String,
    /// Seed of the generated bids and scores.
    #[arg(long, default_value_t = 2021)]
    seed: u64,
    /// Where to keep the demo's database and mail (default: a new directory under the data
    /// directory). Must be empty or not exist.
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub async fn run(config: &Config, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => config
            .data_dir
            .join(format!("demo-{}", SystemClock.now().unix_millis())),
    };
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        bail!(
            "{} is not empty; give --dir a new or empty directory",
            dir.display()
        );
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let master = MasterKey::load_or_create(&dir.join("master.key"))?;
    // The one clock of the demo follows the script: commands, timers and mail all read it.
    let clock = Arc::new(ManualClock::new(Timestamp::EPOCH));
    let app = App::open_on_manual_clock(
        Installation {
            url: sqlite_url(&dir.join("tenderflow.sqlite")),
            master_key: master,
            tuning: Tuning::default(),
            documents: Documents::Database,
        },
        clock.clone(),
    )
    .await?;
    let operator = Caller::operator();
    // The global mail options hold here too (an SMTP server, the sender, the public URL the
    // links point at, templates); without an SMTP URL the mail is written into the demo's
    // directory, and without a sender the union's recruitment team sends it.
    let mail_dir = dir.join("mail");
    let mut mail = config.clone();
    mail.data_dir = dir.clone();
    if mail.mail_from == crate::config::DEFAULT_MAIL_FROM {
        mail.mail_from = "浙江省职工服务中心招募工作组 <recruitment@union.example>".to_owned();
    }
    let dispatcher = mail.dispatcher(&app, "demo")?;

    // The definition, possibly with another number of winners.
    let (name, bytes) = match SHIPPED
        .iter()
        .find(|(n, _)| n.trim_end_matches(".json") == args.workflow)
    {
        Some((n, b)) => ((*n).to_owned(), b.to_vec()),
        None => {
            let b = std::fs::read(&args.workflow)
                .with_context(|| format!("reading workflow {}", args.workflow))?;
            (args.workflow.clone(), b)
        }
    };
    let bytes = match args.winners {
        Some(w) => {
            let mut v: Value = serde_json::from_slice(&bytes).context("definition is not JSON")?;
            v["award"]["winnersPerLot"] = w.into();
            v["id"] = format!("{}-top{w}", v["id"].as_str().unwrap_or("demo")).into();
            serde_json::to_vec_pretty(&v)?
        }
        None => bytes,
    };
    let rec = app
        .register_workflow(&operator, &name, &bytes, "demo")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let wf = app.workflow(&rec.sha256).await?;
    let d = wf.definition();
    let params = Params {
        bidders: args.bidders,
        evaluators: args.evaluators,
        seed: args.seed,
        ..Params::default()
    };
    let committee = &d.evaluation.committee;
    if args.evaluators < committee.min_members || (committee.odd && args.evaluators % 2 == 0) {
        bail!(
            "{} requires a committee of at least {} members{}; --evaluators {} does not fit",
            d.id,
            committee.min_members,
            if committee.odd { ", an odd number" } else { "" },
            args.evaluators
        );
    }

    println!("Tenderflow demo: {} / {}", d.title.zh_cn, d.title.en);
    println!(
        "  definition {} {} (rule pack {:?}, sha256 {}…)",
        d.id,
        d.version,
        d.rule_pack,
        &rec.sha256[..16]
    );
    println!(
        "  {} bidders, {} evaluators, {} to select; data in {}",
        args.bidders,
        args.evaluators,
        d.award.winners_per_lot,
        dir.display()
    );

    // People.
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    let mut people = vec![
        (scenario::STAFF.to_owned(), Role::STAFF.as_str(), "zh-CN"),
        (
            scenario::INSPECTOR.to_owned(),
            Role::INSPECTOR.as_str(),
            "zh-CN",
        ),
    ];
    for i in 0..args.bidders {
        let locale = if i % 3 == 2 { "en" } else { "zh-CN" };
        people.push((scenario::bidder_id(i), Role::BIDDER.as_str(), locale));
    }
    for e in 0..args.evaluators {
        people.push((scenario::evaluator_id(e), Role::EVALUATOR.as_str(), "zh-CN"));
    }
    let people: Vec<(String, &str, String, &str)> = people
        .into_iter()
        .map(|(id, role, locale)| {
            let name = scenario::registered_name(&id, locale).unwrap_or_else(|| id.clone());
            (id, role, name, locale)
        })
        .collect();
    let mut callers: BTreeMap<String, Caller> = BTreeMap::new();
    for (id, role, display, locale) in &people {
        let email = Some(format!("{id}@example.org"));
        let account = NewAccount {
            id: id.clone(),
            role: (*role).into(),
            name: display.clone(),
            email: email.clone(),
            locale: (*locale).into(),
        };
        app.create_account(&operator, account).await?;
        let caller = Caller::of(Account {
            id: id.clone(),
            role: (*role).into(),
            display_name: display.clone(),
            email,
            locale: (*locale).into(),
        })
        .with_context(|| format!("account id `{id}`"))?;
        callers.insert(id.clone(), caller);
        names.insert(id.clone(), display.clone());
    }

    let steps = scenario::script(&wf, &params);
    let tender = scenario::tender_id(&params);
    let time = |t: Timestamp| presenter(&wf).time(t);
    let mut run = Run {
        app: &app,
        callers: &callers,
        clock: &clock,
        dispatcher: &dispatcher,
        wf: &wf,
        tender: &tender,
        names: &names,
        scored: 0,
        sheets: (args.bidders * args.evaluators) as usize,
        mail_sent: 0,
    };
    run.play(&steps, 0).await?;

    // After the award: agreements, a quarter of delivery reports and a performance round.
    let (_, awarded) = app.readable(&operator, &tender).await?;
    let contract = scenario::contract_script(
        &wf,
        &awarded,
        &scenario::ContractParams {
            seed: args.seed,
            behind: (d.award.winners_per_lot as usize).saturating_sub(1),
            ..scenario::ContractParams::default()
        },
    );
    if !contract.is_empty() {
        section("After the award: agreements, delivery and evaluation");
        run.play(&contract, steps.len()).await?;
    }
    while dispatcher.dispatch_due(wall_ms()).await?.sent > 0 {}
    let mail_sent = run.mail_sent;

    // The result.
    let (_, t) = app.readable(&operator, &tender).await?;
    if let Some(report) = &t.report {
        section("Evaluation table");
        print_table(&wf, &t, report, &names);
    }
    if let Some(winners) = &t.awarded {
        section(&format!(
            "Selected ({} of {} bidders)",
            winners.len(),
            t.bids.len()
        ));
        for w in winners {
            let share = t
                .bids
                .iter()
                .find(|(k, _)| k.bidder == w.bidder)
                .and_then(|(_, b)| share_of(&wf, &b.content));
            println!(
                "  {}. {} total {:>8}  free/discounted places {}",
                w.rank,
                pad(
                    names
                        .get(w.bidder.as_str())
                        .map_or(w.bidder.as_str(), String::as_str),
                    34
                ),
                w.total.to_string(),
                share.map_or("-".into(), |s| format!("{s} %"))
            );
        }
    }
    let mut written = None;
    if let Some(quarter) = scenario::delivery_quarter(&wf, &t).filter(|_| !t.agreements.is_empty())
    {
        let report = tenderflow_core::quarterly::compile(&[(&wf, &t)], quarter);
        section(&format!(
            "Agreements and delivery in {quarter} (places free or discounted: delivered / promised)"
        ));
        for p in &report.partners {
            let a = &t.agreements[&p.partner];
            println!(
                "  {} {:>3} activities  {:>8} % / {:>8} %{}{}",
                pad(
                    names
                        .get(p.partner.as_str())
                        .map_or(p.partner.as_str(), String::as_str),
                    34
                ),
                p.activities,
                p.share.to_string(),
                p.promised.to_string(),
                if a.behind { "  ⚠ behind" } else { "" },
                if a.warnings() > 0 { "  ⚠ warned" } else { "" },
            );
        }
        let (pdf, csv) =
            crate::report::write(&report, &dir.join("reports"), tenderflow_web::Lang::Zh)?;
        written = Some((quarter, pdf, csv));
    }
    section("Sign-offs (inspector, and committee members where the rules want every signature)");
    for s in &t.signoffs {
        let statement = s
            .content
            .get("statement")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let gate = match &s.partner {
            Some(p) => format!(
                "{} ({})",
                s.gate,
                names.get(p.as_str()).map_or(p.as_str(), String::as_str)
            ),
            None => s.gate.clone(),
        };
        println!(
            "  {:<18} signed by {} at {}: {}",
            gate,
            names
                .get(s.by.as_str())
                .map_or(s.by.as_str(), String::as_str),
            time(s.at),
            statement
        );
    }
    section("Audit");
    let reports = app.verify(&operator, Some(&tender)).await?.tenders;
    for r in &reports {
        match &r.problem {
            None => println!(
                "  hash chain of {}: {} events, verified intact",
                r.tender_id, r.events
            ),
            Some(p) => println!(
                "  hash chain of {}: BROKEN {}",
                r.tender_id,
                serde_json::to_string(p)?
            ),
        }
    }
    let census = app.document_census(&operator).await?;
    println!(
        "  documents: {} (2 recruitment documents, a service plan per bid), each read back and matched against the SHA-256 its event holds",
        census.attached
    );
    section("Email");
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for r in crate::queues::all_outbox(&app, Some(OutboxStatus::Sent)).await? {
        *kinds.entry(r.message.as_str()).or_default() += 1;
    }
    for (k, n) in &kinds {
        println!("  {k:<26} {n:>4}");
    }
    match &config.smtp_url {
        Some(_) => println!("  {mail_sent} messages sent through the SMTP server"),
        None => {
            let files = std::fs::read_dir(&mail_dir)
                .map(|d| {
                    d.flatten()
                        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
                        .count()
                })
                .unwrap_or(0);
            println!(
                "  {mail_sent} messages sent; {files} .eml files in {}",
                mail_dir.display()
            );
        }
    }
    if let Some((quarter, pdf, csv)) = &written {
        section(&format!("Quarterly report {quarter}"));
        println!("  {}\n  {}", pdf.display(), csv.display());
    }
    println!(
        "\nDone in {:.1} s: the procedure ended in state `{}`.",
        started.elapsed().as_secs_f64(),
        t.state
    );
    println!(
        "Look around: tenderflow --data-dir {} tender show {tender}   |   audit verify",
        dir.display()
    );
    println!(
        "The notice board: tenderflow --data-dir {} serve   (then open http://127.0.0.1:8080/)",
        dir.display()
    );
    Ok(if reports.iter().all(|r| r.problem.is_none()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// What playing the script needs: the store and its clock, the mail, the names to tell.
struct Run<'a> {
    app: &'a App,
    callers: &'a BTreeMap<String, Caller>,
    clock: &'a ManualClock,
    dispatcher: &'a Dispatcher,
    wf: &'a tenderflow_core::Workflow,
    tender: &'a str,
    names: &'a BTreeMap<String, String>,
    scored: usize,
    sheets: usize,
    mail_sent: usize,
}

impl Run<'_> {
    /// Plays `steps` (numbered from `first` in their correlation ids) through the store, each
    /// at its own time, sending the mail it causes and telling what happened; stops early
    /// when the procedure ends unsuccessfully.
    async fn play(&mut self, steps: &[scenario::Step], first: usize) -> anyhow::Result<()> {
        let time = |t: Timestamp| presenter(self.wf).time(t);
        for (n, step) in steps.iter().enumerate() {
            let i = first + n;
            self.clock.set(step.at);
            let cid = format!("demo/{i}");
            let caller = || {
                self.callers
                    .get(step.actor.id.as_str())
                    .with_context(|| format!("step {i}: no account `{}`", step.actor.id))
            };
            let done = match &step.input {
                Input::Create(id) => {
                    let sha = self.wf.sha256();
                    self.app.create_tender(caller()?, sha, id, Some(&cid)).await
                }
                Input::Timer => {
                    // The simulated clock jumps to the deadline; the timer loop fires what is
                    // due.
                    let fired = self.app.fire_due_timers("demo").await?;
                    match fired.into_iter().next() {
                        Some(f) => Ok(f),
                        None => bail!("no timer fell due at {}", time(step.at)),
                    }
                }
                Input::Command(body) => {
                    let mut body = body.clone();
                    // The recruitment documents with the announcement, a service plan with
                    // each bid: uploaded (a bid's sealed) and referenced by the command.
                    documents::attach(
                        self.app,
                        caller()?,
                        self.wf,
                        self.tender,
                        self.names,
                        &mut body,
                    )
                    .await?;
                    let submission = Submission {
                        tender_id: self.tender.to_owned(),
                        body,
                        key: Some(cid.clone()),
                        if_match: None,
                    };
                    self.app.execute(caller()?, submission).await
                }
            };
            let done = match done {
                Ok(d) => d,
                Err(AppError::Rejected(r)) => {
                    // The script follows the rules; a refusal means the options do not fit
                    // the definition. Stop and say why rather than carry on.
                    bail!(
                        "step {i} ({}) was refused: {} [{}]",
                        step.input.name(),
                        r.message,
                        r.code
                    );
                }
                Err(e) => return Err(e.into()),
            };
            self.mail_sent += self.dispatcher.dispatch_due(wall_ms()).await?.sent;
            for (_, ev) in &done.events {
                describe(
                    self.wf,
                    self.app,
                    self.tender,
                    ev,
                    self.names,
                    &mut self.scored,
                    self.sheets,
                )
                .await?;
            }
            if matches!(done.state.as_str(), "unsuccessful" | "cancelled") {
                break;
            }
        }
        Ok(())
    }
}
