//! HTTP conventions and operations: problem details, readiness, accounts and tokens,
//! query parameters and pagination, metrics.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tenderflow_core::scenario;
use tenderflow_testkit::app::spawn_app;
use tower::ServiceExt;

/// Errors are RFC 9457 problem details with the stable code; a 401 says how to
/// authenticate; /ready checks the database, migrations and master key; /version answers.
#[tokio::test]
async fn problems_ready_and_version() {
    let e = spawn_app(1).await;
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
    let e = spawn_app(1).await;
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
    assert!(v["expiresMs"].is_i64(), "{v}");
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
    let e = spawn_app(1).await;
    e.play(2).await;
    for id in ["T-a", "T-b"] {
        let (s, v) = e
            .call(
                Some(scenario::STAFF),
                Method::POST,
                "/tenders",
                Some(json!({ "workflow": "partner-recruitment", "tenderId": id })),
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
        // Operations that read no query refuse one too.
        "/tenders/T-2021?x=1",
        "/tenders/T-2021/timeline?verbose",
        "/tenders/T-2021/red-flags?all=1",
        "/workflows?x=1",
        "/me?debug=1",
        "/health?x",
        "/openapi.json?v=2",
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
    // A tender's events, a page at a time: every event once, in order.
    let (_, all) = e
        .call(
            Some(scenario::STAFF),
            Method::GET,
            "/tenders/T-2021/events",
            None,
        )
        .await;
    let total = all["events"].as_array().map_or(0, Vec::len);
    assert!(total > 2 && all["next"].is_null(), "{all}");
    let mut seqs = Vec::new();
    let mut path = "/tenders/T-2021/events?limit=2".to_owned();
    loop {
        let (s, v) = e
            .call(Some(scenario::STAFF), Method::GET, &path, None)
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        seqs.extend(
            v["events"]
                .as_array()
                .expect("events")
                .iter()
                .map(|ev| ev["seq"].as_i64().expect("seq")),
        );
        match v["next"].as_i64() {
            Some(next) => path = format!("/tenders/T-2021/events?limit=2&after={next}"),
            None => break,
        }
    }
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>());
    let (s, v) = e
        .call(
            Some(scenario::STAFF),
            Method::GET,
            "/tenders/T-2021/events?page=2",
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_query")),
        "{v}"
    );
}

/// /metrics: requests by route and status with latency, commands by kind and outcome, and
/// the outbox and timer gauges, in the Prometheus text format.
#[tokio::test]
async fn metrics_count_requests_commands_and_queues() {
    let e = spawn_app(2).await;
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
    // Never public: before the opening the counts would tell how many bids a tender has.
    let scrape = |router: axum::Router, token: Option<String>| async move {
        let mut req = Request::builder().uri("/metrics");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        router
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("response")
    };
    assert_eq!(
        scrape(e.router.clone(), None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        scrape(e.router.clone(), Some("not-a-token".into()))
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let bidder = e.tokens[&scenario::bidder_id(1)].clone();
    assert_eq!(
        scrape(e.router.clone(), Some(bidder)).await.status(),
        StatusCode::FORBIDDEN
    );
    // The configured scraper token, or an administrator's.
    let scraper = tenderflow_api::app(
        tenderflow_api::AppState::new(e.app.clone()).with_metrics_token(Some("scrape-1".into())),
    );
    assert_eq!(
        scrape(scraper, Some("scrape-1".into())).await.status(),
        StatusCode::OK
    );
    let resp = scrape(e.router.clone(), Some(e.tokens["root"].clone())).await;
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
        "tenderflow_http_request_duration_seconds_count{route=\"/tenders/{id}/bids\",method=\"POST\",status=\"201\"} 1",
        "tenderflow_http_request_duration_seconds_count{route=\"/tenders/{id}/bids\",method=\"POST\",status=\"422\"} 1",
        // Buckets past one second, for slow uploads and stalls.
        "le=\"10.0\"",
        "tenderflow_build_info{version=\"0.1.0\",commit=\"unknown\"} 1",
        "tenderflow_commands_total{kind=\"submit_bid\",outcome=\"ok\"} 1",
        "tenderflow_commands_total{kind=\"submit_bid\",outcome=\"form_invalid\"} 1",
        "tenderflow_commands_total{kind=\"publish\",outcome=\"ok\"} 1",
        "# TYPE tenderflow_outbox_pending gauge",
        "tenderflow_outbox_dead 0",
        "tenderflow_timers_stuck 0",
        "tenderflow_timer_lag_seconds",
        "# TYPE tenderflow_tender_cache_entries gauge",
        "# TYPE tenderflow_tender_replays counter",
        "tenderflow_tender_replays_total",
        "tenderflow_events_replayed_total",
        "tenderflow_tender_catch_ups_total",
        "tenderflow_events_caught_up_total",
        "# EOF",
    ] {
        assert!(text.contains(needle), "missing {needle}:\n{text}");
    }
}

/// A stored record that cannot be read back is named over the API as the CLI names it, not
/// hidden behind a generic `internal`.
#[test]
fn a_corrupt_record_is_named() {
    let what = "workflow 0123 (partner-recruitment.json): the stored content hashes to 4567";
    let e: tenderflow_api::ApiError =
        tenderflow_app::AppError::from(tenderflow_store::StoreError::Corrupt {
            what: what.into(),
            source: None,
        })
        .into();
    assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(e.code, "corrupt_record");
    assert!(e.message.contains(what), "{}", e.message);
    assert_eq!(e.details["record"], what);
}
