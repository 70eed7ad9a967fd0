//! The API over a real store: the seed case as staff, 18 bidders, 5 evaluators and an
//! inspector; every endpoint × role; bad input gets its status and code and changes nothing.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tenderflow_api::{AppState, app};
use tenderflow_core::scenario::{self, Params};
use tenderflow_core::{CommandBody, Timestamp};
use tenderflow_store::crypto::MasterKey;
use tenderflow_store::{Account, Store};
use tower::ServiceExt;

struct Env {
    router: axum::Router,
    store: Arc<Store>,
    tokens: BTreeMap<String, String>,
    steps: Vec<scenario::Step>,
    _dir: Dir,
}

struct Dir(std::path::PathBuf);
impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn env(bidders: u32) -> Env {
    env_with(bidders, false).await
}

async fn env_with(bidders: u32, group_commit: bool) -> Env {
    let dir = std::env::temp_dir().join(format!("tenderflow-api-{}", uuid_like()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
    let store = Arc::new(
        Store::connect(&url, MasterKey::generate().expect("key"))
            .await
            .expect("store"),
    );
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../workflows/partner-recruitment.json"),
    )
    .expect("wf");
    let sha = store
        .register_workflow("partner-recruitment.json", &bytes)
        .await
        .expect("register")
        .sha256;
    let wf = store.workflow(&sha).await.expect("wf");
    let params = Params {
        bidders,
        ..Params::default()
    };
    let steps = scenario::script(&wf, &params);
    let mut tokens = BTreeMap::new();
    let mut people = vec![
        (scenario::STAFF.to_owned(), "staff"),
        (scenario::INSPECTOR.to_owned(), "inspector"),
        ("root".to_owned(), "admin"),
        ("outsider".to_owned(), "bidder"),
    ];
    people.extend((0..bidders).map(|i| (scenario::bidder_id(i), "bidder")));
    people.extend((0..params.evaluators).map(|i| (scenario::evaluator_id(i), "evaluator")));
    people.push(("expert-99".to_owned(), "evaluator"));
    for (id, role) in people {
        let a = Account {
            id: id.clone(),
            role: role.into(),
            display_name: id.clone(),
            email: Some(format!("{id}@example.org")),
            locale: "en".into(),
        };
        tokens.insert(id, store.create_account(&a).await.expect("account"));
    }
    let state = AppState::with_manual_clock(store.clone(), steps[0].at);
    let state = if group_commit {
        state.with_group_commit(64)
    } else {
        state
    };
    Env {
        router: app(state),
        store,
        tokens,
        steps,
        _dir: Dir(dir),
    }
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("t")
            .as_nanos()
    )
}

impl Env {
    async fn call(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(who, method, path, body.map(|b| b.to_string()), &[])
            .await
    }

    async fn raw(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(w) = who {
            req = req.header("authorization", format!("Bearer {}", self.tokens[w]));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, v)
    }

    /// The ETag of a GET.
    async fn etag(&self, who: &str, path: &str) -> Option<String> {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {}", self.tokens[who]))
            .body(Body::empty())
            .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        resp.headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    async fn clock(&self, t: Timestamp) {
        let (s, v) = self
            .call(
                Some("root"),
                Method::POST,
                "/admin/clock",
                Some(json!({ "now": t })),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    /// Plays the scenario through the HTTP API up to (not including) step `until`.
    async fn play(&self, until: usize) {
        self.play_from(0, until).await;
    }

    /// Plays steps `from..until`.
    async fn play_from(&self, from: usize, until: usize) {
        let tender = "T-2021";
        for (i, step) in self.steps.iter().enumerate().take(until).skip(from) {
            self.clock(step.at).await;
            let who = step.command.actor.id.as_str();
            let (status, v) = match &step.command.body {
                CommandBody::CreateDraft { tender_id } => {
                    self.call(
                        Some(who),
                        Method::POST,
                        "/tenders",
                        Some(json!({ "workflow": "partner-recruitment", "tender_id": tender_id })),
                    )
                    .await
                }
                // Timers fire when the clock passes them.
                CommandBody::AdvanceTime => continue,
                CommandBody::SubmitBid { content, .. } => {
                    self.call(
                        Some(who),
                        Method::POST,
                        &format!("/tenders/{tender}/bids"),
                        Some(json!({ "content": content })),
                    )
                    .await
                }
                CommandBody::SubmitScores { bidder, sheet, .. } => {
                    self.call(
                        Some(who),
                        Method::POST,
                        &format!("/tenders/{tender}/scores"),
                        Some(json!({ "bidder": bidder, "sheet": sheet })),
                    )
                    .await
                }
                CommandBody::SignOff { gate, content } => {
                    self.call(
                        Some(who),
                        Method::POST,
                        &format!("/tenders/{tender}/signoffs"),
                        Some(json!({ "gate": gate, "content": content })),
                    )
                    .await
                }
                other => {
                    self.call(
                        Some(who),
                        Method::POST,
                        &format!("/tenders/{tender}/commands"),
                        Some(serde_json::to_value(other).expect("ser")),
                    )
                    .await
                }
            };
            assert!(
                status.is_success(),
                "step {i} {:?}: {status} {v}",
                step.command.body.name()
            );
        }
    }
}

#[tokio::test]
async fn the_seed_case_runs_over_http() {
    let e = env(18).await;
    e.play(e.steps.len()).await;
    let (s, v) = e
        .call(Some(scenario::STAFF), Method::GET, "/tenders/T-2021", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["state"], "awarded", "{v}");
    assert_eq!(v["awarded"].as_array().map(Vec::len), Some(7));
    assert_eq!(v["signoffs"].as_array().map(Vec::len), Some(3));
    let (_, audit) = e
        .call(
            Some(scenario::INSPECTOR),
            Method::GET,
            "/audit/verify",
            None,
        )
        .await;
    assert_eq!(audit["intact"], true);
    // A loser sees its own rank, never the others' rows.
    // Open contracting data, public.
    let (s, pkg) = e
        .call(None, Method::GET, "/ocds/releases?per_page=2", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{pkg}");
    assert_eq!(pkg["releases"].as_array().map(Vec::len), Some(2));
    assert!(pkg["links"]["next"].is_string());
    let (s, rec) = e
        .call(None, Method::GET, "/ocds/records/ocds-tndrfl-T-2021", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{rec}");
    let compiled = &rec["records"][0]["compiledRelease"];
    assert_eq!(
        compiled["bids"]["details"].as_array().map(Vec::len),
        Some(18)
    );
    assert_eq!(
        compiled["awards"]
            .as_array()
            .map(|a| a.iter().filter(|x| x["status"] == "active").count()),
        Some(7)
    );
    let loser = scenario::bidder_id(16);
    let (_, v) = e
        .call(Some(&loser), Method::GET, "/tenders/T-2021/report", None)
        .await;
    assert_eq!(v["ownRows"].as_array().map(Vec::len), Some(1), "{v}");
}

/// name, caller, method, path, body, headers, expected status, expected code.
type Case<'a> = (
    &'a str,
    Option<&'a str>,
    Method,
    &'a str,
    Option<String>,
    Vec<(&'a str, &'a str)>,
    StatusCode,
    &'a str,
);

#[tokio::test]
async fn group_commit_gives_the_same_answers() {
    let e = env_with(18, true).await;
    e.play(e.steps.len()).await;
    let (_, v) = e
        .call(Some(scenario::STAFF), Method::GET, "/tenders/T-2021", None)
        .await;
    assert_eq!(v["state"], "awarded", "{v}");
    assert_eq!(v["awarded"].as_array().map(Vec::len), Some(7));
    // Concurrent bids on a fresh tender, a duplicate and a refused one among them.
    let e = env_with(6, true).await;
    e.play(2).await;
    let mut handles = Vec::new();
    let e = std::sync::Arc::new(e);
    for i in 0..6u32 {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            let share = if i == 5 { 5 } else { 30 };
            let body = json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": share, "feeMinor": 100 + i } }).to_string();
            let who = scenario::bidder_id(i);
            e.raw(Some(&who), Method::POST, "/tenders/T-2021/bids", Some(body), &[("idempotency-key", "k")]).await
        }));
    }
    let mut codes = Vec::new();
    for h in handles {
        codes.push(h.await.expect("join").0);
    }
    assert_eq!(
        codes.iter().filter(|c| **c == StatusCode::CREATED).count(),
        5,
        "{codes:?}"
    );
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == StatusCode::UNPROCESSABLE_ENTITY)
            .count(),
        1,
        "{codes:?}"
    );
    let (_, t) = e
        .call(Some(scenario::STAFF), Method::GET, "/tenders/T-2021", None)
        .await;
    assert_eq!(t["bids"].as_array().map(Vec::len), Some(5));
    let (_, audit) = e
        .call(
            Some(scenario::INSPECTOR),
            Method::GET,
            "/audit/verify",
            None,
        )
        .await;
    assert_eq!(audit["intact"], true);
}

#[tokio::test]
async fn bad_input_gets_its_status_and_code_and_changes_nothing() {
    let e = env(3).await;
    e.play(3).await; // draft, publish, one bid
    let before = e.store.event_rows("T-2021").await.expect("rows");
    let outbox = e.store.outbox(None).await.expect("outbox").len();
    let bidder = scenario::bidder_id(1);
    let bids = "/tenders/T-2021/bids";
    let good = |fee: i64| json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 30, "feeMinor": fee } });
    let cases: Vec<Case<'_>> = vec![
        ("malformed JSON", Some(&bidder), Method::POST, bids, Some("{\"content\": ".into()), vec![], StatusCode::BAD_REQUEST, "malformed_json"),
        ("unknown field", Some(&bidder), Method::POST, bids, Some(json!({ "content": {}, "extra": 1 }).to_string()), vec![], StatusCode::BAD_REQUEST, "invalid_body"),
        ("wrong type", Some(&bidder), Method::POST, "/tenders/T-2021/scores", Some(json!({ "bidder": 5, "sheet": {} }).to_string()), vec![], StatusCode::BAD_REQUEST, "invalid_body"),
        ("unknown command", Some(scenario::STAFF), Method::POST, "/tenders/T-2021/commands", Some(json!({ "command": "bribe" }).to_string()), vec![], StatusCode::BAD_REQUEST, "invalid_body"),
        ("oversized body", Some(&bidder), Method::POST, bids, Some(format!("{{\"content\": \"{}\"}}", "x".repeat(2 * 1024 * 1024))), vec![], StatusCode::PAYLOAD_TOO_LARGE, "body_too_large"),
        ("breaks the bid form", Some(&bidder), Method::POST, bids, Some(json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 5, "feeMinor": 100 } }).to_string()), vec![], StatusCode::UNPROCESSABLE_ENTITY, "form_invalid"),
        ("wrong role", Some(scenario::INSPECTOR), Method::POST, bids, Some(good(100).to_string()), vec![], StatusCode::FORBIDDEN, "wrong_role"),
        ("no token", None, Method::POST, bids, Some(good(100).to_string()), vec![], StatusCode::UNAUTHORIZED, "unauthorized"),
        ("stale view", Some(scenario::STAFF), Method::POST, "/tenders/T-2021/commands", Some(json!({ "command": "cancel", "reason": "x" }).to_string()), vec![("if-match", "\"0123\"")], StatusCode::PRECONDITION_FAILED, "precondition_failed"),
        ("stale view of a bidder", Some(&bidder), Method::POST, bids, Some(good(100).to_string()), vec![("if-match", "\"2\"")], StatusCode::PRECONDITION_FAILED, "precondition_failed"),
        ("unknown tender", Some(&bidder), Method::POST, "/tenders/T-none/bids", Some(good(100).to_string()), vec![], StatusCode::NOT_FOUND, "not_found"),
        ("no route", Some(&bidder), Method::GET, "/tenders/T-2021/nothing", None, vec![], StatusCode::NOT_FOUND, "no_route"),
        ("timer by hand", Some(scenario::STAFF), Method::POST, "/tenders/T-2021/commands", Some(json!({ "command": "advance_time" }).to_string()), vec![], StatusCode::BAD_REQUEST, "invalid_command"),
    ];
    for (name, who, method, path, body, headers, status, code) in cases {
        let (s, v) = e.raw(who, method, path, body, &headers).await;
        assert_eq!((s, v["code"].as_str()), (status, Some(code)), "{name}: {v}");
        assert!(
            v["detail"].as_str().is_some_and(|m| !m.is_empty()),
            "{name}"
        );
    }
    // A late bid: the clock passes the deadline.
    let deadline = e
        .store
        .load("T-2021")
        .await
        .expect("load")
        .1
        .deadline
        .expect("deadline");
    e.clock(deadline).await;
    let (s, v) = e
        .call(Some(&bidder), Method::POST, bids, Some(good(100)))
        .await;
    // Trust #14: late, with the deadline, even though the deadline's timer has fired.
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("late_bid")),
        "{v}"
    );
    assert_eq!(v["details"]["deadline"], serde_json::json!(deadline));
    let after = e.store.event_rows("T-2021").await.expect("rows");
    // Only the deadline's own events were added (the timer fired when the clock moved).
    assert!(
        after
            .iter()
            .skip(before.len())
            .all(|r| r.kind == "submission_closed" || r.kind == "state_entered"),
        "{after:?}"
    );
    assert_eq!(e.store.outbox(None).await.expect("outbox").len(), outbox);
}

#[tokio::test]
async fn a_late_bid_is_refused_as_late() {
    let e = env(3).await;
    e.play(2).await;
    let deadline = e
        .store
        .load("T-2021")
        .await
        .expect("load")
        .1
        .deadline
        .expect("deadline");
    // Close the gap without letting the timer fire: decide at the deadline second.
    let state = AppState::with_manual_clock(e.store.clone(), deadline);
    let late_router = app(state);
    let bidder = scenario::bidder_id(0);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/tenders/T-2021/bids")
        .header("authorization", format!("Bearer {}", e.tokens[&bidder]))
        .header("content-type", "application/json")
        .body(Body::from(json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 30, "feeMinor": 100 } }).to_string()))
        .expect("req");
    let resp = late_router.oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = serde_json::from_slice(&resp.into_body().collect().await.expect("b").to_bytes())
        .expect("json");
    assert_eq!(v["code"], "late_bid", "{v}");
}

#[tokio::test]
async fn idempotency_key_repeats_the_first_answer() {
    let e = env(2).await;
    e.play(2).await;
    let bidder = scenario::bidder_id(0);
    let body = json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 30, "feeMinor": 100 } }).to_string();
    let (s1, v1) = e
        .raw(
            Some(&bidder),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(body.clone()),
            &[("idempotency-key", "bid-1")],
        )
        .await;
    let (s2, v2) = e
        .raw(
            Some(&bidder),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(body),
            &[("idempotency-key", "bid-1")],
        )
        .await;
    assert_eq!(s1, StatusCode::CREATED, "{v1}");
    assert_eq!(s2, StatusCode::CREATED, "{v2}");
    assert_eq!(v2["repeated"], true);
    assert_eq!(v1["receipt"], v2["receipt"]);
}

/// Every documented operation × every role: the status a role gets, before opening.
#[tokio::test]
async fn every_endpoint_for_every_role() {
    let e = env(3).await;
    e.play(3).await;
    let (_, doc) = e.call(None, Method::GET, "/openapi.json", None).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let b0 = scenario::bidder_id(0);
    let roles = [
        ("staff", scenario::STAFF),
        ("bidder", b0.as_str()),
        ("evaluator", "expert-99"),
        ("inspector", scenario::INSPECTOR),
        ("admin", "root"),
    ];
    // Reads that must be refused outright (checked first: the loop below also writes).
    let (s, _) = e
        .call(Some(&b0), Method::GET, "/tenders/T-2021/events", None)
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "bidders do not read the raw audit trail"
    );
    let (s, _) = e
        .call(Some("expert-99"), Method::GET, "/tenders/T-2021", None)
        .await;
    assert_eq!(
        s,
        StatusCode::FORBIDDEN,
        "an evaluator reads only tenders whose committee it sits on"
    );
    let (_, v) = e
        .call(Some(scenario::STAFF), Method::GET, "/tenders/T-2021", None)
        .await;
    assert!(
        v["bids"]
            .as_array()
            .expect("bids")
            .iter()
            .all(|b| b["content"].is_null()),
        "staff see no sealed bid before opening"
    );
    let (_, v) = e
        .call(Some(&b0), Method::GET, "/tenders/T-2021", None)
        .await;
    assert_eq!(
        v["bids"].as_array().map(Vec::len),
        Some(1),
        "a bidder sees only its own bid"
    );
    let mut checked = 0;
    for (path, ops) in doc["paths"].as_object().expect("paths") {
        for (method, op) in ops.as_object().expect("ops") {
            let concrete = path.replace("{ocid}", "ocds-none-T-2021").replace(
                "{id}",
                if path.starts_with("/outbox") {
                    "1"
                } else if path.starts_with("/workflows") {
                    "partner-recruitment"
                } else {
                    "T-2021"
                },
            );
            let allowed = op["description"].as_str().unwrap_or_default().to_owned();
            for (role, who) in roles {
                let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let body = op.get("requestBody").map(|_| json!({}).to_string());
                let (s, v) = e.raw(Some(who), m.clone(), &concrete, body, &[]).await;
                assert_ne!(
                    v["code"], "no_route",
                    "{method} {path} is documented but not routed"
                );
                assert_ne!(
                    s,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "{method} {path} as {role}: {v}"
                );
                let listed = allowed.contains(role) || allowed.contains("anyone");
                if !listed {
                    assert!(
                        matches!(
                            s,
                            StatusCode::FORBIDDEN
                                | StatusCode::NOT_FOUND
                                | StatusCode::BAD_REQUEST
                                | StatusCode::UNPROCESSABLE_ENTITY
                        ),
                        "{method} {path} as {role} (not allowed): {s} {v}"
                    );
                    if s.is_client_error()
                        && s != StatusCode::BAD_REQUEST
                        && s != StatusCode::UNPROCESSABLE_ENTITY
                    {
                        assert!(v["code"].is_string());
                    }
                } else if m == Method::GET {
                    // Reads the role may make succeed, except the evaluator who is on no
                    // committee (403) and things not there yet (409/404).
                    let ok = s.is_success()
                        || (role == "evaluator" && s == StatusCode::FORBIDDEN)
                        || s == StatusCode::CONFLICT
                        || s == StatusCode::NOT_FOUND;
                    assert!(ok, "{method} {path} as {role}: {s} {v}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 25 * 5, "{checked}");
}

/// Trust #8: an Idempotency-Key is bound to its account, tender and request; reusing it for
/// another body, method or tender is `422 idempotency_key_reused` and writes nothing; keys of
/// different accounts never collide.
#[tokio::test]
async fn trust_08_an_idempotency_key_is_bound_to_its_request() {
    let mut e = env(2).await;
    e.play(2).await;
    for id in ["a:b", "a"] {
        let acc = Account {
            id: id.into(),
            role: "bidder".into(),
            display_name: id.into(),
            email: None,
            locale: "en".into(),
        };
        let token = e.store.create_account(&acc).await.expect("account");
        e.tokens.insert(id.into(), token);
    }
    let bid = |fee: u32| {
        json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 30, "feeMinor": fee } }).to_string()
    };
    let bidder = scenario::bidder_id(0);
    let key = [("idempotency-key", "k-1")];
    let (s, v) = e
        .raw(
            Some(&bidder),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(bid(100)),
            &key,
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let before = e.store.event_rows("T-2021").await.expect("rows").len();
    // Another body.
    let (s, v) = e
        .raw(
            Some(&bidder),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(bid(999)),
            &key,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("idempotency_key_reused")
        ),
        "{v}"
    );
    // Another method (a replacement with the same body).
    let (s, v) = e
        .raw(
            Some(&bidder),
            Method::PUT,
            "/tenders/T-2021/bids",
            Some(bid(100)),
            &key,
        )
        .await;
    assert_eq!(v["code"], "idempotency_key_reused", "{s} {v}");
    // Another tender.
    let (s, v) = e
        .raw(
            Some(&bidder),
            Method::POST,
            "/tenders/T-other/bids",
            Some(bid(100)),
            &key,
        )
        .await;
    assert_eq!(v["code"], "idempotency_key_reused", "{s} {v}");
    assert_eq!(
        e.store.event_rows("T-2021").await.expect("rows").len(),
        before
    );
    // `a:b` with key `c` and `a` with key `b:c` are two commands.
    let (s1, v1) = e
        .raw(
            Some("a:b"),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(bid(1)),
            &[("idempotency-key", "c")],
        )
        .await;
    let (s2, v2) = e
        .raw(
            Some("a"),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(bid(2)),
            &[("idempotency-key", "b:c")],
        )
        .await;
    assert_eq!(
        (s1, s2),
        (StatusCode::CREATED, StatusCode::CREATED),
        "{v1} {v2}"
    );
    assert_eq!(
        (v1["repeated"].as_bool(), v2["repeated"].as_bool()),
        (Some(false), Some(false))
    );
}

/// Trust #9: until the report is final the audit trail withholds every score sheet from
/// staff and inspectors; afterwards the officials read them.
#[tokio::test]
async fn trust_09_staff_read_no_scores_before_the_report_is_final() {
    // Eight bidders: the partner recruitment needs at least eight valid bids for seven places.
    let e = env(8).await;
    let first_score = e
        .steps
        .iter()
        .position(|s| matches!(s.command.body, CommandBody::SubmitScores { .. }))
        .expect("a score step");
    let finalize = e
        .steps
        .iter()
        .position(|s| matches!(s.command.body, CommandBody::FinalizeEvaluation { .. }))
        .expect("the finalisation");
    e.play(first_score + 2).await;
    let scored = |v: &Value| -> Vec<Value> {
        v["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|ev| ev["payload"]["type"] == "scores_submitted")
            .map(|ev| ev["payload"].clone())
            .collect()
    };
    for who in [scenario::STAFF, scenario::INSPECTOR, "root"] {
        let (s, v) = e
            .call(Some(who), Method::GET, "/tenders/T-2021/events", None)
            .await;
        assert_eq!(s, StatusCode::OK);
        let sheets = scored(&v);
        assert_eq!(sheets.len(), 2, "{who}: {v}");
        assert!(
            sheets
                .iter()
                .all(|p| p.get("scores").is_none() && p["withheld"].is_string()),
            "{who}: {sheets:?}"
        );
    }
    e.play_from(first_score + 2, finalize + 1).await;
    let (_, v) = e
        .call(
            Some(scenario::STAFF),
            Method::GET,
            "/tenders/T-2021/events",
            None,
        )
        .await;
    assert!(
        scored(&v).iter().all(|p| p.get("withheld").is_none()),
        "{v}"
    );
}

/// Trust #13: before the opening nothing a bidder can see depends on other bids: the list,
/// the tender, the timeline, the receipts and the command answers are the same whether or
/// not others have bid.
#[tokio::test]
async fn trust_13_a_bidder_cannot_count_the_other_bids() {
    let e = env(4).await;
    e.play(2).await; // draft, publish
    let bid = |fee: u32| json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 30, "feeMinor": fee } });
    let me = scenario::bidder_id(0);
    let (s, mine) = e
        .call(
            Some(&me),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(bid(100)),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{mine}");
    assert!(
        mine["receipt"]["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("R-")),
        "{mine}"
    );
    assert!(mine["receipt"].get("number").is_none(), "{mine}");
    assert!(
        mine["events"]
            .as_array()
            .expect("events")
            .iter()
            .all(|ev| ev["seq"].is_null()),
        "{mine}"
    );
    let look = || async {
        let mut out = Vec::new();
        for path in [
            "/tenders",
            "/tenders/T-2021",
            "/tenders/T-2021/timeline",
            "/tenders/T-2021/bids/receipt",
        ] {
            out.push(e.call(Some(&me), Method::GET, path, None).await.1);
        }
        out
    };
    let before = look().await;
    let tag_before = e.etag(&me, "/tenders/T-2021").await;
    for i in 1..4 {
        let (s, v) = e
            .call(
                Some(&scenario::bidder_id(i)),
                Method::POST,
                "/tenders/T-2021/bids",
                Some(bid(200 + i)),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let after = look().await;
    assert_eq!(
        before, after,
        "a bidder's reads do not move with other bids"
    );
    // If-Match takes the ETag of the bidder's own view, which other bids do not move: the
    // tag taken before them still matches, so probing it counts nothing.
    let tag = tag_before.expect("GET /tenders/{id} sends an ETag");
    let (s, v) = e
        .raw(
            Some(&me),
            Method::PUT,
            "/tenders/T-2021/bids",
            Some(bid(101).to_string()),
            &[("if-match", tag.as_str())],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, v) = e
        .raw(
            Some(&me),
            Method::PUT,
            "/tenders/T-2021/bids",
            Some(bid(102).to_string()),
            &[("if-match", tag.as_str())],
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("precondition_failed")),
        "its own replacement changed its view"
    );
}

/// Trust #18: every identifier is checked against one pattern at the edge: a NUL byte, a
/// control character or a space in a path, body or query id is `400 invalid_id`.
#[tokio::test]
async fn trust_18_ids_are_validated_at_the_edge() {
    let e = env(2).await;
    e.play(2).await;
    let staff = Some(scenario::STAFF);
    let bidder = scenario::bidder_id(0);
    let cases: Vec<(Option<&str>, Method, &str, Option<Value>)> = vec![
        (staff, Method::GET, "/tenders/T%002021", None),
        (staff, Method::GET, "/tenders/T%092021/events", None),
        (staff, Method::GET, "/workflows/partner%00", None),
        (staff, Method::GET, "/audit/verify?tender=T%00", None),
        (
            staff,
            Method::POST,
            "/tenders",
            Some(json!({ "workflow": "partner-recruitment", "tender_id": "T\u{0}1" })),
        ),
        (
            staff,
            Method::POST,
            "/tenders",
            Some(json!({ "workflow": "partner\u{0}", "tender_id": "T-9" })),
        ),
        (
            staff,
            Method::POST,
            "/tenders",
            Some(json!({ "workflow": "partner-recruitment", "tender_id": " T-9" })),
        ),
        (
            Some(&bidder),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(json!({ "lot": "1\u{0}", "content": {} })),
        ),
        (
            Some(&bidder),
            Method::DELETE,
            "/tenders/T-2021/bids?lot=%00",
            None,
        ),
        (None, Method::GET, "/ocds/records/ocds-x%00", None),
    ];
    for (who, method, path, body) in cases {
        let (s, v) = e.call(who, method.clone(), path, body.clone()).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_id")),
            "{method} {path} {body:?}: {v}"
        );
    }
    // An id inside a command (a committee member) is checked by the core's id type.
    let (s, v) = e
        .call(
            staff,
            Method::POST,
            "/tenders/T-2021/commands",
            Some(json!({ "command": "appoint_committee", "members": [{ "id": "ex\u{0}pert", "kind": "expert" }] })),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

/// Errors are RFC 9457 problem details with the stable code; a 401 says how to
/// authenticate; /ready checks the database, migrations and master key; /version answers.
#[tokio::test]
async fn problems_ready_and_version() {
    let e = env(1).await;
    let req = Request::builder()
        .uri("/me")
        .body(Body::empty())
        .expect("request");
    let resp = e.router.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    assert!(
        resp.headers()
            .get("www-authenticate")
            .is_some_and(|v| v.to_str().is_ok_and(|s| s.starts_with("Bearer")))
    );
    let request_id = resp
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .expect("every response names its request");
    let v: Value = serde_json::from_slice(&resp.into_body().collect().await.expect("b").to_bytes())
        .expect("json");
    assert_eq!(
        v["requestId"],
        request_id.as_str(),
        "the problem names the request"
    );
    assert_eq!(
        (v["status"].as_u64(), v["code"].as_str()),
        (Some(401), Some("unauthorized"))
    );
    assert!(v["type"].is_string() && v["title"].is_string() && v["detail"].is_string());
    let (s, v) = e.call(None, Method::GET, "/ready", None).await;
    assert_eq!(
        (s, v["status"].as_str()),
        (StatusCode::OK, Some("ready")),
        "{v}"
    );
    let (s, v) = e.call(None, Method::GET, "/version", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    // A store whose master key is not the database's is not ready.
    use sea_orm::ConnectionTrait;
    e.store
        .connection()
        .execute_unprepared("UPDATE settings SET value = 'other' WHERE name = 'master_key_check'")
        .await
        .expect("update");
    let (s, v) = e.call(None, Method::GET, "/ready", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("not_ready")),
        "{v}"
    );
}

/// Accounts over the API: admins create, list, disable and issue and revoke tokens; a revoked
/// token is refused on the very next request; other roles get 403.
#[tokio::test]
async fn admins_manage_accounts_and_tokens() {
    let e = env(1).await;
    let (s, v) = e
        .call(Some(scenario::STAFF), Method::GET, "/accounts", None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = e
        .call(
            Some("root"),
            Method::POST,
            "/accounts",
            Some(json!({ "id": "clerk-1", "role": "staff", "name": "Clerk", "email": "clerk@example.org", "locale": "en" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let token = v["token"].as_str().expect("token").to_owned();
    let me = |token: String| {
        let router = e.router.clone();
        async move {
            let req = Request::builder()
                .uri("/me")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .expect("request");
            router.oneshot(req).await.expect("response").status()
        }
    };
    assert_eq!(me(token.clone()).await, StatusCode::OK);
    let (s, v) = e.call(Some("root"), Method::GET, "/accounts", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        v["accounts"]
            .as_array()
            .expect("list")
            .iter()
            .any(|a| a["id"] == "clerk-1")
    );
    let (s, v) = e
        .call(
            Some("root"),
            Method::POST,
            "/accounts/clerk-1/tokens",
            Some(json!({ "label": "laptop", "expiresDays": 30 })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let second = v["token"].as_str().expect("token").to_owned();
    assert!(v["expires_ms"].is_i64(), "{v}");
    let (_, v) = e
        .call(Some("root"), Method::GET, "/accounts/clerk-1/tokens", None)
        .await;
    let first_id = v["tokens"]
        .as_array()
        .expect("tokens")
        .iter()
        .find(|t| t["label"] == "first")
        .and_then(|t| t["id"].as_str())
        .expect("first")
        .to_owned();
    let (s, _) = e
        .call(
            Some("root"),
            Method::POST,
            &format!("/tokens/{first_id}/revoke"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me(token).await, StatusCode::UNAUTHORIZED, "revoked at once");
    assert_eq!(me(second.clone()).await, StatusCode::OK);
    let (s, _) = e
        .call(
            Some("root"),
            Method::POST,
            "/accounts/clerk-1/disable",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        me(second.clone()).await,
        StatusCode::UNAUTHORIZED,
        "disabled at once"
    );
    let (s, v) = e
        .call(
            Some("root"),
            Method::PUT,
            "/accounts/clerk-1/email",
            Some(json!({ "email": "x@" })),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_account"))
    );
}

/// Lists refuse unknown query parameters and page with a cursor.
#[tokio::test]
async fn lists_refuse_unknown_parameters_and_page_with_a_cursor() {
    let e = env(1).await;
    e.play(2).await;
    for id in ["T-a", "T-b"] {
        let (s, v) = e
            .call(
                Some(scenario::STAFF),
                Method::POST,
                "/tenders",
                Some(json!({ "workflow": "partner-recruitment", "tender_id": id })),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    for path in [
        "/tenders?stat=draft",
        "/outbox?status=sent&x=1",
        "/audit/verify?tenders=T",
        "/tenders?limit=0",
        "/tenders?limit=x",
    ] {
        let (s, v) = e.call(Some(scenario::STAFF), Method::GET, path, None).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("invalid_query")),
            "{path}: {v}"
        );
    }
    let mut seen = Vec::new();
    let mut path = "/tenders?limit=2".to_owned();
    loop {
        let (s, v) = e
            .call(Some(scenario::STAFF), Method::GET, &path, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        seen.extend(
            v["tenders"]
                .as_array()
                .expect("tenders")
                .iter()
                .map(|t| t["id"].as_str().expect("id").to_owned()),
        );
        match v["next"].as_str() {
            Some(next) => path = format!("/tenders?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ["T-2021", "T-a", "T-b"]);
    let (_, v) = e
        .call(
            Some(scenario::STAFF),
            Method::GET,
            "/tenders?state=draft&workflow=partner-recruitment",
            None,
        )
        .await;
    assert_eq!(v["tenders"].as_array().map(Vec::len), Some(2), "{v}");
    let (_, v) = e
        .call(Some("root"), Method::GET, "/outbox?limit=1", None)
        .await;
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(1), "{v}");
    assert!(v["next"].is_i64(), "{v}");
}

/// /metrics: requests by route and status with latency, commands by kind and outcome, and
/// the outbox and timer gauges, in the Prometheus text format.
#[tokio::test]
async fn metrics_count_requests_commands_and_queues() {
    let e = env(2).await;
    e.play(3).await; // draft, publish, one bid
    let bad = json!({ "content": { "organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 5, "feeMinor": 100 } });
    let (s, _) = e
        .call(
            Some(&scenario::bidder_id(1)),
            Method::POST,
            "/tenders/T-2021/bids",
            Some(bad),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let req = Request::builder()
        .uri("/metrics")
        .body(Body::empty())
        .expect("request");
    let resp = e.router.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .expect("b")
            .to_bytes()
            .to_vec(),
    )
    .expect("utf-8");
    for needle in [
        "tenderflow_http_requests_seconds_count{route=\"/tenders/{id}/bids\",method=\"POST\",status=\"201\"} 1",
        "tenderflow_http_requests_seconds_count{route=\"/tenders/{id}/bids\",method=\"POST\",status=\"422\"} 1",
        "tenderflow_commands_total{kind=\"submit_bid\",outcome=\"ok\"} 1",
        "tenderflow_commands_total{kind=\"submit_bid\",outcome=\"form_invalid\"} 1",
        "tenderflow_commands_total{kind=\"publish\",outcome=\"ok\"} 1",
        "# TYPE tenderflow_outbox_pending gauge",
        "tenderflow_outbox_dead 0",
        "tenderflow_timers_stuck 0",
        "tenderflow_timer_lag_seconds",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
}
