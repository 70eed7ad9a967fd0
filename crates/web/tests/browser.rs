//! The pages in a real browser: Chromium through WebDriver (chromedriver), against the real
//! router on a socket. Like PostgreSQL and SMTP, a missing browser is a printed skip, and a
//! failure when `TENDERFLOW_TEST_REQUIRE_SERVICES=1` (CI installs `chromium` and
//! `chromium-driver`).

mod common;

use axum::http::Method;
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tenderflow_testkit::app::spawn_app;

/// A chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn driver() -> Option<Driver> {
    let port = free_port();
    let child = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            tenderflow_testkit::skip(
                "the browser",
                &format!(
                    "chromedriver did not start ({e}); apt-get install chromium chromium-driver"
                ),
            );
            return None;
        }
    };
    let d = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(d);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not listen on {port}");
}

async fn browser(d: &Driver) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1200,900"]
        }),
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&d.url)
        .await
        .expect("a browser session")
}

/// The text of `css` once it contains `needle` (pages change under htmx's boosted links, so
/// an element found before the swap may go stale: look again until it reads right).
async fn text(c: &Client, css: &str, needle: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(e) = c.find(Locator::Css(css)).await {
            if let Ok(t) = e.text().await {
                if t.contains(needle) {
                    return t;
                }
                last = t;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("`{css}` never read `{needle}`; last: {last:?}");
}

#[tokio::test]
async fn the_notice_board_and_a_notice_in_both_languages() {
    let Some(d) = driver().await else { return };
    let e = spawn_app(3).await;
    e.play(2).await; // the tender is created and announced
    // A bidder asks; staff answer (with markup that must show as text, never run).
    let asker = tenderflow_core::scenario::bidder_id(0);
    let commands = "/tenders/T-2021/commands";
    for (who, body) in [
        (
            asker.as_str(),
            serde_json::json!({"command": "ask_question", "text": "May one organisation run two venues?"}),
        ),
        (
            tenderflow_core::scenario::STAFF,
            serde_json::json!({"command": "answer_question", "question": 1, "affectsBids": false,
                               "answer": "Yes <script>alert(1)</script> per venue."}),
        ),
    ] {
        let (status, v) = e.call(Some(who), Method::POST, commands, Some(body)).await;
        assert!(status.is_success(), "{v}");
    }
    let pages = tenderflow_web::router(Arc::new(e.app.clone())).merge(e.router.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, pages).await });
    let c = browser(&d).await;

    c.goto(&format!("http://{addr}/?lang=zh-CN"))
        .await
        .expect("board");
    assert_eq!(text(&c, "h1", "公告栏").await, "公告栏");
    let board = text(&c, "table.board", "北京时间").await;
    assert!(board.contains("北京时间"), "{board}");
    assert!(board.contains("征集中"), "the state by its name: {board}");
    assert!(board.contains("还剩"), "a countdown: {board}");
    assert!(!board.contains("active"), "no slugs: {board}");

    c.find(Locator::Css("table.board a"))
        .await
        .expect("a notice link")
        .click()
        .await
        .expect("click");
    let facts = text(&c, "dl.facts", "公开").await;
    let qa = text(&c, "dl.enquiries", "per venue").await;
    assert!(
        qa.contains("Yes <script>alert(1)</script> per venue."),
        "shown as text: {qa}"
    );
    assert!(!qa.contains(&asker), "never who asked: {qa}");
    assert!(facts.contains("2026年1月"), "{facts}");
    assert!(
        c.current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/notices/")
    );

    // The switch shows the same page in English.
    c.find(Locator::Css("header nav a.lang-switch"))
        .await
        .expect("the language switch")
        .click()
        .await
        .expect("click");
    let facts = text(&c, "dl.facts", "China Standard Time").await;
    assert!(facts.contains("Open for bids"), "{facts}");
    // The whole page is in the new language, `<html lang>` included.
    let html_lang = c
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("lang");
    assert_eq!(html_lang.as_deref(), Some("en"));

    // A notice that does not exist is a page that says so, not a stack trace.
    c.goto(&format!("http://{addr}/notices/T-none?lang=en"))
        .await
        .expect("missing");
    text(&c, "h1", "No such notice").await;
    c.close().await.expect("close");
}

/// The text of every message the sink received, with quoted-printable soft breaks undone.
fn mail_text(smtp: &tenderflow_testkit::smtp::Smtp) -> String {
    smtp.messages()
        .join("\n")
        .replace("=\r\n", "")
        .replace("=\n", "")
}

/// The first `{path}{64 hex digits}` link in the mail received so far (waiting for it).
async fn mailed_link(smtp: &tenderflow_testkit::smtp::Smtp, path: &str) -> String {
    for _ in 0..100 {
        let text = mail_text(smtp);
        if let Some(at) = text.find(path) {
            let start = text[..at].rfind("http://").expect("an absolute link");
            let token: String = text[at + path.len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect();
            if token.len() == 64 {
                return format!("{}{path}{token}", &text[start..at]);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no mail with a {path} link arrived");
}

/// Clicks the submit button of the form at `css` (a real click: the browser checks the
/// form's constraints first).
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("`{css}`: {e}"))
        .click()
        .await
        .expect("click");
}

/// Types `value` into the field named `name` (clearing it first).
async fn fill(c: &Client, name: &str, value: &str) {
    let field = c
        .find(Locator::Css(&format!("[name=\"{name}\"]")))
        .await
        .unwrap_or_else(|e| panic!("field {name}: {e}"));
    if field.tag_name().await.expect("tag") == "select" {
        field.select_by_value(value).await.expect("select");
    } else {
        field.clear().await.expect("clear");
        field.send_keys(value).await.expect("type");
    }
}

/// The journey of the issue, on one database: an organisation registers, verifies the mailed
/// link, signs in, reads the notice, asks a question and sees the published answer, is
/// stopped by the browser on a share below 20 %, submits, replaces, sees its receipt and,
/// after the award, its result; a second bidder's session never sees the first one's bid.
async fn journey(
    d: &Driver,
    e: tenderflow_testkit::app::TestApp,
    smtp: &tenderflow_testkit::smtp::Smtp,
) {
    use tenderflow_core::model::SubmitScores;
    use tenderflow_core::scenario::{Input, STAFF, bidder_id};
    e.play(2).await; // created and announced
    let pages = tenderflow_web::router(Arc::new(e.app.clone())).merge(e.router.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, pages).await });
    let base = format!("http://{addr}");
    let dispatcher = tenderflow_notify::Dispatcher::new(
        e.store.clone(),
        tenderflow_notify::Transport::smtp(&smtp.url(), 2, Duration::from_secs(10)).expect("smtp"),
        "Tenderflow <noreply@tenderflow.example>",
        "journey",
    )
    .expect("dispatcher")
    .with_public_url(Some(&base));
    let c = browser(d).await;

    // Register.
    c.goto(&format!("{base}/register?lang=en"))
        .await
        .expect("register");
    for (name, value) in [
        ("name", "Harbour Arts Troupe"),
        ("number", "91310000MA1K00JRNY"),
        ("contact", "Li Hua"),
        ("email", "troupe@harbour.example"),
        ("password", "correct horse battery"),
        ("password2", "correct horse battery"),
    ] {
        fill(&c, name, value).await;
    }
    click(&c, "form.stacked button[type=submit]").await;
    text(&c, "h1", "Check your mail").await;

    // The mailed link, through the real SMTP server.
    dispatcher
        .dispatch_due(tenderflow_store::clock::wall_ms())
        .await
        .expect("dispatch");
    let link = mailed_link(smtp, "/verify/").await;
    assert!(link.starts_with(&base), "{link}");
    c.goto(&link).await.expect("verify");
    click(&c, "form.stacked button[type=submit]").await;
    text(&c, "h1", "Address confirmed").await;

    // Sign in, then read the notice and ask.
    c.goto(&format!("{base}/sign-in?lang=en"))
        .await
        .expect("sign in");
    fill(&c, "login", "troupe@harbour.example").await;
    fill(&c, "password", "correct horse battery").await;
    click(&c, "form.stacked button[type=submit]").await;
    text(&c, "h1", "My bids").await;
    c.goto(&format!("{base}/notices/T-2021?lang=en"))
        .await
        .expect("notice");
    fill(
        &c,
        "text",
        "May one organisation run two venues? <script>alert(1)</script>",
    )
    .await;
    click(&c, "#questions button[type=submit]").await;
    text(&c, "#questions", "Your question has been received").await;
    let (status, v) = e
        .call(
            Some(STAFF),
            Method::POST,
            "/tenders/T-2021/commands",
            Some(
                serde_json::json!({"command": "answer_question", "question": 1,
                                    "affectsBids": false, "answer": "Yes, one per venue."}),
            ),
        )
        .await;
    assert!(status.is_success(), "{v}");
    c.goto(&format!("{base}/notices/T-2021?lang=en"))
        .await
        .expect("notice");
    let qa = text(&c, "dl.enquiries", "one per venue").await;
    assert!(
        qa.contains("<script>alert(1)</script>"),
        "shown as text: {qa}"
    );

    // The bid form: a share below 20 % is stopped in the page.
    click(&c, "section.actions a.button").await;
    text(&c, "h1", "Submit a bid").await;
    fill(&c, "serviceArea", "arts_performance").await;
    fill(
        &c,
        "servicePlan",
        "Weekly shows in the workers' cultural palace",
    )
    .await;
    fill(&c, "freeOrDiscountedShare", "15").await;
    fill(&c, "feeMinor", "1280.50").await;
    click(&c, "form.bid button[type=submit]").await;
    let message = c
        .execute(
            "return document.getElementById('f-freeOrDiscountedShare').validationMessage",
            vec![],
        )
        .await
        .expect("js");
    assert!(
        message.as_str().is_some_and(|m| !m.is_empty()),
        "the browser flags the share: {message}"
    );
    assert!(c.current_url().await.expect("url").path().ends_with("/bid"));
    fill(&c, "freeOrDiscountedShare", "30").await;
    click(&c, "form.bid button[type=submit]").await;
    text(&c, "h1", "Bid receipt").await;
    let first = text(&c, "#receipt-code", "").await;

    // Replace it.
    click(&c, "a.button[href*='/bid']").await;
    text(&c, "h1", "Replace the bid").await;
    fill(&c, "feeMinor", "1180").await;
    click(&c, "form.bid button[type=submit]").await;
    text(&c, "h1", "Bid receipt").await;
    let mut second = first.clone();
    for _ in 0..50 {
        second = text(&c, "#receipt-code", "").await;
        if second != first {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(first, second, "a replaced bid has a new receipt");
    let me = e
        .store
        .credentials("troupe@harbour.example")
        .await
        .expect("credentials")
        .expect("registered")
        .id;

    // A second bidder, in its own session, sees nothing of the first one's.
    let other = bidder_id(1);
    e.app
        .set_password(&other, "another long password")
        .await
        .expect("password");
    let c2 = browser(d).await;
    c2.goto(&format!("{base}/sign-in?lang=en"))
        .await
        .expect("sign in");
    fill(&c2, "login", &other).await;
    fill(&c2, "password", "another long password").await;
    click(&c2, "form.stacked button[type=submit]").await;
    text(&c2, "h1", "My bids").await;
    for path in [
        "/my?lang=en",
        "/notices/T-2021/receipt?lang=en",
        "/notices/T-2021?lang=en",
    ] {
        c2.goto(&format!("{base}{path}")).await.expect("page");
        text(&c2, "h1", "").await;
        let html = c2.source().await.expect("source");
        for secret in [second.as_str(), "Harbour Arts Troupe", me.as_str()] {
            assert!(
                !html.contains(secret),
                "{path} shows `{secret}` to another bidder"
            );
        }
    }

    // The rest of the procedure; the evaluators score the new bid as they score bidder 0's.
    for i in 2..e.steps.len() {
        e.play_from(i, i + 1).await;
        if let Input::Command(tenderflow_core::CommandBody::SubmitScores(SubmitScores {
            bidder,
            sheet,
            ..
        })) = &e.steps[i].input
        {
            if bidder.as_str() == bidder_id(0) {
                let (status, v) = e
                    .call(
                        Some(e.steps[i].actor.id.as_str()),
                        Method::POST,
                        "/tenders/T-2021/scores",
                        Some(serde_json::json!({ "bidder": me, "sheet": sheet })),
                    )
                    .await;
                assert!(status.is_success(), "{v}");
            }
        }
    }
    c.goto(&format!("{base}/my?lang=en")).await.expect("my");
    let result = text(&c, "td.result", "").await;
    assert!(
        result.contains("Selected (awarded)") || result.contains("Not chosen"),
        "the result after the award: {result}"
    );
    c2.goto(&format!("{base}/my?lang=en")).await.expect("my");
    let theirs = c2.source().await.expect("source");
    assert!(!theirs.contains(&second), "never the other's receipt");
    c.close().await.expect("close");
    c2.close().await.expect("close");
}

#[tokio::test]
async fn a_bidder_registers_asks_bids_and_sees_its_result_on_sqlite() {
    let Some(d) = driver().await else { return };
    let Some(smtp) = tenderflow_testkit::smtp::Smtp::start() else {
        return;
    };
    journey(&d, spawn_app(18).await, &smtp).await;
}

#[tokio::test]
async fn a_bidder_registers_asks_bids_and_sees_its_result_on_postgres() {
    let Some(d) = driver().await else { return };
    let Some(smtp) = tenderflow_testkit::smtp::Smtp::start() else {
        return;
    };
    let Some(db) = tenderflow_testkit::db::Scratch::postgres().await else {
        return;
    };
    let e = tenderflow_testkit::app::spawn_app_at(&db.url, 18, false).await;
    journey(&d, e, &smtp).await;
    drop(db);
}

#[tokio::test]
async fn the_inspectors_timeline_shows_new_events_without_reloading() {
    use tenderflow_core::scenario::{INSPECTOR, STAFF};
    let Some(d) = driver().await else { return };
    let e = spawn_app(3).await;
    e.play(2).await; // announced
    e.app
        .set_password(INSPECTOR, "inspector password")
        .await
        .expect("password");
    let pages = tenderflow_web::router(Arc::new(e.app.clone())).merge(e.router.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, pages).await });
    let c = browser(&d).await;
    c.goto(&format!(
        "http://{addr}/sign-in?lang=en&next=/console/tenders/T-2021"
    ))
    .await
    .expect("sign in");
    // A refusal (401) is shown like any page, htmx or not.
    fill(&c, "login", INSPECTOR).await;
    fill(&c, "password", "not the password").await;
    click(&c, "form.stacked button[type=submit]").await;
    text(&c, "#sign-in-problem", "is not right").await;
    fill(&c, "login", INSPECTOR).await;
    fill(&c, "password", "inspector password").await;
    click(&c, "form.stacked button[type=submit]").await;
    let before = text(&c, "#timeline", "Announcement published").await;
    assert!(!before.contains("Amendment published"), "{before}");
    // Staff amend over the API; the inspector's page shows it by itself.
    let (status, v) = e
        .call(
            Some(STAFF),
            Method::POST,
            "/tenders/T-2021/commands",
            Some(serde_json::json!({"command": "amend", "text": "Venue list attached.", "affectsBids": false})),
        )
        .await;
    assert!(status.is_success(), "{v}");
    text(&c, "#timeline", "Amendment published").await;
    // A staff action is not the inspector's: the console offers none, and the core refuses one.
    let url = c.current_url().await.expect("url");
    assert!(url.path().starts_with("/console/tenders/T-2021"), "{url}");
    let html = c.source().await.expect("source");
    assert!(!html.contains("data-command=\"open_bids\""));
    assert!(!html.contains("data-command=\"amend\""));
    c.close().await.expect("close");
}

/// Fills the form `form` (a CSS selector) with `values` by name — text, choices, checkboxes
/// (ticked) and radio buttons (the one with the value) — and submits it the way a click
/// does (`requestSubmit`: the browser's checks and htmx's boost apply).
async fn submit_form(c: &Client, form: &str, values: &[(String, String)]) {
    let js = r#"
        const [sel, values] = arguments;
        const f = document.querySelector(sel);
        if (!f) return 'no form ' + sel;
        for (const [k, v] of values) {
            const all = f.querySelectorAll('[name="' + CSS.escape(k) + '"]');
            if (all.length === 0) return 'no field ' + k + ' in ' + sel;
            const el = all[0];
            if (el.type === 'radio') {
                const r = [...all].find(x => x.value === v);
                if (!r) return 'no choice ' + v + ' for ' + k;
                r.checked = true;
            } else if (el.type === 'checkbox') {
                el.checked = true;
            } else {
                el.value = v;
            }
        }
        if (!f.checkValidity()) {
            const bad = f.querySelector(':invalid');
            return 'invalid ' + (bad ? bad.name + ': ' + bad.validationMessage : '');
        }
        f.requestSubmit();
        return 'ok';
    "#;
    let pairs: Vec<serde_json::Value> = values
        .iter()
        .map(|(k, v)| serde_json::json!([k, v]))
        .collect();
    let r = c
        .execute(js, vec![serde_json::json!(form), serde_json::json!(pairs)])
        .await
        .expect("js");
    assert_eq!(r, "ok", "{form}: {r}");
}

/// Waits until the address satisfies `ok` (htmx pushes the address after a boosted submit).
async fn arrive(c: &Client, what: &str, ok: impl Fn(&str) -> bool) {
    for _ in 0..200 {
        if let Ok(u) = c.current_url().await {
            if ok(u.as_str()) {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let u = c.current_url().await.expect("url");
    let body = c
        .find(Locator::Css("main"))
        .await
        .expect("main")
        .text()
        .await
        .unwrap_or_default();
    panic!("{what}: still at {u}: {body}");
}

/// The seed case in Chromium: every step through the pages as its actor would take it, one
/// browser, signing in as each person in turn; the outcome is the script's over the API.
async fn seed_in_the_browser(d: &Driver, e: tenderflow_testkit::app::TestApp) {
    use common::{beijing, fields};
    use tenderflow_core::CommandBody;
    use tenderflow_core::model::{
        AppointCommittee, FinalizeEvaluation, Publish, SignOff, SubmitBid, SubmitScores,
    };
    use tenderflow_core::scenario::Input;
    let pages = tenderflow_web::router(Arc::new(e.app.clone())).merge(e.router.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, pages).await });
    let base = format!("http://{addr}");
    let c = browser(d).await;
    let mut who_now = String::new();
    let console = format!("{base}/console/tenders/T-2021?lang=en");
    for step in &e.steps {
        e.clock(step.at).await;
        let who = step.actor.id.as_str();
        if matches!(step.input, Input::Timer) {
            continue;
        }
        if who_now != who {
            e.app
                .set_password(who, "browser password")
                .await
                .expect("password");
            c.goto(&format!("{base}/sign-in?lang=en"))
                .await
                .expect("sign in");
            submit_form(
                &c,
                "form.stacked",
                &[
                    ("login".into(), who.into()),
                    ("password".into(), "browser password".into()),
                ],
            )
            .await;
            arrive(&c, "signed in", |u| !u.contains("/sign-in")).await;
            who_now = who.to_owned();
        }
        let body = match &step.input {
            Input::Create(id) => {
                c.goto(&format!("{base}/console/new?lang=en"))
                    .await
                    .expect("new");
                let spec = c
                    .execute(
                        "return [...document.querySelectorAll('[name=workflow]')].map(x => x.value).find(v => v.startsWith('partner-recruitment@'))",
                        vec![],
                    )
                    .await
                    .expect("js");
                let spec = spec.as_str().expect("the definition").to_owned();
                submit_form(
                    &c,
                    "form.stacked",
                    &[("workflow".into(), spec), ("tender".into(), id.clone())],
                )
                .await;
                arrive(&c, "created", |u| u.contains("/console/tenders/T-2021")).await;
                continue;
            }
            Input::Command(b) => b,
            Input::Timer => continue,
        };
        let mut form: Vec<(String, String)> = Vec::new();
        let command = body.name().as_str().to_owned();
        let selector = match body {
            CommandBody::SubmitBid(SubmitBid { content, .. }) => {
                fields("", content, &mut form);
                c.goto(&format!("{base}/notices/T-2021/bid?lang=en"))
                    .await
                    .expect("bid");
                submit_form(&c, "form.bid", &form).await;
                arrive(&c, "receipt", |u| u.contains("/receipt")).await;
                continue;
            }
            CommandBody::SubmitScores(SubmitScores { bidder, sheet, .. }) => {
                fields("", sheet, &mut form);
                c.goto(&format!("{base}/desk/tenders/T-2021?lang=en"))
                    .await
                    .expect("desk");
                submit_form(&c, &format!("#bid-{} form.sheet", bidder.as_str()), &form).await;
                arrive(&c, "sheet saved", |u| u.contains("saved=1")).await;
                continue;
            }
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
                "form[data-command=publish]".to_owned()
            }
            CommandBody::SignOff(SignOff { gate, content, .. }) => {
                fields("", content, &mut form);
                format!("form[data-command=sign_off]:has(input[name=gate][value={gate}])")
            }
            CommandBody::AppointCommittee(AppointCommittee { members, .. }) => {
                for m in members {
                    form.push((format!("member-{}", m.id.as_str()), "1".into()));
                }
                "form[data-command=appoint_committee]".to_owned()
            }
            CommandBody::FinalizeEvaluation(FinalizeEvaluation { draw_reveal }) => {
                if let Some(r) = draw_reveal {
                    form.push(("drawReveal".into(), r.clone()));
                }
                "form[data-command=finalize_evaluation]".to_owned()
            }
            other => format!("form[data-command={}]", other.name().as_str()),
        };
        c.goto(&console).await.expect("console");
        submit_form(&c, &selector, &form).await;
        arrive(&c, &command, |u| u.contains("done=")).await;
    }
    let (_, v) = e
        .call(
            Some(tenderflow_core::scenario::STAFF),
            Method::GET,
            "/tenders/T-2021",
            None,
        )
        .await;
    assert_eq!(v["state"], "awarded", "{v}");
    assert_eq!(v["awarded"].as_array().map(Vec::len), Some(7));
    let reports = e.store.verify(Some("T-2021")).await.expect("verify");
    assert!(reports.iter().all(|r| r.problem.is_none()));
    c.close().await.expect("close");
}

#[tokio::test]
async fn the_seed_case_runs_in_the_browser_on_sqlite() {
    let Some(d) = driver().await else { return };
    seed_in_the_browser(&d, spawn_app(18).await).await;
}

#[tokio::test]
async fn the_seed_case_runs_in_the_browser_on_postgres() {
    let Some(d) = driver().await else { return };
    let Some(db) = tenderflow_testkit::db::Scratch::postgres().await else {
        return;
    };
    seed_in_the_browser(
        &d,
        tenderflow_testkit::app::spawn_app_at(&db.url, 18, false).await,
    )
    .await;
    drop(db);
}
