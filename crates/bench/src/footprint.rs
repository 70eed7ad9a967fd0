//! `tenderflow-bench footprint`: the server's footprint at scale (issue #17, targets 6 and 7).
//! Fills a database with many tenders (most finished, some open for bids), starts one or more
//! real `tenderflow serve` processes on it, times how long each takes to answer `/ready`,
//! bids to the open tenders over HTTP while sampling every server's resident memory, reads
//! the servers' replay counters (`/metrics`) to count the events replayed per tender load,
//! and reports the CPU each party used (servers, PostgreSQL, the benchmark itself).

use crate::bench::{Load, Target, bid_load};
use anyhow::{Context, bail};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tenderflow_core::scenario::{self, Input, Params};

use tenderflow_store::crypto::MasterKey;
use tenderflow_store::{Account, Action, Request, Store};
use tokio::io::AsyncBufReadExt;

/// The benchmark's own master key (bench data only; every server of a run shares it).
const BENCH_KEY: &str = "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed";
/// The servers' `/metrics` token (metrics are never public).
const METRICS_TOKEN: &str = "bench-metrics-token";

#[derive(Debug, clap::Args)]
pub struct FootprintArgs {
    /// The `tenderflow` binary to start (e.g. target/release/tenderflow).
    #[arg(long)]
    server_bin: PathBuf,
    /// Database (default: a fresh SQLite file in a temporary directory). Several servers
    /// need PostgreSQL.
    #[arg(long)]
    database_url: Option<String>,
    /// Tenders in the database in all.
    #[arg(long, default_value_t = 10_000)]
    tenders: usize,
    /// Of them, tenders open for bids (the rest are played to the award).
    #[arg(long, default_value_t = 100)]
    active: usize,
    /// Bids to submit, spread over the open tenders.
    #[arg(long, default_value_t = 5_000)]
    bids: usize,
    /// Concurrent HTTP clients.
    #[arg(long, default_value_t = 16)]
    clients: usize,
    /// Offered load in bids/s (open loop); without it clients send back to back.
    #[arg(long)]
    rate: Option<f64>,
    /// `tenderflow serve` processes on the one database (bids go round-robin).
    #[arg(long, default_value_t = 1)]
    servers: usize,
    /// Start the servers with `--group-commit`.
    #[arg(long)]
    group_commit: bool,
    /// Commands per transaction while filling.
    #[arg(long, default_value_t = 500)]
    fill_batch: usize,
    /// Keep a database given with --database-url that an earlier run filled with the same
    /// --tenders (this run's bids come from new bidders), instead of filling it again.
    #[arg(long)]
    reuse: bool,
}

pub async fn run(a: FootprintArgs) -> anyhow::Result<ExitCode> {
    if a.active == 0 || a.active > a.tenders {
        bail!("--active must be between 1 and --tenders");
    }
    let dir = std::env::temp_dir().join(format!(
        "tenderflow-footprint-{}-{}",
        std::process::id(),
        tenderflow_store::clock::wall_ms()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = match &a.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite").display()),
    };
    if a.servers > 1 && url.starts_with("sqlite:") {
        bail!("several servers share PostgreSQL, not an SQLite file: pass --database-url");
    }
    let bidders = a.bids.div_ceil(a.active);
    let filled = fill(&a, &url, bidders).await?;
    println!(
        "database {}: {} tenders ({} finished, {} open), {} events, filled in {:.1} s",
        url.split('?').next().unwrap_or(&url),
        a.tenders,
        a.tenders - a.active,
        a.active,
        filled.events,
        filled.secs
    );
    if url.starts_with("sqlite:") {
        let bytes = std::fs::metadata(dir.join("bench.sqlite")).map_or(0, |m| m.len());
        println!("database file: {:.1} MiB", bytes as f64 / 1048576.0);
    }

    let mut servers = Vec::new();
    for n in 0..a.servers {
        servers
            .push(Server::start(&a, &url, &dir.join(format!("server-{n}")), &filled.clock).await?);
    }
    for (n, s) in servers.iter().enumerate() {
        println!(
            "server {n}: ready in {:.2} s, {:.1} MiB resident when ready",
            s.ready_secs,
            s.rss_kib()? as f64 / 1024.0
        );
    }

    // The load, with every server's memory sampled while it runs.
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let samplers: Vec<_> = servers
        .iter()
        .map(|s| {
            let (pid, on) = (s.pid, sampling.clone());
            tokio::spawn(async move {
                let mut peak = 0u64;
                while on.load(std::sync::atomic::Ordering::Relaxed) {
                    peak = peak.max(status_kib(pid, "VmRSS:").unwrap_or(0));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                peak
            })
        })
        .collect();
    let cpu_before = Cpu::read(&servers);
    let urls: Vec<String> = servers.iter().map(|s| s.url.clone()).collect();
    let active = a.active;
    let open = filled.open.clone();
    let target: Target = Arc::new(move |i| (open[i % active].clone(), i / active));
    println!(
        "bidding: {} bids to {} open tenders, {} clients, {} server(s){}",
        a.bids,
        a.active,
        a.clients,
        a.servers,
        if a.group_commit { ", group commit" } else { "" }
    );
    let done = bid_load(
        &Load {
            clients: a.clients,
            bids: a.bids,
            rate: a.rate,
        },
        &urls,
        &filled.tokens,
        target,
    )
    .await?;
    let cpu = Cpu::read(&servers).since(&cpu_before);
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    done.print();
    for (n, (s, h)) in servers.iter().zip(samplers).enumerate() {
        let peak = h.await.unwrap_or(0);
        println!(
            "server {n}: peak resident {:.1} MiB during the load (VmHWM {:.1} MiB)",
            peak as f64 / 1024.0,
            status_kib(s.pid, "VmHWM:").unwrap_or(0) as f64 / 1024.0
        );
    }
    println!(
        "CPU during the load: servers {:.1} s, database {:.1} s, benchmark {:.1} s, over {:.1} s of wall time",
        cpu.servers, cpu.database, cpu.bench, done.secs
    );

    // Events replayed per load: every open tender was loaded by the bids; finished tenders
    // are now read twice each, and the second read must replay nothing.
    let http = reqwest::Client::new();
    for (n, s) in servers.iter().enumerate() {
        let r = s.replays(&http).await?;
        println!(
            "server {n} after the load: {} tenders replayed, {} events ({:.1} per tender); {} brought up to date with {} events written by other servers; {} states kept",
            r.replays,
            r.events,
            r.events as f64 / r.replays.max(1) as f64,
            r.catch_ups,
            r.caught_up,
            r.kept
        );
    }
    let first = servers[0].replays(&http).await?;
    let sample: Vec<String> = (0..20.min(a.tenders - a.active))
        .map(|n| format!("F-{:05}", n * ((a.tenders - a.active) / 20).max(1)))
        .collect();
    let token = filled.tokens.first().context("a bidder")?;
    let mut counts = vec![first];
    for _ in 0..2 {
        for t in &sample {
            let r = http
                .get(format!("{}/tenders/{t}", servers[0].url))
                .bearer_auth(token)
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("GET /tenders/{t}: {}", r.status());
            }
        }
        counts.push(servers[0].replays(&http).await?);
    }
    let (one, two) = (counts[1].since(&counts[0]), counts[2].since(&counts[1]));
    println!(
        "{} finished tenders read twice: first reads replayed {} tenders, {} events ({:.1} per tender, {} per tender stored); second reads replayed {} tenders",
        sample.len(),
        one.replays,
        one.events,
        one.events as f64 / one.replays.max(1) as f64,
        filled.events_per_finished,
        two.replays
    );
    for s in &mut servers {
        s.stop().await;
    }
    let broken = {
        let store = Store::connect(&url, MasterKey::from_hex(BENCH_KEY)?).await?;
        let mut broken = 0;
        for t in filled.open.iter() {
            broken += store
                .verify(Some(t))
                .await?
                .iter()
                .filter(|r| r.problem.is_some())
                .count();
        }
        broken
    };
    println!("open tenders' chains verified: {broken} broken");
    if a.database_url.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(if broken == 0 && two.replays == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

struct Filled {
    tokens: Arc<Vec<String>>,
    /// This run's open tenders.
    open: Arc<Vec<String>>,
    /// The time the servers' clocks start at (a minute into the bid period).
    clock: tenderflow_core::Timestamp,
    events: u64,
    events_per_finished: u64,
    secs: f64,
}

/// Plays one small seed-case script (9 bidders, 5 evaluators) to the award for every finished
/// tender, step by step across all of them in large transactions, then creates and publishes
/// the open tenders.
async fn fill(a: &FootprintArgs, url: &str, bidders: usize) -> anyhow::Result<Filled> {
    let start = Instant::now();
    let tuning = tenderflow_store::Tuning {
        max_connections: 4,
        timer_batch: 1000,
        tender_cache: a.tenders,
        ..tenderflow_store::Tuning::default()
    };
    let store = Store::connect_with(
        url,
        MasterKey::from_hex(BENCH_KEY)?,
        Arc::new(tenderflow_store::clock::SystemClock),
        tuning,
    )
    .await?;
    let sha = store
        .register_workflow("partner-recruitment.json", crate::bench::SEED_DEFINITION)
        .await?
        .sha256;
    let wf = store.workflow(&sha).await?;
    // Bidders of this run only: a reused database's open tenders already hold the earlier
    // runs' bids, and a second bid from one bidder is refused (`duplicate_bid`).
    let run = tenderflow_store::clock::wall_ms();
    let mut tokens = Vec::with_capacity(bidders);
    for i in 0..bidders {
        let id = format!("fp-{run}-{i:04}");
        tokens.push(
            store
                .create_account(&Account {
                    id: id.clone(),
                    role: tenderflow_core::Role::BIDDER.as_str().into(),
                    email: Some(format!("{id}@bench.example")),
                    display_name: id,
                    locale: "en".into(),
                })
                .await?,
        );
    }
    let existing = store
        .tenders()
        .await?
        .iter()
        .filter(|t| t.tender_id.starts_with("F-"))
        .count();
    let reuse = a.reuse && a.database_url.is_some() && existing == a.tenders - a.active;
    if a.reuse && !reuse {
        eprintln!(
            "  --reuse: the database holds {existing} finished tenders, not {}; filling",
            a.tenders - a.active
        );
    }
    let steps = scenario::script(
        &wf,
        &Params {
            // The seed definition needs 8 valid bids and a committee of 5.
            bidders: 9,
            evaluators: 5,
            ..Params::default()
        },
    );
    let finished: Vec<String> = (0..a.tenders - a.active)
        .map(|n| format!("F-{n:05}"))
        .collect();
    // Open tenders of this run only, so that a reused database's runs compare like with like.
    let open: Vec<String> = (0..a.active).map(|n| format!("A-{run}-{n:04}")).collect();
    let started = Instant::now();
    if !reuse {
        play(
            &store,
            &sha,
            &steps,
            0..steps.len(),
            &finished,
            a.fill_batch,
            started,
        )
        .await?;
    }
    // The open tenders last, so that no deadline played above closes them.
    play(&store, &sha, &steps, 0..2, &open, a.fill_batch, started).await?;
    // The fill's mail counts as sent: the servers are measured bidding, not mailing.
    loop {
        let claimed = store
            .claim_outbox(tenderflow_store::clock::wall_ms(), "fill", 60_000, 5_000)
            .await?;
        if claimed.is_empty() {
            break;
        }
        let ids: Vec<i64> = claimed.iter().map(|r| r.id).collect();
        store.mark_sent_many(&ids, "fill").await?;
    }
    let rows = store.tenders().await?;
    let events: u64 = rows.iter().map(|t| t.seq as u64).sum();
    let events_per_finished = rows
        .iter()
        .find(|t| finished.first() == Some(&t.tender_id))
        .map_or(0, |t| t.seq as u64);
    Ok(Filled {
        tokens: Arc::new(tokens),
        open: Arc::new(open),
        clock: steps[1].at.plus_seconds(60),
        events,
        events_per_finished,
        secs: start.elapsed().as_secs_f64(),
    })
}

/// Plays `steps[range]` for every tender of `ids`, step by step across all of them, up to
/// `batch` commands per transaction; timers fire for every tender due.
async fn play(
    store: &Store,
    sha: &str,
    steps: &[scenario::Step],
    range: std::ops::Range<usize>,
    ids: &[String],
    batch: usize,
    started: Instant,
) -> anyhow::Result<()> {
    for k in range {
        let step = &steps[k];
        match &step.input {
            Input::Timer => loop {
                if store.fire_due_timers(step.at, "fill").await?.is_empty() {
                    break;
                }
            },
            input => {
                let action = match input {
                    Input::Create(_) => Action::Create {
                        workflow: sha.to_owned(),
                        actor: step.actor.clone(),
                    },
                    _ => Action::Command(step.command().context("a command step")?),
                };
                for chunk in ids.chunks(batch.max(1)) {
                    let requests: Vec<Request> = chunk
                        .iter()
                        .map(|t| Request::with(t, &format!("{t}/{k}"), action.clone(), step.at))
                        .collect();
                    for r in store.execute_batch(&requests).await? {
                        r.with_context(|| format!("step {k} ({})", input.name()))?;
                    }
                }
            }
        }
        if k % 10 == 9 {
            eprintln!(
                "  filling {} tenders: step {} of {} ({:.0} s)",
                ids.len(),
                k + 1,
                steps.len(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// One `tenderflow serve` child process.
struct Server {
    child: tokio::process::Child,
    pid: u32,
    url: String,
    ready_secs: f64,
}

impl Server {
    async fn start(
        a: &FootprintArgs,
        url: &str,
        data_dir: &std::path::Path,
        clock: &tenderflow_core::Timestamp,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(data_dir)?;
        let mut cmd = tokio::process::Command::new(&a.server_bin);
        cmd.arg("serve")
            .args(["--listen", "127.0.0.1:0", "--manual-clock"])
            .arg(clock.to_string())
            .env("TENDERFLOW_DATABASE_URL", url)
            .env("TENDERFLOW_MASTER_KEY", BENCH_KEY)
            .env("TENDERFLOW_METRICS_TOKEN", METRICS_TOKEN)
            .env("TENDERFLOW_DATA_DIR", data_dir)
            .env("TENDERFLOW_PG_POOL", "8")
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(data_dir.join("server.log"))?)
            .kill_on_drop(true);
        if a.group_commit {
            cmd.arg("--group-commit");
        }
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {}", a.server_bin.display()))?;
        let pid = child.id().context("the server's pid")?;
        let stdout = child.stdout.take().context("the server's output")?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        let url = loop {
            let line = tokio::time::timeout(Duration::from_secs(120), lines.next_line())
                .await
                .context("the server did not start within 120 s")??
                .context("the server exited before listening")?;
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.trim().to_owned();
            }
        };
        // Keep reading its output so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{url}/ready")).send().await
                && r.status().is_success()
            {
                break;
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("{url}/ready did not answer within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(Self {
            child,
            pid,
            url,
            ready_secs: started.elapsed().as_secs_f64(),
        })
    }

    fn rss_kib(&self) -> anyhow::Result<u64> {
        status_kib(self.pid, "VmRSS:").context("the server's /proc status")
    }

    async fn replays(&self, http: &reqwest::Client) -> anyhow::Result<Replays> {
        let text = http
            .get(format!("{}/metrics", self.url))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await?
            .text()
            .await?;
        let value = |name: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map_or(0, |v| v as u64)
        };
        Ok(Replays {
            replays: value("tenderflow_tender_replays_total"),
            events: value("tenderflow_events_replayed_total"),
            kept: value("tenderflow_tender_cache_entries"),
            catch_ups: value("tenderflow_tender_catch_ups_total"),
            caught_up: value("tenderflow_events_caught_up_total"),
        })
    }

    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

#[derive(Debug, Clone, Copy)]
struct Replays {
    replays: u64,
    events: u64,
    kept: u64,
    catch_ups: u64,
    caught_up: u64,
}

impl Replays {
    fn since(&self, before: &Self) -> Self {
        Self {
            replays: self.replays.saturating_sub(before.replays),
            events: self.events.saturating_sub(before.events),
            kept: self.kept,
            catch_ups: self.catch_ups.saturating_sub(before.catch_ups),
            caught_up: self.caught_up.saturating_sub(before.caught_up),
        }
    }
}

/// A `/proc/PID/status` field in KiB.
fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// CPU seconds (user + system) used so far by a process, from `/proc/PID/stat`.
fn cpu_secs(pid: &str) -> Option<f64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds used by the servers, by PostgreSQL's processes and by this benchmark.
#[derive(Debug, Clone, Copy)]
struct Cpu {
    servers: f64,
    database: f64,
    bench: f64,
}

impl Cpu {
    fn read(servers: &[Server]) -> Self {
        let servers_cpu = servers
            .iter()
            .filter_map(|s| cpu_secs(&s.pid.to_string()))
            .sum();
        let database = std::fs::read_dir("/proc")
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
                    .filter(|p| {
                        std::fs::read_to_string(format!("/proc/{p}/comm"))
                            .is_ok_and(|c| c.trim() == "postgres")
                    })
                    .filter_map(|p| cpu_secs(&p))
                    .sum()
            })
            .unwrap_or(0.0);
        Self {
            servers: servers_cpu,
            database,
            bench: cpu_secs("self").unwrap_or(0.0),
        }
    }

    fn since(&self, before: &Self) -> Self {
        Self {
            servers: self.servers - before.servers,
            database: self.database - before.database,
            bench: self.bench - before.bench,
        }
    }
}
