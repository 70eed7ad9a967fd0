//! Documents over HTTP: upload (streamed body, UTF-8 name), reference in a command, download
//! with its type, name, ETag and ranges; a bid's documents unreadable before opening by
//! anyone; refusals with their codes and nothing kept.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tenderflow_core::CommandBody;
use tenderflow_core::scenario::{self, Input, bidder_id};
use tenderflow_testkit::app::spawn_app;
use tenderflow_testkit::fixtures::pdf;

const NAME: &str = "%E6%9C%8D%E5%8A%A1%E6%96%B9%E6%A1%88.pdf"; // 服务方案.pdf

#[tokio::test]
async fn documents_upload_reference_and_download_over_http() {
    let e = spawn_app(8).await;
    let t = "/tenders/T-2021";
    let is_bid = |s: &scenario::Step| matches!(&s.input, Input::Command(CommandBody::SubmitBid(_)));
    let last_bid = e.steps.iter().rposition(is_bid).expect("bids");
    let open = e
        .steps
        .iter()
        .position(|s| matches!(&s.input, Input::Command(CommandBody::OpenBids {})))
        .expect("opening");
    e.play(last_bid + 1).await;
    let bidder = bidder_id(0);
    let staff = scenario::STAFF;

    // Staff publish the recruitment documents in an amendment.
    let terms = pdf("TERMS", 1000);
    let (s, _, body) = e
        .bytes(
            Some(staff),
            Method::POST,
            &format!("{t}/documents?name=%E6%8B%9B%E5%8B%9F%E6%96%87%E4%BB%B6.pdf"),
            Some(("application/pdf", terms.clone())),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    let terms_doc: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(terms_doc["name"], "招募文件.pdf");
    let (s, v) = e
        .call(
            Some(staff),
            Method::POST,
            &format!("{t}/commands"),
            Some(json!({"command": "amend", "text": "Documents", "affectsBids": false, "documents": [terms_doc]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // A bidder's service plan, sealed, in a replaced bid.
    let marker = "PLAN-OF-BIDDER-0";
    let plan = pdf(marker, 700_000);
    let (s, _, body) = e
        .bytes(
            Some(&bidder),
            Method::POST,
            &format!("{t}/documents?name={NAME}"),
            Some(("application/pdf", plan.clone())),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
    let mut plan_doc: Value = serde_json::from_slice(&body).expect("json");
    plan_doc["slot"] = json!("servicePlan");
    let (_, view) = e.call(Some(&bidder), Method::GET, t, None).await;
    let content = view["bids"][0]["content"].clone();
    let (s, v) = e
        .call(
            Some(&bidder),
            Method::PUT,
            &format!("{t}/bids"),
            Some(json!({"content": content, "documents": [plan_doc]})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, receipts) = e
        .call(
            Some(&bidder),
            Method::GET,
            &format!("{t}/bids/receipt"),
            None,
        )
        .await;
    assert!(
        receipts
            .to_string()
            .contains(plan_doc["sha256"].as_str().expect("sha")),
        "{receipts}"
    );
    let plan_url = format!("{t}/documents/{}", plan_doc["id"].as_str().expect("id"));

    // Refusals: a wrong type, a role that uploads nothing, a sealed document before opening
    // (for everyone, its bidder included), another bidder's, an unknown one.
    let (s, _, body) = e
        .bytes(
            Some(&bidder),
            Method::POST,
            &format!("{t}/documents?name=x.html"),
            Some(("text/html", b"<script>".to_vec())),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(String::from_utf8_lossy(&body).contains("document_type_not_allowed"));
    let (s, _, _) = e
        .bytes(
            Some(&scenario::evaluator_id(0)),
            Method::POST,
            &format!("{t}/documents?name=a.pdf"),
            Some(("application/pdf", terms.clone())),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    for who in [bidder.as_str(), staff, scenario::INSPECTOR] {
        let (s, _, body) = e.bytes(Some(who), Method::GET, &plan_url, None, &[]).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{who}");
        assert!(
            String::from_utf8_lossy(&body).contains("document_sealed"),
            "{who}"
        );
        assert!(!body.windows(marker.len()).any(|w| w == marker.as_bytes()));
    }
    let (s, _, _) = e
        .bytes(Some(&bidder_id(1)), Method::GET, &plan_url, None, &[])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = e
        .bytes(
            Some(staff),
            Method::GET,
            &format!("{t}/documents/d-none"),
            None,
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The tender document is public at once.
    let terms_url = format!("{t}/documents/{}", terms_doc["id"].as_str().expect("id"));
    let (s, h, body) = e
        .bytes(Some(&bidder_id(2)), Method::GET, &terms_url, None, &[])
        .await;
    assert_eq!((s, body), (StatusCode::OK, terms));
    assert_eq!(h["content-type"], "application/pdf");

    // After opening: the file, its UTF-8 name, ETag, ranges, 304 and 416.
    e.play_from(last_bid + 1, open + 1).await;
    let (_, v) = e.call(Some(staff), Method::GET, t, None).await;
    assert!(v["opening"].is_object(), "{} {}", v["state"], v["opening"]);
    let (s, h, body) = e
        .bytes(Some(staff), Method::GET, &plan_url, None, &[])
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert!(body == plan, "the plan round-trips");
    let disposition = h["content-disposition"].to_str().expect("ascii");
    assert!(
        disposition.contains(&format!("filename*=UTF-8''{NAME}")),
        "{disposition}"
    );
    let etag = h["etag"].to_str().expect("etag").to_owned();
    assert_eq!(
        etag,
        format!("\"{}\"", plan_doc["sha256"].as_str().expect("sha"))
    );
    let (s, h, body) = e
        .bytes(
            Some(staff),
            Method::GET,
            &plan_url,
            None,
            &[("range", "bytes=262000-262999")],
        )
        .await;
    assert_eq!(s, StatusCode::PARTIAL_CONTENT);
    assert_eq!(body, plan[262_000..263_000]);
    assert_eq!(h["content-range"], "bytes 262000-262999/700000");
    let (s, _, _) = e
        .bytes(
            Some(staff),
            Method::GET,
            &plan_url,
            None,
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    let (s, _, _) = e
        .bytes(
            Some(staff),
            Method::GET,
            &plan_url,
            None,
            &[("range", "bytes=800000-")],
        )
        .await;
    assert_eq!(s, StatusCode::RANGE_NOT_SATISFIABLE);
    // Its bidder may read it now; another bidder still may not.
    let (s, _, _) = e
        .bytes(Some(&bidder), Method::GET, &plan_url, None, &[])
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = e
        .bytes(Some(&bidder_id(1)), Method::GET, &plan_url, None, &[])
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Verified with the chain.
    let (_, audit) = e
        .call(
            Some(scenario::INSPECTOR),
            Method::GET,
            "/audit/verify",
            None,
        )
        .await;
    assert!(!audit.to_string().contains("problem\":{"), "{audit}");
}

#[tokio::test]
async fn a_cancelled_tender_takes_no_uploads() {
    let e = spawn_app(2).await;
    e.play(2).await; // created and announced
    let t = "/tenders/T-2021";
    let upload = |who: String| {
        let e = &e;
        async move {
            e.bytes(
                Some(&who),
                Method::POST,
                &format!("{t}/documents?name={NAME}"),
                Some(("application/pdf", pdf("LATE", 1000))),
                &[],
            )
            .await
        }
    };
    let (s, _, _) = upload(bidder_id(0)).await;
    assert_eq!(s, StatusCode::CREATED, "open for bids: accepted");
    let (s, v) = e
        .call(
            Some(scenario::STAFF),
            Method::POST,
            &format!("{t}/commands"),
            Some(json!({"command": "cancel", "reason": "The venue is no longer available."})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for who in [bidder_id(0), scenario::STAFF.to_owned()] {
        let (s, _, body) = upload(who.clone()).await;
        let v: Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::CONFLICT, Some("invalid_state")),
            "{who}: {v}"
        );
    }
}
