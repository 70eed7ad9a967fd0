//! Writes a screenshot of every page in both languages, from the seed case played to the
//! award, through Chromium (chromedriver must be installed):
//!
//! ```sh
//! cargo run -p tenderflow-web --example screenshots -- docs/screenshots
//! ```

use fantoccini::ClientBuilder;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tenderflow_testkit::app::{TestApp, spawn_app};

/// Publishes the recruitment documents in an amendment (as staff over the API) and, with
/// `plan`, gives the first bidder's bid a service plan: what the notice, the receipt and the
/// desk show.
async fn documents(app: &TestApp, plan: bool) {
    use axum::http::Method;
    let staff = tenderflow_core::scenario::STAFF;
    let pdf =
        |title: &str| tenderflow_web::simple_pdf(title, &["Tenderflow".to_owned()]).expect("pdf");
    let (_, _, body) = app
        .bytes(
            Some(staff),
            Method::POST,
            "/tenders/T-2021/documents?name=%E6%8B%9B%E5%8B%9F%E6%96%87%E4%BB%B6.pdf",
            Some(("application/pdf", pdf("招募文件 / Recruitment documents"))),
            &[],
        )
        .await;
    let terms: serde_json::Value = serde_json::from_slice(&body).expect("document");
    let (status, v) = app
        .call(
            Some(staff),
            Method::POST,
            "/tenders/T-2021/commands",
            Some(serde_json::json!({"command": "amend", "text": "招募文件已发布 / The recruitment documents are published", "affectsBids": false, "documents": [terms]})),
        )
        .await;
    assert!(status.is_success(), "{v}");
    if plan {
        let bidder = tenderflow_core::scenario::bidder_id(0);
        let (_, _, body) = app
            .bytes(
                Some(&bidder),
                Method::POST,
                "/tenders/T-2021/documents?name=%E6%9C%8D%E5%8A%A1%E6%96%B9%E6%A1%88.pdf&slot=servicePlan",
                Some(("application/pdf", pdf("服务方案 / Service plan"))),
                &[],
            )
            .await;
        let doc: serde_json::Value = serde_json::from_slice(&body).expect("document");
        let (_, view) = app
            .call(Some(&bidder), Method::GET, "/tenders/T-2021", None)
            .await;
        let content = view["bids"][0]["content"].clone();
        let (status, v) = app
            .call(
                Some(&bidder),
                Method::PUT,
                "/tenders/T-2021/bids",
                Some(serde_json::json!({"content": content, "documents": [doc]})),
            )
            .await;
        assert!(status.is_success(), "{v}");
    }
}

#[tokio::main]
async fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "docs/screenshots".into());
    std::fs::create_dir_all(&out).expect("output directory");
    // The seed case up to its announcement (an open tender) on one app, to the award on
    // another: the board shows both states.
    let open = spawn_app(18).await;
    open.play(2).await;
    documents(&open, false).await;
    let done = spawn_app(18).await;
    let is_bid = |s: &tenderflow_core::scenario::Step| {
        matches!(
            &s.input,
            tenderflow_core::scenario::Input::Command(tenderflow_core::CommandBody::SubmitBid(_))
        )
    };
    let last_bid = done.steps.iter().rposition(is_bid).expect("bids");
    done.play(last_bid + 1).await;
    documents(&done, true).await;
    done.play_from(last_bid + 1, done.steps.len()).await;
    // After the award: agreements, a quarter of deliveries, a performance round.
    done.play_contracts().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let mut driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (apt-get install chromium chromium-driver)");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                    "--disable-dev-shm-usage", "--window-size=1200,800"]}),
    );
    let c = ClientBuilder::rustls()
        .expect("tls")
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a browser session");
    // A bidder who has bid in both, signed in to the pages with a password.
    let bidder = tenderflow_core::scenario::bidder_id(0);
    let (status, v) = open
        .call(
            Some(&bidder),
            axum::http::Method::POST,
            "/tenders/T-2021/bids",
            Some(serde_json::json!({ "content": tenderflow_testkit::fixtures::bid(&bidder, 128_050) })),
        )
        .await;
    assert!(status.is_success(), "{v}");
    for (name, app) in [("open", &open), ("awarded", &done)] {
        let pages = tenderflow_web::router(Arc::new(app.app.clone())).merge(app.router.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, pages).await });
        let shoot = async |page: &str, path: &str, lang: &str| {
            let sep = if path.contains('?') { '&' } else { '?' };
            c.goto(&format!("http://{addr}{path}{sep}lang={lang}"))
                .await
                .expect("page");
            let png = c.screenshot().await.expect("screenshot");
            let file = format!("{out}/{page}-{name}-{lang}.png");
            std::fs::write(&file, png).expect("write");
            println!("{file}");
        };
        for lang in ["zh-CN", "en"] {
            for (page, path) in [("board", "/"), ("notice", "/notices/T-2021")] {
                shoot(page, path, lang).await;
            }
            if name == "open" {
                for (page, path) in [
                    ("sign-in", "/sign-in"),
                    ("register", "/register"),
                    ("forgot", "/forgot"),
                    // The pages a mailed link opens (a button confirms each).
                    ("verify", "/verify/0123456789abcdef"),
                    ("reset", "/reset/0123456789abcdef"),
                    ("subscribe", "/subscribe/0123456789abcdef"),
                    ("not-found", "/notices/T-none"),
                ] {
                    shoot(page, path, lang).await;
                }
            }
        }
        // Each person signed in, in turn: the bidder's portal, the staff console, the
        // inspector's console, an evaluator's desk.
        let sign_in = async |who: &str| {
            app.app
                .set_password(who, "screenshots password")
                .await
                .expect("password");
            c.goto(&format!("http://{addr}/sign-in?lang=en"))
                .await
                .expect("sign in");
            let form = c
                .form(fantoccini::Locator::Css("form.stacked"))
                .await
                .expect("the form");
            form.set_by_name("login", who).await.expect("login");
            form.set_by_name("password", "screenshots password")
                .await
                .expect("password");
            form.submit().await.expect("submit");
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        let staff = tenderflow_core::scenario::STAFF;
        let inspector = tenderflow_core::scenario::INSPECTOR;
        let evaluator = tenderflow_core::scenario::evaluator_id(0);
        let mut people: Vec<(&str, Vec<(&str, &str)>)> = vec![
            (
                bidder.as_str(),
                vec![
                    ("my-bids", "/my"),
                    ("receipt", "/notices/T-2021/receipt"),
                    ("account", "/account"),
                ],
            ),
            (
                staff,
                vec![
                    ("console", "/console"),
                    ("console-tender", "/console/tenders/T-2021"),
                ],
            ),
            (
                inspector,
                vec![("inspector-console", "/console/tenders/T-2021")],
            ),
        ];
        if name == "open" {
            people[0].1.push(("bid-form", "/notices/T-2021/bid"));
            people[1].1.push(("new-tender", "/console/new"));
        } else {
            people[1]
                .1
                .push(("records", "/console/tenders/T-2021/records"));
            people[1]
                .1
                .push(("quarterly", "/console/reports/quarterly?quarter=2026-Q2"));
            people.push((evaluator.as_str(), vec![("desk", "/desk/tenders/T-2021")]));
        }
        for (who, pages) in people {
            sign_in(who).await;
            for lang in ["zh-CN", "en"] {
                for (page, path) in &pages {
                    shoot(page, path, lang).await;
                }
            }
        }
    }
    c.close().await.expect("close");
    let _ = driver.kill();
    let _ = driver.wait();
}
