//! Load tools for the store: the deadline-rush benchmark and the crash writer the SIGKILL
//! test kills.
//!
//! ```text
//! tenderflow-store-bench rush --url URL [--tenders 20] [--bids 50] [--clients 16] [--mode commit|group|both] [--lanes 4]
//! tenderflow-store-bench tender --url URL [--tenders 5] [--seed 7000]
//! tenderflow-store-bench crash-writer --url URL --key HEX [--bids 1000]
//! tenderflow-store-bench document-writer --url URL --key HEX [--dir DIR] [--docs 100] [--size 2000000]
//! tenderflow-store-bench documents --url URL [--dir DIR] [--size 200000000]
//! ```
//!
//! `documents` uploads a sealed file of `--size` bytes from a generated stream and reads it
//! back, printing the rate each way and the process's peak resident memory (VmHWM) before
//! and after: streaming keeps the growth to a few frames whatever the size. `--dir` puts the
//! bytes in a local object-store directory instead of the database.

use serde_json::json;
use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;
use tenderflow_core::model::SubmitBid;
use tenderflow_core::scenario::{self, Params};
use tenderflow_core::{Actor, Command, CommandBody, Timestamp};
use tenderflow_store::crypto::MasterKey;
use tenderflow_store::group::GroupCommitter;
use tenderflow_store::{Request, Store};

const WORKFLOW: &[u8] = include_bytes!("../../../../workflows/partner-recruitment.json");

fn args() -> (String, HashMap<String, String>) {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().unwrap_or_default();
    let mut map = HashMap::new();
    while let Some(k) = it.next() {
        if let Some(k) = k.strip_prefix("--") {
            map.insert(k.to_owned(), it.next().unwrap_or_default());
        }
    }
    (cmd, map)
}

fn num(map: &HashMap<String, String>, k: &str, default: usize) -> usize {
    map.get(k).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn bid(i: usize) -> serde_json::Value {
    json!({
        "organisation": format!("Partner organisation {i:05}"),
        "serviceArea": "arts_performance",
        "servicePlan": "Monthly performances in the workers' cultural palace, with weekend workshops for workers' children and a yearly festival open to all union members.",
        "trackRecord": "Ten years of performances for trade unions and community centres across the province.",
        "freeOrDiscountedShare": 20 + (i % 60) as i64,
        "feeMinor": 8_000_000 + (i as i64 * 7919) % 7_000_000
    })
}

fn submit(i: usize, tender: usize) -> (String, Command) {
    let org = format!("org-{tender:03}-{i:05}");
    let actor = Actor::new(&org, tenderflow_core::Role::BIDDER.as_str()).expect("valid id");
    (
        org,
        Command {
            actor,
            body: CommandBody::SubmitBid(SubmitBid {
                documents: Vec::new(),
                lot: None,
                content: bid(i).into(),
            }),
        },
    )
}

/// Creates and publishes a tender; returns the time bids may arrive at.
async fn published(store: &Store, sha: &str, id: &str) -> Timestamp {
    let wf = store.workflow(sha).await.expect("workflow");
    let steps = scenario::script(
        &wf,
        &Params {
            bidders: 0,
            ..Params::default()
        },
    );
    store
        .create_tender(
            sha,
            id,
            &format!("{id}/create"),
            &steps[0].actor,
            steps[0].at,
        )
        .await
        .expect("create");
    let publish = steps[1].command().expect("the script publishes second");
    store
        .execute(id, &format!("{id}/publish"), &publish, steps[1].at)
        .await
        .expect("publish");
    steps[1].at.plus_seconds(3600)
}

/// A generated file of `size` bytes (a PDF header, then a repeating pattern), streamed in
/// 64 KiB pieces as a network delivers an upload; never whole in memory.
fn generated(
    size: u64,
    seed: u64,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send {
    const PIECE: u64 = 64 * 1024;
    futures_util::stream::iter((0..size.div_ceil(PIECE)).map(move |i| {
        let len = PIECE.min(size - i * PIECE) as usize;
        let mut v: Vec<u8> = (0..len)
            .map(|j| ((i * PIECE + j as u64).wrapping_mul(31).wrapping_add(seed) % 251) as u8)
            .collect();
        if i == 0 {
            v[..5.min(len)].copy_from_slice(&b"%PDF-"[..5.min(len)]);
        }
        Ok(bytes::Bytes::from(v))
    }))
}

/// The process's peak resident memory, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn doc_store(store: Store, a: &HashMap<String, String>) -> Arc<Store> {
    Arc::new(match a.get("dir") {
        Some(dir) => store.with_blob_backend(Arc::new(
            tenderflow_store::ObjectBlobs::directory(std::path::Path::new(dir)).expect("--dir"),
        )),
        None => store,
    })
}

fn new_doc(tender: &str, owner: &str, size: u64) -> tenderflow_store::NewBlob {
    tenderflow_store::NewBlob {
        tender_id: tender.to_owned(),
        owner: owner.to_owned(),
        sealed: true,
        name: "服务方案.pdf".to_owned(),
        media_type: "application/pdf".to_owned(),
        max_bytes: size,
    }
}

#[tokio::main]
async fn main() {
    let (cmd, a) = args();
    let url = a
        .get("url")
        .cloned()
        .unwrap_or_else(|| "sqlite://tenderflow-bench.sqlite?mode=rwc".into());
    let master = match a.get("key") {
        Some(k) => MasterKey::from_hex(k).expect("--key: 64 hex digits"),
        None => MasterKey::generate().expect("key"),
    };
    // The rush: a connection per client opened before anything is timed (PostgreSQL), so
    // that neither the ceiling nor the store pays for a TLS handshake inside its figure.
    // One client keeps the default: sqlx hands idle connections out in turn, and each
    // prepares every statement shape once, so more connections than clients cost
    // preparations in a short run.
    let mut tuning = tenderflow_store::Tuning::default();
    if cmd == "rush" {
        tuning.min_connections = num(&a, "clients", 16).max(8) as u32;
    }
    let store = Store::connect_with(
        &url,
        master,
        Arc::new(tenderflow_store::clock::SystemClock),
        tuning,
    )
    .await
    .expect("connect");
    let store = doc_store(store, &a);
    let sha = store
        .register_workflow("partner-recruitment.json", WORKFLOW)
        .await
        .expect("register")
        .sha256;
    match cmd.as_str() {
        "crash-writer" => {
            let n = num(&a, "bids", 1000);
            let at = published(&store, &sha, "T-crash").await;
            let mut out = std::io::stdout().lock();
            for i in 0..n {
                let (org, command) = submit(i, 0);
                store
                    .execute("T-crash", &format!("crash/{i}"), &command, at)
                    .await
                    .expect("bid");
                // Acknowledged only after the commit returned.
                writeln!(out, "ACK {org}")
                    .and_then(|()| out.flush())
                    .expect("stdout");
            }
        }
        "document-writer" => {
            let (n, size) = (num(&a, "docs", 100), num(&a, "size", 2_000_000) as u64);
            let tender = a.get("tender").cloned().unwrap_or_else(|| "T-docs".into());
            published(&store, &sha, &tender).await;
            let mut out = std::io::stdout().lock();
            for i in 0..n {
                let doc = store
                    .put_blob(
                        new_doc(&tender, &format!("org-{i:04}"), size),
                        generated(size, i as u64),
                    )
                    .await
                    .expect("upload");
                // Acknowledged only once every frame is durable and the row says `stored`.
                writeln!(out, "ACK {} {}", doc.id, doc.sha256)
                    .and_then(|()| out.flush())
                    .expect("stdout");
            }
        }
        "documents" => {
            use futures_util::StreamExt;
            let size = num(&a, "size", 200_000_000) as u64;
            published(&store, &sha, "T-bench-docs").await;
            let before = peak_rss_mib();
            let start = Instant::now();
            let doc = store
                .put_blob(new_doc("T-bench-docs", "org-1", size), generated(size, 7))
                .await
                .expect("upload");
            let up = start.elapsed().as_secs_f64();
            let after_up = peak_rss_mib();
            let row = store.blob(&doc.id).await.expect("row").expect("stored");
            let start = Instant::now();
            let mut read = 0u64;
            let mut bytes = std::pin::pin!(store.read_blob(row, 0..size));
            while let Some(chunk) = bytes.next().await {
                read += chunk.expect("bytes").len() as u64;
            }
            let down = start.elapsed().as_secs_f64();
            assert_eq!(read, size);
            let mib = size as f64 / 1024.0 / 1024.0;
            println!(
                "backend {}: {mib:.0} MiB sealed upload {:.0} MiB/s, download {:.0} MiB/s; peak RSS {before:.0} MiB before, {after_up:.0} MiB after the upload, {:.0} MiB after the download",
                store.blob_backend().kind(),
                mib / up,
                mib / down,
                peak_rss_mib()
            );
        }
        "rush" => rush(store, &sha, &a, &url).await,
        "tender" => whole(store, &sha, &a, &url).await,
        _ => {
            eprintln!(
                "usage: tenderflow-store-bench rush|tender|crash-writer|document-writer|documents --url URL [options]"
            );
            std::process::exit(2);
        }
    }
}

/// The raw per-commit ceiling: `total` bare `INSERT` + `COMMIT`s of `row` from `clients`
/// concurrent clients into a scratch table of the same database, in rows per second.
async fn ceiling(store: &Arc<Store>, clients: usize, total: usize, row: &str) -> f64 {
    use sea_orm::ConnectionTrait;
    use sea_orm::sea_query::{Alias, ColumnDef, Query, Table};
    let c = store.connection();
    let table = || Alias::new("bench_ceiling");
    c.execute(&Table::drop().table(table()).if_exists().to_owned())
        .await
        .expect("drop");
    c.execute(
        &Table::create()
            .table(table())
            .col(ColumnDef::new(Alias::new("id")).big_integer().primary_key())
            .col(ColumnDef::new(Alias::new("payload")).text().not_null())
            .to_owned(),
    )
    .await
    .expect("create");
    let start = Instant::now();
    let mut handles = Vec::new();
    for w in 0..clients {
        let store = store.clone();
        let row = row.to_owned();
        handles.push(tokio::spawn(async move {
            let mut i = w;
            while i < total {
                store
                    .connection()
                    .execute(
                        &Query::insert()
                            .into_table(table())
                            .columns([Alias::new("id"), Alias::new("payload")])
                            .values_panic([(i as i64).into(), row.clone().into()])
                            .to_owned(),
                    )
                    .await
                    .expect("insert");
                i += clients;
            }
        }));
    }
    for h in handles {
        h.await.expect("join");
    }
    total as f64 / start.elapsed().as_secs_f64()
}

/// Whole seed-case tenders back to back, durably, one client, one transaction per command
/// (draft, publish, 18 bids, the deadline, sign-offs, opening, committee, 90 score sheets,
/// report, proposal, publicity, award), beside the raw single-client ceiling measured in
/// the same run.
async fn whole(store: Arc<Store>, sha: &str, a: &HashMap<String, String>, url: &str) {
    let rounds = num(a, "tenders", 5);
    let first = num(a, "seed", 7000) as u64;
    let wf = store.workflow(sha).await.expect("workflow");
    let scripts: Vec<Vec<scenario::Step>> = (0..rounds)
        .map(|r| {
            scenario::script(
                &wf,
                &Params {
                    seed: first + r as u64,
                    ..Params::default()
                },
            )
        })
        .collect();
    let commands: usize = scripts.iter().map(Vec::len).sum();
    let row = "x".repeat(800);
    println!(
        "whole tenders on {}: {rounds} seed-case tenders of {} steps, one client, one commit per command",
        url.split('?').next().unwrap_or(url),
        scripts.first().map_or(0, Vec::len)
    );
    let ceiling = ceiling(&store, 1, commands.max(500), &row).await;
    println!(
        "raw ceiling (INSERT+COMMIT, 1 client, {} B row): {ceiling:>8.0} rows/s",
        row.len()
    );
    let start = Instant::now();
    for (r, steps) in scripts.iter().enumerate() {
        let id = scenario::tender_id(&Params {
            seed: first + r as u64,
            ..Params::default()
        });
        for (i, step) in steps.iter().enumerate() {
            let cid = format!("{id}/{i}");
            match &step.input {
                scenario::Input::Create(tid) => {
                    store
                        .create_tender(sha, tid, &cid, &step.actor, step.at)
                        .await
                        .expect("create");
                }
                scenario::Input::Timer => {
                    let fired = store
                        .fire_due_timers(step.at, "bench")
                        .await
                        .expect("timer");
                    assert!(!fired.is_empty(), "the deadline fires");
                }
                scenario::Input::Command(_) => {
                    let command = step.command().expect("a command");
                    store
                        .execute(&id, &cid, &command, step.at)
                        .await
                        .expect("accepted");
                }
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let rate = commands as f64 / secs;
    println!(
        "whole tenders: {rate:>8.0} commands/s, {:.2} tenders/s ({:.1} % of the ceiling)",
        rounds as f64 / secs,
        rate / ceiling * 100.0
    );
}

async fn rush(store: Arc<Store>, sha: &str, a: &HashMap<String, String>, url: &str) {
    let tenders = num(a, "tenders", 20);
    let per = num(a, "bids", 50);
    let clients = num(a, "clients", 16);
    let mode = a.get("mode").cloned().unwrap_or_else(|| "both".into());
    // Group commit's parallel lanes (PostgreSQL; SQLite always has one).
    let lanes = num(a, "lanes", tenderflow_store::group::DEFAULT_LANES);
    let total = tenders * per;
    let row = "x".repeat(serde_json::to_string(&bid(0)).map_or(600, |s| s.len()) + 400);
    println!(
        "deadline rush on {}: {tenders} tenders x {per} bids, {clients} clients",
        url.split('?').next().unwrap_or(url)
    );

    // The raw ceiling: a bare INSERT + COMMIT of an equally sized row, same concurrency.
    let ceiling = ceiling(&store, clients, total, &row).await;
    println!(
        "raw ceiling (INSERT+COMMIT, {} B row): {ceiling:>8.0} rows/s",
        row.len()
    );

    let run = |group: bool, round: usize| {
        let store = store.clone();
        let sha = sha.to_owned();
        async move {
            let mut at = Vec::new();
            for t in 0..tenders {
                at.push(published(&store, &sha, &format!("R{round}-{t:03}")).await);
            }
            let committer = group.then(|| GroupCommitter::with_lanes(store.clone(), 256, lanes));
            let start = Instant::now();
            let mut handles = Vec::new();
            let mut latencies = Vec::new();
            for w in 0..clients {
                let store = store.clone();
                let committer = committer.clone();
                let at = at.clone();
                handles.push(tokio::spawn(async move {
                    let mut lat = Vec::new();
                    let mut i = w;
                    while i < total {
                        let (t, n) = (i % tenders, i / tenders);
                        let (_, command) = submit(n, t);
                        let tender = format!("R{round}-{t:03}");
                        let id = format!("{tender}/bid/{n}");
                        let s = Instant::now();
                        match &committer {
                            Some(c) => c.execute(Request::new(&tender, &id, command, at[t])).await,
                            None => store.execute(&tender, &id, &command, at[t]).await,
                        }
                        .expect("bid accepted");
                        lat.push(s.elapsed().as_micros() as u64);
                        i += clients;
                    }
                    lat
                }));
            }
            for h in handles {
                latencies.extend(h.await.expect("join"));
            }
            let rate = total as f64 / start.elapsed().as_secs_f64();
            latencies.sort_unstable();
            let p = |q: f64| {
                latencies
                    .get(((latencies.len() as f64 - 1.0) * q) as usize)
                    .copied()
                    .unwrap_or(0) as f64
                    / 1000.0
            };
            (rate, p(0.5), p(0.99))
        }
    };
    let mut round = 0;
    let lanes_used = match store.backend() {
        sea_orm::DbBackend::Postgres => lanes.max(1),
        _ => 1,
    };
    let grouped = format!("group commit x{lanes_used}");
    for (name, group) in [("one commit per bid", false), (grouped.as_str(), true)] {
        if (mode == "commit" && group) || (mode == "group" && !group) {
            continue;
        }
        round += 1;
        let (rate, p50, p99) = run(group, round).await;
        println!(
            "{name:<20} {rate:>8.0} bids/s  ({:>5.1} % of ceiling)  p50 {p50:.1} ms  p99 {p99:.1} ms",
            rate / ceiling * 100.0
        );
    }
    let problems = store
        .verify(None)
        .await
        .expect("verify")
        .into_iter()
        .filter(|r| r.problem.is_some())
        .count();
    println!("chains verified: {} problems", problems);
}
