//! The pages in a real browser: Chromium through WebDriver (chromedriver), against the real
//! router on a socket. Like PostgreSQL and SMTP, a missing browser is a printed skip, and a
//! failure when `TENDERFLOW_TEST_REQUIRE_SERVICES=1` (CI installs `chromium` and
//! `chromium-driver`).

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
    c.find(Locator::Css("header nav a"))
        .await
        .expect("the language switch")
        .click()
        .await
        .expect("click");
    let facts = text(&c, "dl.facts", "China Standard Time").await;
    assert!(facts.contains("Open for bids"), "{facts}");

    // A notice that does not exist is a page that says so, not a stack trace.
    c.goto(&format!("http://{addr}/notices/T-none?lang=en"))
        .await
        .expect("missing");
    text(&c, "h1", "No such notice").await;
    c.close().await.expect("close");
}
