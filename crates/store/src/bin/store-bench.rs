//! Load tools for the store: the deadline-rush benchmark and the crash writer the SIGKILL
//! test kills.
//!
//! ```text
//! tenderflow-store-bench rush --url URL [--tenders 20] [--bids 50] [--clients 16] [--mode commit|group|both]
//! tenderflow-store-bench crash-writer --url URL --key HEX [--bids 1000]
//! ```

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
    let store = Arc::new(Store::connect(&url, master).await.expect("connect"));
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
        "rush" => rush(store, &sha, &a, &url).await,
        _ => {
            eprintln!("usage: tenderflow-store-bench rush|crash-writer --url URL [options]");
            std::process::exit(2);
        }
    }
}

async fn rush(store: Arc<Store>, sha: &str, a: &HashMap<String, String>, url: &str) {
    let tenders = num(a, "tenders", 20);
    let per = num(a, "bids", 50);
    let clients = num(a, "clients", 16);
    let mode = a.get("mode").cloned().unwrap_or_else(|| "both".into());
    let total = tenders * per;
    let row = "x".repeat(serde_json::to_string(&bid(0)).map_or(600, |s| s.len()) + 400);
    println!(
        "deadline rush on {}: {tenders} tenders x {per} bids, {clients} clients",
        url.split('?').next().unwrap_or(url)
    );

    // The raw ceiling: a bare INSERT + COMMIT of an equally sized row, same concurrency.
    let ceiling = {
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
            let row = row.clone();
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
    };
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
            let committer = group.then(|| GroupCommitter::start(store.clone(), 256));
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
    for (name, group) in [("one commit per bid", false), ("group commit", true)] {
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
