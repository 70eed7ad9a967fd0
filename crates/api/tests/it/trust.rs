//! Regression tests of the trust issue's API items, named after their numbers.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tenderflow_core::CommandBody;
use tenderflow_core::scenario::{self, Input};
use tenderflow_store::Account;
use tenderflow_testkit::app::spawn_app;

/// Trust #8: an Idempotency-Key is bound to its account, tender and request; reusing it for
/// another body, method or tender is `422 idempotency_key_reused` and writes nothing; keys of
/// different accounts never collide.
#[tokio::test]
async fn trust_08_an_idempotency_key_is_bound_to_its_request() {
    let mut e = spawn_app(2).await;
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
    let e = spawn_app(8).await;
    let first_score = e
        .steps
        .iter()
        .position(|s| matches!(s.input, Input::Command(CommandBody::SubmitScores(_))))
        .expect("a score step");
    let finalize = e
        .steps
        .iter()
        .position(|s| matches!(s.input, Input::Command(CommandBody::FinalizeEvaluation(_))))
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
    let e = spawn_app(4).await;
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
    let e = spawn_app(2).await;
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
            Some(json!({ "workflow": "partner-recruitment", "tenderId": "T\u{0}1" })),
        ),
        (
            staff,
            Method::POST,
            "/tenders",
            Some(json!({ "workflow": "partner\u{0}", "tenderId": "T-9" })),
        ),
        (
            staff,
            Method::POST,
            "/tenders",
            Some(json!({ "workflow": "partner-recruitment", "tenderId": " T-9" })),
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
