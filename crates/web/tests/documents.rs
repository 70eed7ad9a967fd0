//! Documents through the pages: staff publish a file with an amendment from the console, the
//! notice board lists it and anyone downloads it; a bidder attaches its service plan in the
//! bid form (multipart), the receipt lists its hash, nobody reads it before the opening, and
//! the committee finds it beside the score sheet afterwards.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, Visitor};
use tenderflow_core::CommandBody;
use tenderflow_core::scenario::{INSPECTOR, Input, STAFF, bidder_id, evaluator_id};
use tenderflow_testkit::app::spawn_app;
use tenderflow_testkit::fixtures::pdf;

#[tokio::test]
async fn documents_travel_through_the_pages() {
    let e = spawn_app(8).await;
    let is_bid = |s: &tenderflow_core::scenario::Step| {
        matches!(&s.input, Input::Command(CommandBody::SubmitBid(_)))
    };
    let last_bid = e.steps.iter().rposition(is_bid).expect("bids");
    let desk_open = e
        .steps
        .iter()
        .position(|s| matches!(&s.input, Input::Command(CommandBody::SubmitScores(_))))
        .expect("scores");
    e.play(last_bid + 1).await;
    let bidder = bidder_id(0);
    for who in [STAFF, INSPECTOR, bidder.as_str(), &evaluator_id(0)] {
        e.app.set_password(who, PASSWORD).await.expect("password");
    }

    // Staff publish the recruitment documents with an amendment, from the console.
    let mut staff = Visitor::new(&e);
    staff.sign_in(STAFF, PASSWORD).await;
    let console = staff.get("/console/tenders/T-2021?lang=en").await;
    assert!(console.html.contains("enctype=\"multipart/form-data\""));
    let csrf = console.csrf();
    let terms = pdf("RECRUITMENT-TERMS", 5000);
    let done = staff
        .multipart(
            "/console/tenders/T-2021?lang=en",
            &[
                ("csrf", &csrf),
                ("nonce", "amend-docs"),
                ("command", "amend"),
                ("text", "The recruitment documents"),
            ],
            &[("doc:tender", "招募文件.pdf", "application/pdf", &terms)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let location = done.location.unwrap_or_default();
    assert!(location.contains("done=amend"), "{location}");

    // Anyone: listed on the notice with its hash, downloaded as published.
    let mut anyone = Visitor::new(&e);
    let notice = anyone.get("/notices/T-2021?lang=en").await;
    assert!(notice.html.contains("招募文件.pdf"), "{}", notice.html);
    let link = notice
        .html
        .split("href=\"/notices/T-2021/documents/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a document link")
        .to_owned();
    let got = anyone
        .bytes(&format!("/notices/T-2021/documents/{link}"))
        .await;
    assert_eq!(got, terms);

    // The bidder: a file input per slot; its service plan sealed with the bid.
    let mut org = Visitor::new(&e);
    org.sign_in(&bidder, PASSWORD).await;
    let form = org.get("/notices/T-2021/bid?lang=en").await;
    assert!(
        form.html.contains("name=\"doc:servicePlan\""),
        "{}",
        form.html
    );
    assert!(form.html.contains("accept=\"application/pdf\""));
    let csrf = form.csrf();
    let fields = |nonce: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("nonce", nonce.to_owned()),
            ("organisation", "Org zero".to_owned()),
            ("serviceArea", "arts_performance".to_owned()),
            ("servicePlan", "Weekly shows for workers".to_owned()),
            ("freeOrDiscountedShare", "30".to_owned()),
            ("feeMinor", "1280.50".to_owned()),
        ]
    };
    // A Word file where the slot takes PDF only: refused next to the input, nothing kept.
    let f = fields("bid-word");
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let wrong = org
        .multipart(
            "/notices/T-2021/bid?lang=en",
            &f,
            &[(
                "doc:servicePlan",
                "plan.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                b"PK\x03\x04 not really a docx",
            )],
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.html
    );
    assert!(
        wrong.html.contains("id=\"e-doc-servicePlan\""),
        "{}",
        wrong.html
    );
    let marker = "SERVICE-PLAN-OF-ORG-ZERO";
    let plan = pdf(marker, 400_000);
    let f = fields("bid-plan");
    let f: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = org
        .multipart(
            "/notices/T-2021/bid?lang=en",
            &f,
            &[("doc:servicePlan", "服务方案.pdf", "application/pdf", &plan)],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let receipt = org.get("/notices/T-2021/receipt?lang=en").await;
    assert!(receipt.html.contains("服务方案.pdf"), "{}", receipt.html);
    let (_, view) = e
        .call(
            Some(&bidder),
            axum::http::Method::GET,
            "/tenders/T-2021",
            None,
        )
        .await;
    let plan_doc = view["bids"][0]["documents"][0].clone();
    assert!(
        receipt
            .html
            .contains(plan_doc["sha256"].as_str().expect("sha"))
    );
    let plan_path = format!(
        "/notices/T-2021/documents/{}",
        plan_doc["id"].as_str().expect("id")
    );
    // Replacing the bid without choosing a file keeps the plan.
    let form = org.get("/notices/T-2021/bid?lang=en").await;
    assert!(form.html.contains("Current: 服务方案.pdf"), "{}", form.html);

    // Sealed before the opening: for the bidder itself, staff and anyone.
    for v in [&mut org, &mut staff, &mut anyone] {
        let page = v.get(&plan_path).await;
        assert_ne!(page.status, StatusCode::OK);
        assert!(!page.html.contains(marker));
    }

    // After the opening, on the evaluator's desk beside the score sheet.
    e.play_from(last_bid + 1, desk_open).await;
    let mut expert = Visitor::new(&e);
    expert.sign_in(&evaluator_id(0), PASSWORD).await;
    let desk = expert.get("/desk/tenders/T-2021?lang=en").await;
    assert!(desk.html.contains("服务方案.pdf"), "{}", desk.html);
    assert_eq!(expert.bytes(&plan_path).await, plan);
    // Still nothing for a visitor who is not a party.
    assert_ne!(anyone.get(&plan_path).await.status, StatusCode::OK);
}
