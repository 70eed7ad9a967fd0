//! The seed case through the real server: 18 receipts, 7 award notices, 11 regret notices,
//! every gate signed, the chain verified; and two servers on one PostgreSQL firing every
//! timer and sending every message once.

use crate::harness::{Db, Env, Smtp, master_key};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use tenderflow_core::CommandBody;
use tenderflow_core::model::{SubmitBid, SubmitScores};
use tenderflow_core::scenario::{self, Input, Params};
use tenderflow_testkit::fixtures::seed_roles;

fn people(params: &Params) -> Vec<(String, &'static str)> {
    let mut p = seed_roles(params.bidders, params.evaluators);
    p.push(("root".to_owned(), "admin"));
    p
}

fn script(params: &Params) -> Vec<scenario::Step> {
    let bytes = tenderflow_testkit::workflow_bytes("partner-recruitment");
    let wf = tenderflow_core::load("partner-recruitment.json", &bytes).expect("wf");
    scenario::script(&wf, params)
}

/// The HTTP call that plays `step` on `tender`: method, path and body (`None` for a timer,
/// which fires when the clock passes it).
fn request_for(step: &scenario::Step, tender: &str) -> Option<(Method, String, Value)> {
    Some(match &step.input {
        Input::Timer => return None,
        Input::Create(_) => (
            Method::POST,
            "/tenders".to_owned(),
            json!({ "workflow": "partner-recruitment", "tenderId": tender }),
        ),
        Input::Command(CommandBody::SubmitBid(SubmitBid { content, .. })) => (
            Method::POST,
            format!("/tenders/{tender}/bids"),
            json!({ "content": content }),
        ),
        Input::Command(CommandBody::SubmitScores(SubmitScores { bidder, sheet, .. })) => (
            Method::POST,
            format!("/tenders/{tender}/scores"),
            json!({ "bidder": bidder, "sheet": sheet }),
        ),
        Input::Command(other) => (
            Method::POST,
            format!("/tenders/{tender}/commands"),
            serde_json::to_value(other).expect("ser"),
        ),
    })
}

async fn play(
    server: &crate::harness::Server,
    tokens: &BTreeMap<String, String>,
    steps: &[scenario::Step],
    tender: &str,
) {
    for (i, step) in steps.iter().enumerate() {
        server.clock(&tokens["root"], &step.at).await;
        let Some((method, path, body)) = request_for(step, tender) else {
            continue;
        };
        let token = &tokens[step.actor.id.as_str()];
        let (status, v) = server.call(token, method, &path, Some(body)).await;
        assert!(
            (200..300).contains(&status),
            "step {i} {}: {status} {v}",
            step.input.name()
        );
    }
}

async fn drained(server: &crate::harness::Server, staff: &str) -> Vec<Value> {
    for _ in 0..300 {
        let (_, v) = server
            .call(staff, Method::GET, "/outbox?status=pending", None)
            .await;
        if v["messages"].as_array().is_some_and(Vec::is_empty) {
            let (_, sent) = server
                .call(staff, Method::GET, "/outbox?status=sent", None)
                .await;
            return sent["messages"].as_array().cloned().unwrap_or_default();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the outbox did not drain");
}

#[tokio::test]
async fn the_seed_case_through_the_real_server() {
    for db in Db::all().await {
        let Some(smtp) = Smtp::start() else { return };
        let env = Env {
            db: &db,
            key: master_key(),
            smtp: &smtp,
        };
        let params = Params::default();
        let tokens = env.accounts(&people(&params));
        let steps = script(&params);
        let server = env.serve(&steps[0].at.to_rfc3339());
        play(&server, &tokens, &steps, "T-2021").await;
        let staff = &tokens[scenario::STAFF];
        let (_, t) = server
            .call(staff, Method::GET, "/tenders/T-2021", None)
            .await;
        assert_eq!(t["state"], "awarded", "[{}] {t}", db.name);
        assert_eq!(t["bids"].as_array().map(Vec::len), Some(18));
        assert_eq!(t["awarded"].as_array().map(Vec::len), Some(7));
        let gates: BTreeSet<&str> = t["signoffs"]
            .as_array()
            .expect("signoffs")
            .iter()
            .filter_map(|s| s["gate"].as_str())
            .collect();
        assert_eq!(
            gates,
            BTreeSet::from(["opening", "evaluation_report", "award"]),
            "[{}] every gate signed",
            db.name
        );
        let (_, audit) = server
            .call(
                &tokens[scenario::INSPECTOR],
                Method::GET,
                "/audit/verify",
                None,
            )
            .await;
        assert_eq!(audit["intact"], true, "[{}] {audit}", db.name);
        let sent = drained(&server, staff).await;
        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for m in &sent {
            *kinds
                .entry(m["message"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        assert_eq!(
            kinds.get("bid_receipt"),
            Some(&18),
            "[{}] {kinds:?}",
            db.name
        );
        assert_eq!(
            kinds.get("award_notice"),
            Some(&7),
            "[{}] {kinds:?}",
            db.name
        );
        assert_eq!(
            kinds.get("regret_notice"),
            Some(&11),
            "[{}] {kinds:?}",
            db.name
        );
        drop(server);
        // The audit command agrees.
        let out = env
            .command()
            .args(["audit", "verify"])
            .output()
            .expect("audit");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let ids = smtp.message_ids();
        let distinct: BTreeSet<&String> = ids.iter().collect();
        assert_eq!(ids.len(), sent.len(), "[{}] every message arrived", db.name);
        assert_eq!(
            distinct.len(),
            ids.len(),
            "[{}] no message was sent twice",
            db.name
        );
    }
}

#[tokio::test]
async fn two_servers_on_one_postgres_fire_each_timer_and_send_each_message_once() {
    let Some(smtp) = Smtp::start() else { return };
    let Some(db) = Db::postgres().await else {
        return;
    };
    let env = Env {
        db: &db,
        key: master_key(),
        smtp: &smtp,
    };
    let params = Params {
        bidders: 4,
        ..Params::default()
    };
    let tokens = env.accounts(&people(&params));
    let steps = script(&params);
    let a = env.serve(&steps[0].at.to_rfc3339());
    let b = env.serve(&steps[0].at.to_rfc3339());
    // Eight tenders, each with four bids, all due at the same deadline.
    let bid_steps: Vec<&scenario::Step> = steps
        .iter()
        .filter(|s| matches!(s.input, Input::Command(CommandBody::SubmitBid(_))))
        .collect();
    for s in steps.iter().take(2).chain(bid_steps.iter().copied()) {
        a.clock(&tokens["root"], &s.at).await;
        b.clock(&tokens["root"], &s.at).await;
        for n in 0..8 {
            let tender = format!("T-{n}");
            let server = if n % 2 == 0 { &a } else { &b };
            let token = &tokens[s.actor.id.as_str()];
            let (method, path, body) = request_for(s, &tender).expect("no timers here");
            let (status, v) = server.call(token, method, &path, Some(body)).await;
            assert!((200..300).contains(&status), "{status} {v}");
        }
    }
    // Both servers' clocks pass the deadline at once.
    let deadline = steps
        .iter()
        .find(|s| s.input == Input::Timer)
        .expect("deadline")
        .at;
    let (ra, rb) = tokio::join!(
        a.call(
            &tokens["root"],
            Method::POST,
            "/admin/clock",
            Some(json!({ "now": deadline }))
        ),
        b.call(
            &tokens["root"],
            Method::POST,
            "/admin/clock",
            Some(json!({ "now": deadline }))
        )
    );
    assert_eq!((ra.0, rb.0), (200, 200));
    for _ in 0..100 {
        let (_, list) = a
            .call(
                &tokens[scenario::STAFF],
                Method::GET,
                "/tenders?state=submission_closed",
                None,
            )
            .await;
        if list["tenders"].as_array().map(Vec::len) == Some(8) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for n in 0..8 {
        let (_, ev) = a
            .call(
                &tokens[scenario::STAFF],
                Method::GET,
                &format!("/tenders/T-{n}/events"),
                None,
            )
            .await;
        let closes = ev["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["payload"]["type"] == "submission_closed")
            .count();
        assert_eq!(closes, 1, "T-{n}: the deadline fired once");
    }
    let sent = drained(&a, &tokens[scenario::STAFF]).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ids = smtp.message_ids();
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(ids.len(), sent.len(), "every message delivered once");
    assert_eq!(distinct.len(), ids.len(), "no duplicates");
}
