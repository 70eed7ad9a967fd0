//! The officials' console and the evaluators' desk over HTTP in process: staff see what a
//! tender waits for, a command refused for a missing sign-off comes back next to its
//! control, the inspector signs the opening with the record's hash in view, staff open the
//! bids, the timeline and red flags show; an evaluator scores on its desk (a score above the
//! maximum refused next to the bid) and never sees another member's sheets.

mod common;

use axum::http::StatusCode;
use common::{PASSWORD, Visitor};
use tenderflow_core::model::CommandBody;
use tenderflow_core::scenario::{INSPECTOR, Input, STAFF};
use tenderflow_store::clock::Clock;
use tenderflow_testkit::app::spawn_app;

/// The index of the first scenario step that is `pred`'s command.
fn first(steps: &[tenderflow_core::scenario::Step], pred: impl Fn(&CommandBody) -> bool) -> usize {
    steps
        .iter()
        .position(|s| matches!(&s.input, Input::Command(b) if pred(b)))
        .expect("the step")
}

#[tokio::test]
async fn staff_and_inspectors_run_the_opening_from_the_console() {
    let e = spawn_app(18).await;
    let sign = first(&e.steps, |b| matches!(b, CommandBody::SignOff(_)));
    e.play(sign).await; // submission closed, the opening not yet signed
    for who in [STAFF, INSPECTOR] {
        e.app.set_password(who, PASSWORD).await.expect("password");
    }
    let mut staff = Visitor::new(&e);
    assert_eq!(
        staff.sign_in(STAFF, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let my = staff.get("/my?lang=en").await;
    assert_eq!(
        my.location.as_deref(),
        Some("/console?lang=en"),
        "officials work in the console"
    );
    let board = staff.get("/console?lang=en").await;
    assert!(
        board.html.contains("Inspector: Opening record signed"),
        "{}",
        board.html
    );

    let page = "/console/tenders/T-2021?lang=en";
    let console = staff.get(page).await;
    assert!(
        console.html.contains("data-command=\"open_bids\""),
        "{}",
        console.html
    );
    assert!(
        console.html.contains("Needs first: Opening record signed"),
        "{}",
        console.html
    );
    assert!(
        console.html.contains("Submission closed"),
        "the timeline by names"
    );
    let refused = staff
        .submit(page, page, &[("command", "open_bids"), ("nonce", "o1")])
        .await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let back = staff.get(refused.location.as_deref().expect("back")).await;
    assert!(
        back.html.contains("The inspectors must sign off first."),
        "the refusal next to the control: {}",
        back.html
    );

    // An inspector's action sent by staff is refused by the core.
    let not_theirs = staff
        .submit(
            page,
            page,
            &[
                ("command", "sign_off"),
                ("gate", "opening"),
                ("statement", "x"),
                ("nonce", "s0"),
            ],
        )
        .await;
    assert!(
        not_theirs
            .location
            .as_deref()
            .is_some_and(|l| l.contains("refused=wrong_role")),
        "{:?}",
        not_theirs.location
    );

    // The inspector signs with the record's hash in view.
    let mut inspector = Visitor::new(&e);
    assert_eq!(
        inspector.sign_in(INSPECTOR, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let console = inspector.get(page).await;
    assert!(
        console
            .html
            .contains("You sign the record as it stands now"),
        "{}",
        console.html
    );
    assert!(
        console.html.contains("name=\"statement\""),
        "the sign-off form from the definition"
    );
    let signed = inspector
        .submit(
            page,
            page,
            &[
                ("command", "sign_off"),
                ("gate", "opening"),
                ("statement", "Opened in my presence; 18 bids, seals intact."),
                ("nonce", "s1"),
            ],
        )
        .await;
    let after = inspector
        .get(signed.location.as_deref().expect("back"))
        .await;
    assert!(after.html.contains("Done: Sign off."), "{}", after.html);

    // Staff open the bids now; the timeline shows it.
    let opened = staff
        .submit(page, page, &[("command", "open_bids"), ("nonce", "o2")])
        .await;
    let after = staff.get(opened.location.as_deref().expect("back")).await;
    assert!(
        after.html.contains("Done: Open the bids."),
        "{}",
        after.html
    );
    let timeline = staff.get("/console/tenders/T-2021/timeline?lang=en").await;
    assert!(timeline.html.contains("Bids opened"), "{}", timeline.html);
    assert!(
        timeline.html.contains("hx-trigger=\"every 5s\""),
        "polled by htmx"
    );
    assert!(after.html.contains("id=\"flags\""));

    // A tender that does not exist is a 404 page, not an error.
    assert_eq!(
        staff.get("/console/tenders/T-NONE?lang=en").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        staff
            .get("/console/tenders/T-NONE/records.pdf?lang=en")
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // A bidder is sent to its portal, not the console.
    let bidder = tenderflow_core::scenario::bidder_id(0);
    e.app
        .set_password(&bidder, PASSWORD)
        .await
        .expect("password");
    let mut b = Visitor::new(&e);
    b.sign_in(&bidder, PASSWORD).await;
    assert_eq!(b.get("/console").await.status, StatusCode::SEE_OTHER);
    assert_eq!(
        b.get("/notices/T-NONE/bid").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn evaluators_score_on_their_desk_and_see_only_their_own_sheets() {
    let e = spawn_app(18).await;
    let scores = first(&e.steps, |b| matches!(b, CommandBody::SubmitScores(_)));
    // Before the committee is appointed, an evaluator's desk is refused (403), not an error.
    let opening = first(&e.steps, |b| matches!(b, CommandBody::OpenBids {}));
    e.play(opening).await;
    let early_member = match &e.steps[scores].input {
        Input::Command(CommandBody::SubmitScores(_)) => {
            e.steps[scores].actor.id.as_str().to_owned()
        }
        _ => unreachable!(),
    };
    e.app
        .set_password(&early_member, PASSWORD)
        .await
        .expect("password");
    let mut early = Visitor::new(&e);
    early.sign_in(&early_member, PASSWORD).await;
    let not_yet = early.get("/desk/tenders/T-2021?lang=en").await;
    assert_eq!(not_yet.status, StatusCode::FORBIDDEN, "{}", not_yet.html);
    assert!(
        not_yet.html.contains("You may not see this page"),
        "{}",
        not_yet.html
    );
    e.play_from(opening, scores).await; // the committee appointed, nobody has scored
    let (first_member, second_member, bidder) =
        match (&e.steps[scores].input, &e.steps[scores + 1].input) {
            (Input::Command(CommandBody::SubmitScores(s)), _) => {
                let other = e.steps[scores..]
                    .iter()
                    .find(|st| st.actor.id != e.steps[scores].actor.id)
                    .expect("another member");
                (
                    e.steps[scores].actor.id.as_str().to_owned(),
                    other.actor.id.as_str().to_owned(),
                    s.bidder.as_str().to_owned(),
                )
            }
            _ => unreachable!(),
        };
    for who in [&first_member, &second_member] {
        e.app.set_password(who, PASSWORD).await.expect("password");
    }
    let mut v = Visitor::new(&e);
    assert_eq!(
        v.sign_in(&first_member, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let list = v.get("/console?lang=en").await;
    assert!(list.html.contains("/desk/tenders/T-2021"), "{}", list.html);
    let desk_path = "/desk/tenders/T-2021?lang=en";
    let desk = v.get(desk_path).await;
    assert!(desk.html.contains("0 of 18 sheets done"), "{}", desk.html);
    // Weights as people read them, fees with their currency.
    assert!(desk.html.contains("35 %"), "{}", desk.html);
    assert!(!desk.html.contains("0.3500"), "{}", desk.html);
    assert!(desk.html.contains('¥'), "{}", desk.html);
    assert!(
        desk.html.contains("(0–100)"),
        "each score's range: {}",
        desk.html
    );
    assert!(
        desk.html
            .contains("Public-benefit service plan (content, frequency, reach among workers)"),
        "criteria by their titles"
    );
    let too_high = v
        .submit(
            desk_path,
            desk_path,
            &[
                ("bidder", &bidder),
                ("scores.service_plan", "150"),
                ("scores.capability", "70"),
                ("nonce", "x1"),
            ],
        )
        .await;
    let back = v.get(too_high.location.as_deref().expect("back")).await;
    assert!(back.html.contains("At most 100."), "{}", back.html);
    let ok = v
        .submit(
            desk_path,
            desk_path,
            &[
                ("bidder", &bidder),
                ("scores.service_plan", "82"),
                ("scores.capability", "70.5"),
                ("nonce", "x2"),
            ],
        )
        .await;
    let back = v.get(ok.location.as_deref().expect("back")).await;
    assert!(back.html.contains("1 of 18 sheets done"), "{}", back.html);
    assert!(
        back.html.contains("value=\"70.5000\""),
        "the submitted sheet, locked: {}",
        back.html
    );

    // A correction: refused without its reason, accepted with it, recorded.
    let bare = v
        .submit(
            desk_path,
            desk_path,
            &[
                ("bidder", &bidder),
                ("scores.service_plan", "80"),
                ("scores.capability", "70.5"),
                ("nonce", "x3"),
            ],
        )
        .await;
    assert!(
        bare.location
            .as_deref()
            .is_some_and(|l| l.contains("refused=reason_required")),
        "{:?}",
        bare.location
    );
    let corrected = v
        .submit(
            desk_path,
            desk_path,
            &[
                ("bidder", &bidder),
                ("scores.service_plan", "80"),
                ("scores.capability", "70.5"),
                ("correction", "I misread the reach among workers"),
                ("nonce", "x4"),
            ],
        )
        .await;
    assert!(
        corrected
            .location
            .as_deref()
            .is_some_and(|l| l.contains("saved=1"))
    );
    let (_, t) = e.store.load("T-2021").await.expect("load");
    assert_eq!(t.score_corrections.len(), 1);

    // A draft for another bid: kept, private, not a sheet.
    let next = (0..3)
        .map(tenderflow_core::scenario::bidder_id)
        .find(|b| *b != bidder)
        .expect("another bidder");
    let drafted = v
        .submit(
            desk_path,
            desk_path,
            &[
                ("bidder", &next),
                ("scores.service_plan", "41.5"),
                ("action", "draft"),
            ],
        )
        .await;
    assert!(
        drafted
            .location
            .as_deref()
            .is_some_and(|l| l.contains("drafted=1")),
        "{:?}",
        drafted.location
    );
    let desk = v.get(desk_path).await;
    assert!(
        desk.html.contains("Filled from your draft."),
        "{}",
        desk.html
    );
    assert!(desk.html.contains("value=\"41.5\""));
    assert!(
        desk.html.contains("1 of 18 sheets done"),
        "a draft is not a sheet"
    );

    let mut other = Visitor::new(&e);
    assert_eq!(
        other.sign_in(&second_member, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let theirs = other.get(desk_path).await;
    assert!(
        theirs.html.contains("0 of 18 sheets done"),
        "{}",
        theirs.html
    );
    assert!(
        !theirs.html.contains("70.5"),
        "never another member's sheet"
    );
    assert!(
        !theirs.html.contains("41.5"),
        "never another member's draft"
    );
}

/// `t` as a `datetime-local` value in Beijing time.
fn beijing(t: tenderflow_core::Timestamp) -> String {
    t.plus_seconds(8 * 3600).to_rfc3339()[..16].to_owned()
}

#[tokio::test]
async fn staff_create_publish_and_amend_a_procedure_from_the_pages() {
    let e = spawn_app(3).await;
    e.app.set_password(STAFF, PASSWORD).await.expect("password");
    let mut staff = Visitor::new(&e);
    staff.sign_in(STAFF, PASSWORD).await;
    let new = staff.get("/console/new?lang=en").await;
    assert!(
        new.html.contains("Rules adopted by the organisation"),
        "the rule pack by name: {}",
        new.html
    );
    assert!(
        new.html
            .contains("At least 20 days from announcement to bid deadline")
    );
    let spec = new
        .html
        .split("name=\"workflow\" value=\"")
        .find(|part| part.starts_with("partner-recruitment@"))
        .and_then(|part| part.split('"').next())
        .expect("the seed definition")
        .to_owned();
    let created = staff
        .submit(
            "/console/new?lang=en",
            "/console/new?lang=en",
            &[("workflow", &spec), ("tender", "T-2027"), ("nonce", "c1")],
        )
        .await;
    assert_eq!(
        created.location.as_deref(),
        Some("/console/tenders/T-2027?lang=en"),
        "{}",
        created.html
    );
    let page = "/console/tenders/T-2027?lang=en";
    let console = staff.get(page).await;
    assert!(
        console.html.contains("data-command=\"publish\""),
        "{}",
        console.html
    );

    // Too short a bid period: refused next to the control, with the rule.
    let now = e.clock.now();
    let publish = |deadline: String, nonce: &'static str| {
        vec![
            ("command", "publish".to_owned()),
            ("title", "Partner recruitment 2027".to_owned()),
            ("title_zh-CN", "2027年合作方招募".to_owned()),
            ("summary", "Partners for the workers' venues.".to_owned()),
            ("channel-union-website", "1".to_owned()),
            ("channels_other", "WeChat account".to_owned()),
            ("deadline", deadline),
            ("nonce", nonce.to_owned()),
        ]
    };
    let short = publish(beijing(now.plus_seconds(5 * 86_400)), "p1");
    let short: Vec<(&str, &str)> = short.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = staff.submit(page, page, &short).await;
    let back = staff.get(refused.location.as_deref().expect("back")).await;
    let control = back
        .html
        .split("data-command=\"publish\"")
        .nth(1)
        .expect("the publish control");
    assert!(control.contains("role=\"alert\""), "{}", back.html);
    let good = publish(beijing(now.plus_seconds(40 * 86_400)), "p2");
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = staff.submit(page, page, &good).await;
    let back = staff.get(done.location.as_deref().expect("back")).await;
    assert!(
        back.html.contains("Done: Publish the announcement."),
        "{}",
        back.html
    );
    let board = staff.get("/?lang=zh-CN").await;
    assert!(
        board.html.contains("2027年合作方招募"),
        "the Chinese title on the Chinese board"
    );

    let amended = staff
        .submit(
            page,
            page,
            &[
                ("command", "amend"),
                ("text", "The venue list is attached."),
                ("nonce", "a1"),
            ],
        )
        .await;
    let back = staff.get(amended.location.as_deref().expect("back")).await;
    assert!(
        back.html
            .contains("Done: Publish a clarification or amendment."),
        "{}",
        back.html
    );
    let notice = staff.get("/notices/T-2027?lang=en").await;
    assert!(
        notice.html.contains("The venue list is attached."),
        "{}",
        notice.html
    );
}

#[tokio::test]
async fn staff_draw_the_experts_and_a_tied_expert_is_passed_over() {
    use tenderflow_core::scenario::evaluator_id;
    let e = spawn_app(18).await;
    // A bigger pool: four more evaluators.
    for i in 5..9 {
        e.store
            .create_account(&tenderflow_testkit::fixtures::account(
                &evaluator_id(i),
                "evaluator",
            ))
            .await
            .expect("evaluator");
    }
    let appoint = first(&e.steps, |b| matches!(b, CommandBody::AppointCommittee(_)));
    e.play(appoint).await;
    // Every evaluator but one declares a tie to the first bidder on its account page.
    let tied = tenderflow_core::scenario::bidder_id(0);
    for i in 0..8 {
        let id = evaluator_id(i);
        e.app.set_password(&id, PASSWORD).await.expect("password");
        let mut v = Visitor::new(&e);
        v.sign_in(&id, PASSWORD).await;
        let page = v.get("/account?lang=en").await;
        assert!(page.html.contains("Expert profile"), "{}", page.html);
        let tie = format!("tie-{tied}");
        let mut form = vec![("fields", "public-benefit services, arts")];
        if i % 2 == 0 {
            form.push((tie.as_str(), "1"));
        }
        let saved = v
            .submit("/account?lang=en", "/account/expert?lang=en", &form)
            .await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    }
    e.app.set_password(STAFF, PASSWORD).await.expect("password");
    let mut staff = Visitor::new(&e);
    staff.sign_in(STAFF, PASSWORD).await;
    let page = "/console/tenders/T-2021?lang=en";
    let console = staff.get(page).await;
    assert!(
        console.html.contains("Draw experts from the pool"),
        "{}",
        console.html
    );
    // Six experts have no tie (four declared one): seven cannot be drawn, five can.
    let refused = staff
        .submit(
            page,
            page,
            &[
                ("command", "appoint_committee"),
                ("draw_size", "7"),
                ("nonce", "d1"),
            ],
        )
        .await;
    assert!(
        refused
            .location
            .as_deref()
            .is_some_and(|l| l.contains("refused=committee_invalid"))
    );
    let drawn = staff
        .submit(
            page,
            page,
            &[
                ("command", "appoint_committee"),
                ("draw_size", "5"),
                ("nonce", "d2"),
            ],
        )
        .await;
    assert!(
        drawn
            .location
            .as_deref()
            .is_some_and(|l| l.contains("done=")),
        "{:?}",
        drawn.location
    );
    let (_, records) = e
        .call(
            Some(STAFF),
            axum::http::Method::GET,
            "/tenders/T-2021/records",
            None,
        )
        .await;
    let draw: tenderflow_core::draw::DrawRecord =
        serde_json::from_value(records["committeeDraw"].clone()).expect("the draw in the records");
    assert_eq!(draw.drawn.len(), 5);
    let pool = e.store.expert_pool().await.expect("pool");
    assert_eq!(draw.pool.len(), pool.len());
    assert!(draw.skipped.iter().all(|s| s.bidder == tied), "{draw:?}");
    let mut untied: Vec<String> = pool
        .iter()
        .filter(|p| p.ties.is_empty())
        .map(|p| p.id.clone())
        .collect();
    untied.sort();
    assert_eq!(untied.len(), 6, "{pool:?}");
    let mut drawn_ids: Vec<String> = draw.drawn.iter().map(|d| d.as_str().to_owned()).collect();
    drawn_ids.sort();
    assert!(
        drawn_ids.iter().all(|d| untied.contains(d)),
        "only experts without a tie: {drawn_ids:?}"
    );
    // Anyone can recompute it.
    let (_, t) = e.store.load("T-2021").await.expect("load");
    let commitments: Vec<&str> = t.bids.values().map(|b| b.commitment.as_str()).collect();
    let bidders = t
        .bids
        .keys()
        .map(|k| k.bidder.as_str().to_owned())
        .collect();
    assert!(tenderflow_core::draw::verify(
        &draw,
        &t.id,
        &commitments,
        &bidders
    ));
}

#[tokio::test]
async fn an_invited_procedure_is_published_with_the_organisations_ticked() {
    let e = spawn_app(3).await;
    e.store
        .register_workflow(
            "invited-tender-prc.json",
            &tenderflow_testkit::workflow_bytes("invited-tender-prc"),
        )
        .await
        .expect("registered");
    e.app.set_password(STAFF, PASSWORD).await.expect("password");
    let mut staff = Visitor::new(&e);
    staff.sign_in(STAFF, PASSWORD).await;
    let new = staff.get("/console/new?lang=en").await;
    let spec = new
        .html
        .split("name=\"workflow\" value=\"")
        .find(|part| part.starts_with("invited-tender-prc@"))
        .and_then(|part| part.split('"').next())
        .expect("the invited definition")
        .to_owned();
    staff
        .submit(
            "/console/new?lang=en",
            "/console/new?lang=en",
            &[("workflow", &spec), ("tender", "T-INV")],
        )
        .await;
    let page = "/console/tenders/T-INV?lang=en";
    let console = staff.get(page).await;
    let invitees: Vec<String> = (0..3).map(tenderflow_core::scenario::bidder_id).collect();
    for id in &invitees {
        assert!(
            console.html.contains(&format!("name=\"invite-{id}\"")),
            "{}",
            console.html
        );
    }
    let deadline = beijing(e.clock.now().plus_seconds(30 * 86_400));
    let mut form = vec![
        ("command".to_owned(), "publish".to_owned()),
        ("title".to_owned(), "Invited recruitment".to_owned()),
        (
            "summary".to_owned(),
            "Three organisations are invited.".to_owned(),
        ),
        ("channel-union-website".to_owned(), "1".to_owned()),
        ("deadline".to_owned(), deadline),
    ];
    form.extend(
        invitees
            .iter()
            .map(|id| (format!("invite-{id}"), "1".to_owned())),
    );
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let done = staff.submit(page, page, &pairs).await;
    assert!(
        done.location
            .as_deref()
            .is_some_and(|l| l.contains("done=")),
        "{:?}",
        done.location
    );
    let (_, t) = e.store.load("T-INV").await.expect("load");
    let mut got: Vec<&str> = t.invitees.iter().map(|i| i.as_str()).collect();
    got.sort_unstable();
    assert_eq!(got, invitees.iter().map(String::as_str).collect::<Vec<_>>());
}

/// After the award: the quarterly report as a page with its chart, a PDF and a CSV, for
/// officials only; the notice board's service list of the agreements in force.
#[tokio::test]
async fn the_quarterly_report_and_the_service_list_after_the_award() {
    let e = spawn_app(18).await;
    e.play(e.steps.len()).await;
    e.play_contracts().await;
    e.app.set_password(STAFF, PASSWORD).await.expect("password");
    let mut staff = Visitor::new(&e);
    staff.sign_in(STAFF, PASSWORD).await;
    let console = staff.get("/console?lang=en").await;
    assert!(
        console.html.contains("/console/reports/quarterly"),
        "a button"
    );
    let page = staff
        .get("/console/reports/quarterly?quarter=2026-Q2&lang=en")
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let chart = page
        .html
        .split("id=\"quarterly-chart\"")
        .nth(1)
        .and_then(|r| r.split("</svg>").next())
        .expect("a chart");
    assert_eq!(chart.matches("<g ").count(), 7, "a bar per partner");
    assert_eq!(
        chart.matches("class=\"behind\"").count(),
        1,
        "one partner behind"
    );
    let table = page
        .html
        .split("id=\"quarterly-partners\"")
        .nth(1)
        .and_then(|r| r.split("</table>").next())
        .expect("a table");
    assert_eq!(table.matches("<tr").count(), 8, "a header and 7 partners");
    assert!(table.contains("warning"), "the warned partner");
    // The same figures as CSV and as a PDF with the report's text.
    let csv = String::from_utf8(
        staff
            .bytes("/console/reports/quarterly.csv?quarter=2026-Q2")
            .await,
    )
    .expect("utf-8");
    assert_eq!(csv.lines().count(), 1 + 7 * 3);
    // Partners by their registered names, never ids, on the page and in the CSV.
    for (what, text) in [("the page", &page.html), ("the CSV", &csv)] {
        let ids = text
            .match_indices("org-")
            .filter(|(i, _)| text.as_bytes().get(i + 4).is_some_and(u8::is_ascii_digit))
            .count();
        assert_eq!(ids, 0, "{what} names partners by id: {text}");
    }
    let pdf = staff
        .bytes("/console/reports/quarterly.pdf?quarter=2026-Q2&lang=en")
        .await;
    assert!(pdf.starts_with(b"%PDF-"));
    // A malformed quarter is a clear refusal; an empty quarter says so.
    let bad = staff
        .get("/console/reports/quarterly?quarter=2026-Q5")
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.html);
    let empty = staff
        .get("/console/reports/quarterly?quarter=2025-Q1&lang=en")
        .await;
    assert!(empty.html.contains("No agreements delivered"));
    // Bidders may not read it.
    let bidder = tenderflow_core::scenario::bidder_id(0);
    e.app
        .set_password(&bidder, PASSWORD)
        .await
        .expect("password");
    let mut b = Visitor::new(&e);
    b.sign_in(&bidder, PASSWORD).await;
    let refused = b.get("/console/reports/quarterly").await;
    assert_ne!(refused.status, StatusCode::OK);
    // The public notice lists the agreements in force with their service items.
    let notice = Visitor::new(&e).get("/notices/T-2021?lang=en").await;
    let list = notice
        .html
        .split("id=\"service-list\"")
        .nth(1)
        .expect("a service list");
    assert_eq!(list.matches("<article").count(), 7);
    assert!(list.contains("Workers&#39; open day") || list.contains("Workers' open day"));
    assert!(list.contains("openingHours"));
}
