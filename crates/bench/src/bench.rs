//! The benchmarks: load benchmarks of the whole server and of mail dispatch. Figures and
//! commands are recorded in docs/PERFORMANCE.md.

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::json;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tenderflow_core::scenario::{self, Params};
use tenderflow_notify::{Dispatcher, Transport};
use tenderflow_store::crypto::MasterKey;
use tenderflow_store::{Account, Store};

/// The seed case's definition, built in.
pub(crate) const SEED_DEFINITION: &[u8] =
    include_bytes!("../../../workflows/partner-recruitment.json");

#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// Bids over HTTP: an in-process server on a fresh database, N concurrent clients;
    /// prints bids/s and p50/p99 latency.
    Http {
        /// Concurrent clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Bids to submit in all.
        #[arg(long, default_value_t = 2000)]
        bids: usize,
        /// Database (default: a fresh SQLite file in a temporary directory).
        #[arg(long)]
        database_url: Option<String>,
        /// Serve with group commit (`tenderflow serve --group-commit`).
        #[arg(long)]
        group_commit: bool,
        /// Offered load in bids/s, spread over the clients (open loop: each bid is due at
        /// its time and its latency counts from then, so a stalled server cannot hide its
        /// queue). Without it every client sends its next bid as soon as the last returns.
        #[arg(long)]
        rate: Option<f64>,
        /// Writes every bid's due time and latency to this file (a line per bid:
        /// `index due_µs latency_µs`), to see when the slow ones happened.
        #[arg(long)]
        timeline: Option<std::path::PathBuf>,
    },
    /// Mail dispatch to an SMTP server: the pooled transport against a connection per
    /// message. Start a server first, e.g.
    /// `python3 crates/testkit/smtp_server.py 2525 /tmp/mail`.
    Mail {
        /// The SMTP server.
        #[arg(long)]
        smtp_url: String,
        /// Messages per run.
        #[arg(long, default_value_t = 1000)]
        messages: u32,
        /// Messages in flight at once.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
    },
}

fn temp_sqlite() -> anyhow::Result<(String, std::path::PathBuf)> {
    let dir = std::env::temp_dir().join(format!(
        "tenderflow-bench-{}-{}",
        std::process::id(),
        now_ms()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok((
        format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite").display()),
        dir,
    ))
}

fn now_ms() -> i64 {
    tenderflow_store::clock::wall_ms()
}

/// An HTTP bid load: how many bids, from how many clients, at what offered rate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Load {
    pub(crate) clients: usize,
    pub(crate) bids: usize,
    pub(crate) rate: Option<f64>,
}

/// What a bid load measured: wall time and every bid's latency (µs, sorted).
pub(crate) struct LoadResult {
    pub(crate) secs: f64,
    pub(crate) latencies: Vec<u128>,
    /// Every bid in order: its index, when it was due and its latency (µs from the start).
    pub(crate) timeline: Vec<(usize, u128, u128)>,
    pub(crate) offered: Option<f64>,
}

impl LoadResult {
    /// Writes the timeline, a line per bid: `index due_µs latency_µs`. Where the latency
    /// stalls shows when the stall happened, not only that it did.
    pub(crate) fn write_timeline(&self, path: &std::path::Path) -> anyhow::Result<()> {
        let text: String = self
            .timeline
            .iter()
            .map(|(i, due, lat)| format!("{i} {due} {lat}\n"))
            .collect();
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }

    pub(crate) fn print(&self) {
        let lat = &self.latencies;
        let offered = self
            .offered
            .map_or_else(String::new, |r| format!(" (offered {r:.0}/s)"));
        println!(
            "{:.0} bids/s{offered}; latency p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms, max {:.1} ms",
            lat.len() as f64 / self.secs,
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            percentile(lat, 0.999),
            percentile(lat, 1.0)
        );
    }
}

/// Which tender bid `i` goes to and which bidder (an index into the tokens) sends it.
pub(crate) type Target = Arc<dyn Fn(usize) -> (String, usize) + Send + Sync>;

/// Submits `load.bids` bids with `POST /tenders/{id}/bids`, runs of 7 consecutive bids to
/// each server in turn, and waits for every `201`.
pub(crate) async fn bid_load(
    load: &Load,
    servers: &[String],
    tokens: &Arc<Vec<String>>,
    target: Target,
) -> anyhow::Result<LoadResult> {
    let per_server = 7;
    let Load {
        clients,
        bids,
        rate,
    } = *load;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let servers = Arc::new(servers.to_vec());
    // Idempotency keys unique to this run, so that a reused database takes the bids anew.
    let run = tenderflow_store::clock::wall_ms();
    let start = tokio::time::Instant::now();
    let mut handles = Vec::new();
    for c in 0..clients {
        let (http, tokens, servers, target) = (
            http.clone(),
            tokens.clone(),
            servers.clone(),
            target.clone(),
        );
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut timeline = Vec::new();
            let mut i = c;
            while i < bids {
                let (tender, b) = target(i);
                let token = tokens.get(b).context("a bidder per bid")?;
                // Each server takes a run of `per_server` consecutive bids in turn: with bids
                // spread over tenders by `i`, every tender hears from every server (no
                // accidental affinity of tenders to servers).
                let server = &servers[(i / per_server) % servers.len()];
                let body = json!({ "content": {
                    "organisation": format!("Bench organisation {b}"), "serviceArea": "sports_events",
                    "servicePlan": "Weekly sports events for workers and their families.",
                    "freeOrDiscountedShare": 20 + (b % 60), "feeMinor": 8_000_000 + b as i64 * 1000 } });
                // Open loop: the bid is due at its time; its latency counts from then.
                let due = match rate {
                    Some(r) => {
                        let due = start + Duration::from_secs_f64(i as f64 / r);
                        tokio::time::sleep_until(due).await;
                        due
                    }
                    None => tokio::time::Instant::now(),
                };
                let resp = http
                    .post(format!("{server}/tenders/{tender}/bids"))
                    .bearer_auth(token)
                    .header("idempotency-key", format!("bench-{run}-{i}"))
                    .json(&body)
                    .send()
                    .await?;
                if resp.status() != reqwest::StatusCode::CREATED {
                    anyhow::bail!("bid {i}: {} {}", resp.status(), resp.text().await.unwrap_or_default());
                }
                lat.push(due.elapsed().as_micros());
                timeline.push((i, (due - start).as_micros(), due.elapsed().as_micros()));
                i += clients;
            }
            Ok((lat, timeline))
        }));
    }
    let mut latencies = Vec::new();
    let mut timeline = Vec::new();
    for h in handles {
        let (l, t) = h.await.context("client")??;
        latencies.extend(l);
        timeline.extend(t);
    }
    timeline.sort_unstable();
    let secs = start.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(LoadResult {
        secs,
        latencies,
        timeline,
        offered: rate,
    })
}

fn percentile(sorted: &[u128], q: f64) -> f64 {
    sorted
        .get(((sorted.len().max(1) - 1) as f64 * q) as usize)
        .copied()
        .unwrap_or(0) as f64
        / 1000.0
}

pub async fn run(cmd: BenchCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        BenchCmd::Http {
            clients,
            bids,
            database_url,
            group_commit,
            rate,
            timeline,
        } => {
            http(
                Load {
                    clients,
                    bids,
                    rate,
                },
                database_url,
                group_commit,
                timeline,
            )
            .await
        }
        BenchCmd::Mail {
            smtp_url,
            messages,
            concurrency,
        } => mail(&smtp_url, messages, concurrency).await,
    }
}

async fn http(
    load: Load,
    database_url: Option<String>,
    group_commit: bool,
    timeline: Option<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    let Load { clients, bids, .. } = load;
    let (url, dir) = match database_url {
        Some(u) => (u, None),
        None => {
            let (u, d) = temp_sqlite()?;
            (u, Some(d))
        }
    };
    let wf = tenderflow_core::load("partner-recruitment.json", SEED_DEFINITION)?;
    let per_tender = 100usize;
    let tenders = bids.div_ceil(per_tender);
    let steps = scenario::script(
        &wf,
        &Params {
            bidders: 0,
            ..Params::default()
        },
    );
    // The one clock, stopped a minute into the bid period: every bid is decided then.
    let clock = Arc::new(tenderflow_store::clock::ManualClock::new(
        steps[1].at.plus_seconds(60),
    ));
    let store = Arc::new(
        Store::connect_with(
            &url,
            MasterKey::generate()?,
            clock.clone(),
            tenderflow_store::Tuning::default(),
        )
        .await?,
    );
    let sha = store
        .register_workflow("partner-recruitment.json", SEED_DEFINITION)
        .await?
        .sha256;
    let app = tenderflow_app::App::with_manual_clock(store.clone(), clock);
    let app = if group_commit {
        app.with_group_commit(256)
    } else {
        app
    };
    let state = tenderflow_api::AppState::new(app);
    let mut tokens = Vec::with_capacity(per_tender);
    for i in 0..per_tender {
        let id = format!("bench-org-{i:03}");
        tokens.push(
            store
                .create_account(&Account {
                    id: id.clone(),
                    role: tenderflow_core::Role::BIDDER.as_str().into(),
                    display_name: id,
                    email: None,
                    locale: "en".into(),
                })
                .await?,
        );
    }
    for t in 0..tenders {
        let id = format!("B-{t:04}");
        create_and_publish(&store, &sha, &steps, &id).await?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server =
        tokio::spawn(async move { axum::serve(listener, tenderflow_api::app(state)).await });
    let tokens = Arc::new(tokens);
    println!(
        "HTTP bid submission: {bids} bids to {tenders} tenders, {clients} clients, {}",
        url.split('?').next().unwrap_or(&url)
    );
    let done = bid_load(
        &load,
        &[format!("http://{addr}")],
        &tokens,
        Arc::new(move |i| (format!("B-{:04}", i / per_tender), i % per_tender)),
    )
    .await?;
    done.print();
    if let Some(path) = timeline {
        done.write_timeline(&path)?;
    }
    let broken = store
        .verify(None)
        .await?
        .iter()
        .filter(|r| r.problem.is_some())
        .count();
    println!("chains verified: {broken} broken");
    server.abort();
    if let Some(d) = dir {
        let _ = std::fs::remove_dir_all(d);
    }
    Ok(if broken == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn mail(smtp_url: &str, messages: u32, concurrency: usize) -> anyhow::Result<ExitCode> {
    let (url, dir) = temp_sqlite()?;
    let store = Arc::new(Store::connect(&url, MasterKey::generate()?).await?);
    for i in 0..messages {
        let id = format!("bench-bidder-{i:05}");
        let locale = if i % 2 == 0 { "zh-CN" } else { "en" };
        store
            .create_account(&Account {
                id: id.clone(),
                role: tenderflow_core::Role::BIDDER.as_str().into(),
                display_name: id.clone(),
                email: Some(format!("{id}@example.org")),
                locale: locale.into(),
            })
            .await?;
    }
    let sha = store
        .register_workflow("partner-recruitment.json", SEED_DEFINITION)
        .await?
        .sha256;
    let wf = store.workflow(&sha).await?;
    let steps = scenario::script(
        &wf,
        &Params {
            bidders: 0,
            ..Params::default()
        },
    );
    println!("mail dispatch to {smtp_url}: {messages} messages per run, {concurrency} in flight");
    for (round, (name, transport)) in [
        (
            "pooled connections",
            Transport::smtp(smtp_url, concurrency as u32, Duration::from_secs(30))?,
        ),
        (
            "connection per message",
            Transport::smtp_per_message(smtp_url, Duration::from_secs(30))?,
        ),
    ]
    .into_iter()
    .enumerate()
    {
        // An announcement queues one message per registered bidder.
        let id = format!("M-{round}");
        create_and_publish(&store, &sha, &steps, &id).await?;
        let d = Dispatcher::new(
            store.clone(),
            transport,
            "bench@union.example",
            &format!("bench-{round}"),
        )?
        .with_concurrency(concurrency);
        let start = Instant::now();
        let mut sent = 0;
        while sent < messages as usize {
            let s = d.dispatch_due(tenderflow_store::clock::wall_ms()).await?;
            if s.sent + s.retried + s.dead == 0 {
                bail!("nothing left to send after {sent} messages");
            }
            sent += s.sent;
        }
        println!(
            "{name:<24} {:>7.0} messages/s",
            sent as f64 / start.elapsed().as_secs_f64()
        );
    }
    let _ = std::fs::remove_dir_all(dir);
    Ok(ExitCode::SUCCESS)
}

/// Creates tender `id` and publishes it with the script's first two steps.
async fn create_and_publish(
    store: &Store,
    sha: &str,
    steps: &[scenario::Step],
    id: &str,
) -> anyhow::Result<()> {
    store
        .create_tender(sha, id, &format!("{id}/c"), &steps[0].actor, steps[0].at)
        .await?;
    let publish = steps[1].command().context("the script publishes second")?;
    store
        .execute(id, &format!("{id}/p"), &publish, steps[1].at)
        .await?;
    Ok(())
}
