//! The pages over HTTP in process (no browser): what they show after the award, and that
//! they show nothing the OCDS feed does not.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use std::sync::Arc;
use tenderflow_testkit::app::spawn_app;
use tower::ServiceExt;

async fn get(router: &axum::Router, path: &str) -> (StatusCode, String) {
    let response = router
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn after_the_award_the_notice_shows_the_opening_record_and_the_result() {
    let e = spawn_app(18).await;
    e.play(e.steps.len()).await;
    let pages = tenderflow_web::router(Arc::new(e.app.clone()));
    let (status, html) = get(&pages, "/notices/T-2021?lang=zh-CN").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<html lang=\"zh-CN\">"));
    // The opening record: every bid with its bidder, time and price, as OCDS publishes it.
    let opening = html
        .split("<table class=\"opening\">")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("an opening table");
    assert_eq!(opening.matches("<tr><td>").count(), 18, "{opening}");
    // Prices as the currency's amount, exactly (`128,452.00 元`), never a float's digits.
    assert!(opening.contains(" 元"), "{opening}");
    assert!(!opening.contains("CNY"), "{opening}");
    // Bidders by their registered names, as the portal and the records name them (not the
    // free text a bid's form carries).
    assert!(
        opening.contains("Zhijiang Starlight Arts Troupe"),
        "{opening}"
    );
    assert!(!opening.contains("Partner organisation"), "{opening}");
    // The award: seven candidates; never a score, a sheet or an evaluator.
    let award = html
        .split("<table class=\"awards\">")
        .nth(1)
        .expect("an award table");
    assert_eq!(award.matches("<tr><td>").count(), 7);
    for hidden in ["expert-", "evaluator", "\"scores\"", "recused"] {
        assert!(!html.contains(hidden), "the page shows `{hidden}`");
    }
    let (status, board) = get(&pages, "/?lang=en").await;
    assert_eq!(status, StatusCode::OK);
    // The language switch loads the whole page (htmx's boost would swap the body and leave
    // `<html lang>` in the old language).
    assert!(board.contains("<html lang=\"en\">"));
    assert!(
        board.contains("class=\"lang-switch\" hx-boost=\"false\" href=\"?lang=zh-CN\""),
        "{board}"
    );
    assert!(board.contains("Awarded"), "{board}");
    let (status, css) = get(&pages, "/static/style.css").await;
    assert_eq!(status, StatusCode::OK);
    assert!(css.contains("@media print"));
    let (status, _) = get(&pages, "/static/nothing.js").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pages_cannot_be_framed_and_allow_only_their_own_script() {
    let e = spawn_app(3).await;
    e.play(2).await;
    let pages = tenderflow_web::router(Arc::new(e.app.clone()));
    for path in [
        "/?lang=en",
        "/notices/T-2021?lang=zh-CN",
        "/sign-in",
        "/static/style.css",
    ] {
        let res = pages
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let h = res.headers();
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let csp = h["content-security-policy"].to_str().expect("ascii");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        let html = h
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("").starts_with("text/html"));
        if html {
            assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
            let body = res.into_body().collect().await.expect("body").to_bytes();
            let body = String::from_utf8_lossy(&body);
            // Nothing inline that the policy would block.
            assert!(!body.contains(" onclick="), "{path}");
            assert!(!body.contains("<script>"), "{path}");
        }
    }
}

#[tokio::test]
async fn page_requests_get_a_request_id_and_are_counted() {
    let e = spawn_app(1).await;
    let state = tenderflow_api::AppState::new(e.app.clone())
        .with_metrics_token(Some("scrape".into()))
        .with_commit("abc123");
    let router =
        tenderflow_api::app_with_pages(state, tenderflow_web::router(Arc::new(e.app.clone())));
    let res = router
        .clone()
        .oneshot(
            Request::get("/?lang=en")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key("x-request-id"));
    let res = router
        .clone()
        .oneshot(
            Request::get("/metrics")
                .header("authorization", "Bearer scrape")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    let text = String::from_utf8(
        res.into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec(),
    )
    .expect("utf-8");
    assert!(
        text.contains(
            "tenderflow_http_request_duration_seconds_count{route=\"/\",method=\"GET\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("commit=\"abc123\""), "{text}");
    let (_, version) = get(&router, "/version").await;
    assert!(version.contains("\"commit\":\"abc123\""), "{version}");
}

/// Every field of every shipped definition's forms, and every choice it offers, has its
/// label in both catalogues: no page shows a definition's raw field name (`drawCommitment`)
/// or value (`serious`) in either language.
#[test]
fn every_form_field_of_the_shipped_definitions_has_a_label_in_both_languages() {
    fn walk(schema: &serde_json::Value, out: &mut Vec<String>) {
        for (name, prop) in schema["properties"].as_object().into_iter().flatten() {
            out.push(format!("field-{name}"));
            for choice in prop["enum"].as_array().into_iter().flatten() {
                if let Some(c) = choice.as_str() {
                    out.push(format!("choice-{c}"));
                }
            }
            walk(prop, out);
            walk(&prop["items"], out);
        }
    }
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(tenderflow_testkit::repo_root().join("workflows")).expect("dir")
    {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let def: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
        let mut keys = Vec::new();
        for form in def["forms"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(_, f)| f)
        {
            walk(form, &mut keys);
        }
        for key in keys {
            for lang in [tenderflow_web::Lang::Zh, tenderflow_web::Lang::En] {
                if lang.try_t(&key).is_none() {
                    missing.push(format!("{} {}: {key}", path.display(), lang.tag()));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(missing.is_empty(), "labels missing: {missing:#?}");
}
