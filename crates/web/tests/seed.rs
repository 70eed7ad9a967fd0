//! The whole seed case through the pages, nobody writing JSON: staff create and publish,
//! 18 organisations bid through the bid form, the inspector signs every gate in the console,
//! staff open the bids and appoint the committee, 5 evaluators score 90 sheets on their
//! desks, staff finalise, propose and award. The outcome is the same as the seed script's
//! played over the API, the chain verifies, and each bidder's portal shows its result.

mod common;

use axum::http::{Method, StatusCode};
use common::{PASSWORD, Visitor, beijing, fields};
use serde_json::Value;
use std::collections::HashMap;
use tenderflow_core::model::{
    AppointCommittee, CommandBody, FinalizeEvaluation, Publish, SignOff, SubmitBid, SubmitScores,
};
use tenderflow_core::scenario::{Input, STAFF};
use tenderflow_testkit::app::{TestApp, spawn_app};

struct People<'a> {
    e: &'a TestApp,
    signed: HashMap<String, Visitor>,
}

impl People<'_> {
    async fn as_(&mut self, who: &str) -> &mut Visitor {
        if !self.signed.contains_key(who) {
            self.e
                .app
                .set_password(who, PASSWORD)
                .await
                .expect("password");
            let mut v = Visitor::new(self.e);
            let page = v.sign_in(who, PASSWORD).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{who}: {}", page.html);
            self.signed.insert(who.to_owned(), v);
        }
        self.signed.get_mut(who).expect("signed in")
    }

    /// Posts a console form and checks it was done.
    async fn console(&mut self, who: &str, form: Vec<(String, String)>) {
        let page = "/console/tenders/T-2021?lang=en";
        let v = self.as_(who).await;
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let done = v.submit(page, page, &pairs).await;
        let location = done.location.clone().unwrap_or_default();
        assert!(
            location.contains("done="),
            "{who} {form:?}: {location} {}",
            { v.get(&location).await.html }
        );
    }
}

#[tokio::test]
async fn the_seed_case_runs_through_the_pages_on_sqlite() {
    through_the_pages(spawn_app(18).await).await;
}

#[tokio::test]
async fn the_seed_case_runs_through_the_pages_on_postgres() {
    let Some(db) = tenderflow_testkit::db::Scratch::postgres().await else {
        return;
    };
    through_the_pages(tenderflow_testkit::app::spawn_app_at(&db.url, 18, false).await).await;
    drop(db);
}

async fn through_the_pages(by_pages: TestApp) {
    let by_api = spawn_app(18).await;
    by_api.play(by_api.steps.len()).await;
    let e = &by_pages;
    let mut people = People {
        e,
        signed: HashMap::new(),
    };
    let mut sheets = 0;
    for step in &e.steps {
        e.clock(step.at).await;
        let who = step.actor.id.as_str();
        let body = match &step.input {
            Input::Timer => continue,
            Input::Create(id) => {
                let v = people.as_(who).await;
                let new = v.get("/console/new?lang=en").await;
                let spec = new
                    .html
                    .split("name=\"workflow\" value=\"")
                    .find(|p| p.starts_with("partner-recruitment@"))
                    .and_then(|p| p.split('"').next())
                    .expect("the definition")
                    .to_owned();
                let done = v
                    .submit(
                        "/console/new?lang=en",
                        "/console/new?lang=en",
                        &[("workflow", &spec), ("tender", id)],
                    )
                    .await;
                assert!(
                    done.location
                        .is_some_and(|l| l.starts_with("/console/tenders/T-2021"))
                );
                continue;
            }
            Input::Command(b) => b,
        };
        let mut form: Vec<(String, String)> = vec![("command".into(), body.name().as_str().into())];
        match body {
            CommandBody::Publish(Publish {
                announcement,
                channels,
                deadline,
                ..
            }) => {
                fields("", announcement, &mut form);
                for ch in channels {
                    form.push((format!("channel-{ch}"), "1".into()));
                }
                form.push(("deadline".into(), beijing(*deadline)));
                people.console(who, form).await;
            }
            CommandBody::SubmitBid(SubmitBid { content, .. }) => {
                let mut bid = Vec::new();
                fields("", content, &mut bid);
                bid.push(("nonce".into(), who.into()));
                let pairs: Vec<(&str, &str)> =
                    bid.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let path = "/notices/T-2021/bid?lang=en";
                let v = people.as_(who).await;
                let done = v.submit(path, path, &pairs).await;
                assert_eq!(done.status, StatusCode::SEE_OTHER, "{who}: {}", done.html);
            }
            CommandBody::SignOff(SignOff { gate, content, .. }) => {
                form.push(("gate".into(), gate.clone()));
                fields("", content, &mut form);
                people.console(who, form).await;
            }
            CommandBody::AppointCommittee(AppointCommittee { members, .. }) => {
                for m in members {
                    form.push((format!("member-{}", m.id.as_str()), "1".into()));
                    if m.expert {
                        form.push((format!("expert-{}", m.id.as_str()), "1".into()));
                    }
                }
                people.console(who, form).await;
            }
            CommandBody::SubmitScores(SubmitScores { bidder, sheet, .. }) => {
                let mut f = vec![("bidder".to_owned(), bidder.as_str().to_owned())];
                fields("", sheet, &mut f);
                let pairs: Vec<(&str, &str)> =
                    f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let path = "/desk/tenders/T-2021?lang=en";
                let v = people.as_(who).await;
                let done = v.submit(path, path, &pairs).await;
                let location = done.location.unwrap_or_default();
                assert!(location.contains("saved=1"), "{who} {bidder:?}: {location}");
                sheets += 1;
            }
            CommandBody::FinalizeEvaluation(FinalizeEvaluation { draw_reveal }) => {
                if let Some(r) = draw_reveal {
                    form.push(("drawReveal".into(), r.clone()));
                }
                people.console(who, form).await;
            }
            CommandBody::OpenBids {} | CommandBody::ProposeAward {} | CommandBody::Award {} => {
                people.console(who, form).await;
            }
            other => panic!("the seed script has {:?}: add its page", other.name()),
        }
    }
    assert_eq!(sheets, 90, "5 evaluators × 18 bids");

    // The same outcome as the script over the API; the chain verifies.
    let (state, winners) = outcome(&by_pages).await;
    assert_eq!(state, "awarded");
    assert_eq!(winners.as_array().map(Vec::len), Some(7));
    assert_eq!((state, winners), outcome(&by_api).await);
    let reports = e.store.verify(Some("T-2021")).await.expect("verify");
    assert!(reports.iter().all(|r| r.problem.is_none()), "{reports:?}");

    // The OCDS export validates against the vendored OCDS 1.1.5 schemas.
    let releases = e
        .app
        .ocds_releases(Some("T-2021"), None)
        .await
        .expect("releases");
    let package = e.app.ocds_package(releases);
    let validator = tenderflow_testkit::ocds::validator();
    let errors: Vec<String> = validator
        .iter_errors(&package)
        .map(|err| format!("{} at {}", err, err.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    // Every message goes out through a real SMTP server (when aiosmtpd is there).
    if let Some(smtp) = tenderflow_testkit::smtp::Smtp::start() {
        let queued = e
            .store
            .outbox(Some(tenderflow_store::OutboxStatus::Pending))
            .await
            .expect("outbox");
        let d = tenderflow_notify::Dispatcher::new(
            e.store.clone(),
            tenderflow_notify::Transport::smtp(&smtp.url(), 4, std::time::Duration::from_secs(10))
                .expect("smtp"),
            "Tenderflow <noreply@tenderflow.example>",
            "seed",
        )
        .expect("dispatcher");
        for _ in 0..50 {
            let stats = d
                .dispatch_due(tenderflow_store::clock::wall_ms())
                .await
                .expect("dispatch");
            if stats.sent + stats.retried + stats.dead == 0 {
                break;
            }
        }
        let mut arrived = 0;
        for _ in 0..100 {
            arrived = smtp.messages().len();
            if arrived >= queued.len() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(arrived, queued.len(), "one message per outbox row");
        let kinds = |kind: &str| queued.iter().filter(|r| r.message.as_str() == kind).count();
        assert_eq!(kinds("award_notice"), 7);
        assert_eq!(kinds("committee_appointment"), 5);
        assert_eq!(kinds("bid_receipt"), 18);
    }

    // The printable records: each with the chain head, the inspector's signatures.
    let staff = people.as_(STAFF).await;
    let records = staff.get("/console/tenders/T-2021/records?lang=en").await;
    assert_eq!(records.status, StatusCode::OK);
    let head = e.store.chain_head("T-2021").await.expect("head");
    assert!(
        records.html.contains(&head.hash),
        "the chain head it describes"
    );
    for title in [
        "Opening record",
        "Evaluation report",
        "Publicity notice",
        "Award notice",
        "Supervision record",
    ] {
        assert!(
            records.html.contains(&format!("<h1>{title}</h1>")),
            "{title}"
        );
    }
    assert!(
        !records.html.contains("Not signed yet."),
        "every gate signed"
    );
    assert!(
        records.html.contains("Signature on the report"),
        "every member's signature status on the evaluation report"
    );
    let award = records
        .html
        .split("id=\"record-award\"")
        .nth(1)
        .and_then(|r| r.split("</section>").next())
        .expect("the award notice");
    assert_eq!(award.matches("<tr><td>").count(), 7, "{award}");
    // Fit for signing: names, money with its currency, local times; no ids, JSON or UTC.
    assert_readable(&visible(&records.html), "the records page (en)");
    assert!(records.html.contains('¥'), "prices with their currency");
    let zh = staff
        .get("/console/tenders/T-2021/records?lang=zh-CN")
        .await;
    assert_readable(&visible(&zh.html), "the records page (zh-CN)");
    assert!(zh.html.contains(" 元"), "prices with their currency");
    assert!(zh.html.contains("北京时间"), "times in the tender's zone");

    // The same records as a PDF made by the server, Chinese included: its text read back
    // with pdftotext, its first page drawn with pdftoppm (poppler-utils; CI installs it).
    let pdf = staff
        .bytes("/console/tenders/T-2021/records.pdf?lang=zh-CN")
        .await;
    assert!(pdf.starts_with(b"%PDF-"), "a PDF");
    check_pdf(&pdf, &head.hash);

    // Every bidder's portal shows its result.
    let winner = winners_of(&by_pages).await;
    for i in 0..18 {
        let id = tenderflow_core::scenario::bidder_id(i);
        let my = people.as_(&id).await.get("/my?lang=en").await;
        let want = if winner.contains(&id) {
            "Selected (awarded)"
        } else {
            "Not chosen"
        };
        assert!(my.html.contains(want), "{id}: {}", my.html);
    }
}

async fn outcome(app: &TestApp) -> (Value, Value) {
    let (_, v) = app
        .call(Some(STAFF), Method::GET, "/tenders/T-2021", None)
        .await;
    (v["state"].clone(), v["awarded"].clone())
}

async fn winners_of(e: &TestApp) -> Vec<String> {
    let (_, v) = e
        .call(Some(STAFF), Method::GET, "/tenders/T-2021", None)
        .await;
    v["awarded"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["bidder"].as_str().map(str::to_owned))
        .collect()
}

/// Reads the PDF back with poppler's tools (a printed skip without them, a failure in CI).
fn check_pdf(pdf: &[u8], hash: &str) {
    use std::process::Command;
    if Command::new("pdftotext").arg("-v").output().is_err() {
        tenderflow_testkit::skip("poppler-utils", "apt-get install poppler-utils");
        return;
    }
    let dir = tenderflow_testkit::TempDir::new("pdf");
    let file = dir.path().join("records.pdf");
    std::fs::write(&file, pdf).expect("write");
    let out = Command::new("pdftotext")
        .args(["-layout".as_ref(), file.as_os_str(), "-".as_ref()])
        .output()
        .expect("pdftotext");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_readable(&text, "the records PDF");
    assert!(text.contains("元"), "prices with their currency: {text}");
    for want in [
        "开标记录",
        "评标报告",
        "中标（入选）通知书",
        "监督记录",
        "T-2021",
        &hash[..16],
    ] {
        assert!(text.contains(want), "the PDF says `{want}`: {text}");
    }
    // Both fonts embedded: Latin text is not drawn as boxes by the CJK font.
    let fonts = Command::new("pdffonts")
        .arg(&file)
        .output()
        .expect("pdffonts");
    let fonts = String::from_utf8_lossy(&fonts.stdout);
    for face in ["DejaVuSansCondensed", "DroidSansFallback"] {
        assert!(
            fonts.lines().any(|l| l.contains(face) && l.contains("yes")),
            "{face} embedded: {fonts}"
        );
    }
    let png = dir.path().join("page");
    let drawn = Command::new("pdftoppm")
        .args(["-png", "-r", "40", "-f", "1", "-l", "1"])
        .arg(&file)
        .arg(&png)
        .status()
        .expect("pdftoppm");
    assert!(drawn.success());
    let image = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "png"))
        .expect("a page image");
    assert!(
        image.metadata().expect("size").len() > 2_000,
        "a page with something on it"
    );
}

/// The text a page shows (its tags and their attributes left out).
fn visible(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"").replace("&#34;", "\"")
}

/// Fails where `text` shows raw data instead of what people read: an account id
/// (`org-07`, `expert-3`, `staff-zhang`), JSON, an ISO UTC timestamp or a bare boolean.
fn assert_readable(text: &str, what: &str) {
    let bytes = text.as_bytes();
    let mut problems = Vec::new();
    for (i, _) in text.match_indices("org-") {
        if bytes.get(i + 4).is_some_and(u8::is_ascii_digit) {
            problems.push(text[i..].chars().take(8).collect::<String>());
        }
    }
    for id in ["expert-", "staff-zhang", "inspector-li"] {
        if let Some(i) = text.find(id) {
            problems.push(text[i..].chars().take(14).collect());
        }
    }
    for needle in ["{\"", "\":", "\"}", "true", "false"] {
        if let Some(i) = text.find(needle) {
            problems.push(text[i.saturating_sub(20)..].chars().take(40).collect());
        }
    }
    // 2026-01-06T05:25:15Z
    for (i, _) in text.match_indices('T') {
        let date = i >= 10 && text.is_char_boundary(i - 10) && {
            let d = &bytes[i - 10..i];
            d[4] == b'-'
                && d[7] == b'-'
                && d.iter()
                    .enumerate()
                    .all(|(k, b)| k == 4 || k == 7 || b.is_ascii_digit())
        };
        if date && bytes.get(i + 3) == Some(&b':') {
            problems.push(text[i - 10..].chars().take(20).collect());
        }
    }
    assert!(problems.is_empty(), "{what} shows raw data: {problems:?}");
}
