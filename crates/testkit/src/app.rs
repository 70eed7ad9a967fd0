//! The API in process (the router without a socket) over a store on SQLite with the seed
//! case's accounts, in zero2prod's `spawn_app` shape: requests go through the same router
//! `tenderflow serve` runs.

use crate::TempDir;
use crate::fixtures::{account, seed_people};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tenderflow_api::{AppState, app};
use tenderflow_app::App;
use tenderflow_core::model::{SignOff, SubmitBid, SubmitScores};
use tenderflow_core::scenario::{self, Input, Params};
use tenderflow_core::{CommandBody, Timestamp};
use tenderflow_store::clock::ManualClock;
use tenderflow_store::crypto::MasterKey;
use tenderflow_store::{Store, Tuning};
use tower::ServiceExt;

/// The app, its store, every seed account's token and the seed script.
#[derive(Debug)]
pub struct TestApp {
    /// The router.
    pub router: axum::Router,
    /// The use cases under it (for tests without HTTP).
    pub app: App,
    /// The one clock, which `POST /admin/clock` moves (and fires timers); tests may also set
    /// it directly.
    pub clock: Arc<ManualClock>,
    /// The store under it.
    pub store: Arc<Store>,
    /// Bearer tokens by account id.
    pub tokens: BTreeMap<String, String>,
    /// The seed case's script.
    pub steps: Vec<scenario::Step>,
    _dir: Option<TempDir>,
}

/// The app with `bidders` bidders, on a manual clock at the script's start.
pub async fn spawn_app(bidders: u32) -> TestApp {
    spawn_app_with(bidders, false).await
}

/// [`spawn_app`], with group commit on or off.
pub async fn spawn_app_with(bidders: u32, group_commit: bool) -> TestApp {
    let dir = TempDir::new("api");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("db.sqlite").display()
    );
    let mut app = spawn_app_at(&url, bidders, group_commit).await;
    app._dir = Some(dir);
    app
}

/// [`spawn_app`] on the (empty) database at `url` (e.g. a [`crate::db::Scratch`]'s).
pub async fn spawn_app_at(url: &str, bidders: u32, group_commit: bool) -> TestApp {
    let params = Params {
        bidders,
        ..Params::default()
    };
    let wf = tenderflow_core::load(
        "partner-recruitment.json",
        &crate::workflow_bytes("partner-recruitment"),
    )
    .expect("definition");
    let steps = scenario::script(&wf, &params);
    // The one clock: the store records and decides at its time; `POST /admin/clock` moves it.
    let clock = Arc::new(ManualClock::new(steps[0].at));
    let store = Arc::new(
        Store::connect_with(
            url,
            MasterKey::generate().expect("key"),
            clock.clone(),
            // PostgreSQL is shared by every test: a few connections each.
            Tuning {
                max_connections: 4,
                min_connections: 1,
                ..Tuning::default()
            },
        )
        .await
        .expect("store"),
    );
    crate::fixtures::register_seed(&store).await;
    let mut tokens = BTreeMap::new();
    for (id, role) in seed_people(bidders, params.evaluators) {
        let token = store
            .create_account(&account(&id, role))
            .await
            .expect("account");
        tokens.insert(id, token);
    }
    let app_ = App::with_manual_clock(store.clone(), clock.clone());
    let app_ = if group_commit {
        app_.with_group_commit(64)
    } else {
        app_
    };
    TestApp {
        router: app(AppState::new(app_.clone())),
        app: app_,
        clock,
        store,
        tokens,
        steps,
        _dir: None,
    }
}

impl TestApp {
    pub async fn call(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.raw(who, method, path, body.map(|b| b.to_string()), &[])
            .await
    }

    pub async fn raw(
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

    /// A request with a raw body (`content_type`, when given) whose answer is read as
    /// bytes, with its headers.
    pub async fn bytes(
        &self,
        who: Option<&str>,
        method: Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(w) = who {
            req = req.header("authorization", format!("Bearer {}", self.tokens[w]));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some((t, b)) => req.header("content-type", t).body(Body::from(b)),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("response");
        let (status, headers) = (resp.status(), resp.headers().clone());
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, headers, bytes.to_vec())
    }

    /// The ETag of a GET.
    pub async fn etag(&self, who: &str, path: &str) -> Option<String> {
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

    pub async fn clock(&self, t: Timestamp) {
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
    pub async fn play(&self, until: usize) {
        self.play_from(0, until).await;
    }

    /// Plays steps `from..until`.
    pub async fn play_from(&self, from: usize, until: usize) {
        let steps: Vec<(usize, &scenario::Step)> = self
            .steps
            .iter()
            .enumerate()
            .take(until)
            .skip(from)
            .collect();
        self.play_steps(&steps).await;
    }

    /// Plays the stage after the award (`scenario::contract_script` on the awarded seed
    /// tender) through the HTTP API.
    pub async fn play_contracts(&self) {
        let (wf, t) = self.store.load("T-2021").await.expect("the seed tender");
        let steps = scenario::contract_script(&wf, &t, &scenario::ContractParams::default());
        assert!(!steps.is_empty(), "the seed tender is awarded");
        let numbered: Vec<(usize, &scenario::Step)> = steps.iter().enumerate().collect();
        self.play_steps(&numbered).await;
    }

    /// Plays numbered steps through the HTTP API, each at its own time.
    pub async fn play_steps(&self, steps: &[(usize, &scenario::Step)]) {
        let tender = "T-2021";
        for &(i, step) in steps {
            self.clock(step.at).await;
            let who = step.actor.id.as_str();
            let body =
                match &step.input {
                    Input::Create(tender_id) => {
                        let (status, v) = self.call(
                        Some(who),
                        Method::POST,
                        "/tenders",
                        Some(json!({ "workflow": "partner-recruitment", "tenderId": tender_id })),
                    )
                    .await;
                        assert!(status.is_success(), "step {i} create: {status} {v}");
                        continue;
                    }
                    // Timers fire when the clock passes them.
                    Input::Timer => continue,
                    Input::Command(body) => body,
                };
            let (status, v) = match body {
                CommandBody::SubmitBid(SubmitBid { content, .. }) => {
                    self.call(
                        Some(who),
                        Method::POST,
                        &format!("/tenders/{tender}/bids"),
                        Some(json!({ "content": content })),
                    )
                    .await
                }
                CommandBody::SubmitScores(SubmitScores { bidder, sheet, .. }) => {
                    self.call(
                        Some(who),
                        Method::POST,
                        &format!("/tenders/{tender}/scores"),
                        Some(json!({ "bidder": bidder, "sheet": sheet })),
                    )
                    .await
                }
                CommandBody::SignOff(SignOff {
                    gate,
                    partner,
                    content,
                }) => {
                    let mut body = json!({ "gate": gate, "content": content });
                    if let Some(p) = partner {
                        body["partner"] = json!(p);
                    }
                    self.call(
                        Some(who),
                        Method::POST,
                        &format!("/tenders/{tender}/signoffs"),
                        Some(body),
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
                body.name()
            );
        }
    }
}
