//! Accounts and the portal over HTTP in process (no browser), with a cookie jar: an
//! organisation registers and verifies its mailed link, signs in and out (everywhere); the
//! security properties each have a test: CSRF, session fixation, sign-in rate limiting, and
//! markup shown as text; the bid form's errors sit next to their fields.

mod common;

use axum::http::{Method, StatusCode};
use common::Visitor;
use tenderflow_store::{AccountMail, Mail, OutboxStatus};
use tenderflow_testkit::app::{TestApp, spawn_app};

use common::PASSWORD;

/// The link token of the newest pending account message of `kind` to `to` (opened the way
/// the dispatcher opens it).
async fn mailed_token(e: &TestApp, kind: AccountMail, to: &str) -> String {
    let rows = e
        .store
        .outbox(Some(OutboxStatus::Pending))
        .await
        .expect("outbox");
    let row = rows
        .iter()
        .rev()
        .find(|r| r.message == Mail::Account(kind) && r.recipient_id == to)
        .unwrap_or_else(|| panic!("no {kind:?} to {to}"));
    assert!(
        !row.data.to_string().contains("/verify/"),
        "the outbox never holds a usable link"
    );
    e.store.mail_secret(row).expect("open").expect("a token")
}

/// Registers an organisation through the pages and verifies its address; returns its id.
async fn register(e: &TestApp, v: &mut Visitor, name: &str, number: &str, email: &str) -> String {
    register_opting(e, v, name, number, email, true).await
}

/// [`register`], opting in to announcements or not.
async fn register_opting(
    e: &TestApp,
    v: &mut Visitor,
    name: &str,
    number: &str,
    email: &str,
    announcements: bool,
) -> String {
    let mut fields = vec![
        ("name", name),
        ("number", number),
        ("contact", "Li Hua"),
        ("email", email),
        ("password", PASSWORD),
        ("password2", PASSWORD),
    ];
    if announcements {
        fields.push(("announcements", "1"));
    }
    let page = v
        .submit("/register?lang=en", "/register?lang=en", &fields)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(page.html.contains("Check your mail"), "{}", page.html);
    let creds = e
        .store
        .credentials(email)
        .await
        .expect("credentials")
        .expect("registered");
    assert!(creds.email_verified_ms.is_none());
    // Not before the address is verified.
    let early = v.sign_in(email, PASSWORD).await;
    assert_eq!(early.status, StatusCode::UNAUTHORIZED);
    assert!(
        early.html.contains("Confirm the address first"),
        "{}",
        early.html
    );
    let token = mailed_token(e, AccountMail::VerifyEmail, &creds.id).await;
    let path = format!("/verify/{token}?lang=en");
    let done = v.submit(&path, &path, &[]).await;
    assert!(done.html.contains("Address confirmed"), "{}", done.html);
    // A link works once.
    let again = v.submit(&path, &path, &[]).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    creds.id
}

#[tokio::test]
async fn an_organisation_registers_verifies_signs_in_and_out_everywhere() {
    let e = spawn_app(3).await;
    let mut v = Visitor::new(&e);
    let id = register(
        &e,
        &mut v,
        "Harbour Arts Troupe",
        "91310000MA1K000001",
        "arts@harbour.example",
    )
    .await;
    // The same registration number or address cannot register twice, and the page does
    // not tell: it answers as for a new registration and mails the owner instead.
    for (number, email) in [
        ("91310000ma1k000001", "copy@harbour.example"),
        ("91310000MA1K000077", "ARTS@harbour.example"),
    ] {
        let mut other = Visitor::new(&e);
        let twice = other
            .submit(
                "/register?lang=en",
                "/register?lang=en",
                &[
                    ("name", "Copy"),
                    ("number", number),
                    ("contact", "X"),
                    ("email", email),
                    ("password", PASSWORD),
                    ("password2", PASSWORD),
                ],
            )
            .await;
        assert_eq!(twice.status, StatusCode::OK, "{}", twice.html);
        assert!(twice.html.contains("Check your mail"), "{}", twice.html);
        assert!(
            e.store
                .credentials("copy@harbour.example")
                .await
                .expect("c")
                .is_none(),
            "nothing was made"
        );
    }
    let attempts = e
        .store
        .outbox(Some(OutboxStatus::Pending))
        .await
        .expect("outbox")
        .iter()
        .filter(|r| {
            r.message == Mail::Account(AccountMail::RegistrationAttempt) && r.recipient_id == id
        })
        .count();
    assert_eq!(attempts, 2, "the owner is told of each attempt");
    // An address the mailer cannot send to is refused at once.
    let mut odd = Visitor::new(&e);
    let bad = odd
        .submit(
            "/register?lang=en",
            "/register?lang=en",
            &[
                ("name", "Odd"),
                ("number", "91310000MA1K000078"),
                ("contact", "X"),
                ("email", "odd@@example.org"),
                ("password", PASSWORD),
                ("password2", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.html.contains("id=\"e-email\""), "{}", bad.html);

    // Session fixation: a session id planted before sign-in is never adopted.
    v.cookies.insert("tf_session".into(), "ab".repeat(32));
    let signed = v.sign_in("ARTS@harbour.example", PASSWORD).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.html);
    // The language goes on through sign-in.
    assert_eq!(signed.location.as_deref(), Some("/my?lang=en"));
    let first = v.cookies["tf_session"].clone();
    assert_ne!(first, "ab".repeat(32));
    let my = v.get("/my?lang=en").await;
    assert_eq!(my.status, StatusCode::OK);
    assert!(
        my.html.contains("Harbour Arts Troupe"),
        "the header names the organisation"
    );
    let mut planted = Visitor::new(&e);
    planted.cookies.insert("tf_session".into(), "ab".repeat(32));
    assert_eq!(planted.get("/my").await.status, StatusCode::SEE_OTHER);

    // A second device; signing out everywhere ends both.
    let mut phone = Visitor::new(&e);
    assert_eq!(
        phone.sign_in(&id, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(phone.get("/account?lang=en").await.status, StatusCode::OK);
    let out = v
        .submit(
            "/account?lang=en",
            "/account/sign-out-everywhere?lang=en",
            &[],
        )
        .await;
    assert!(out.html.contains("2 session(s) ended"), "{}", out.html);
    assert_eq!(phone.get("/account").await.status, StatusCode::SEE_OTHER);
    v.cookies.insert("tf_session".into(), first);
    assert_eq!(v.get("/account").await.status, StatusCode::SEE_OTHER);

    // A forgotten password: the mailed link sets a new one once.
    let sent = v
        .submit(
            "/forgot?lang=en",
            "/forgot?lang=en",
            &[("email", "arts@harbour.example")],
        )
        .await;
    assert!(sent.html.contains("a link is on its way"), "{}", sent.html);
    let token = mailed_token(&e, AccountMail::PasswordReset, &id).await;
    let path = format!("/reset/{token}?lang=en");
    let reset = v
        .submit(
            &path,
            &path,
            &[
                ("password", "a new long password"),
                ("password2", "a new long password"),
            ],
        )
        .await;
    assert!(reset.html.contains("Password changed"), "{}", reset.html);
    assert_eq!(
        v.sign_in(&id, PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        v.sign_in(&id, "a new long password").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn forms_without_the_visitors_csrf_token_are_refused() {
    let e = spawn_app(3).await;
    let mut v = Visitor::new(&e);
    let mut attacker = Visitor::new(&e);
    let theirs = attacker.get("/sign-in").await.csrf();
    v.get("/sign-in").await;
    for token in ["", "nonsense", theirs.as_str()] {
        let page = v
            .post(
                "/sign-in?lang=en",
                &[
                    ("csrf", token),
                    ("login", "staff-zhang"),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "token {token:?}");
        assert!(page.html.contains("This form has expired"));
    }
    // Signed in, the session's token is the one that counts (not the anonymous cookie's).
    e.app
        .set_password(&tenderflow_core::scenario::bidder_id(0), PASSWORD)
        .await
        .expect("password");
    assert_eq!(
        v.sign_in(&tenderflow_core::scenario::bidder_id(0), PASSWORD)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let anonymous = v.cookies["tf_csrf"].clone();
    let page = v.post("/sign-out", &[("csrf", anonymous.as_str())]).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(v.get("/my").await.status, StatusCode::OK, "still signed in");
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_account() {
    let e = spawn_app(3).await;
    let bidder = tenderflow_core::scenario::bidder_id(0);
    e.app
        .set_password(&bidder, PASSWORD)
        .await
        .expect("password");
    let mut v = Visitor::new(&e);
    for _ in 0..5 {
        assert_eq!(
            v.sign_in(&bidder, "wrong password!").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    let blocked = v.sign_in(&bidder, PASSWORD).await;
    assert_eq!(
        blocked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password"
    );
    assert!(blocked.html.contains("Wait 15 minutes"), "{}", blocked.html);
    // Another account is not affected.
    let other = tenderflow_core::scenario::bidder_id(1);
    e.app
        .set_password(&other, PASSWORD)
        .await
        .expect("password");
    assert_eq!(
        v.sign_in(&other, PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_bid_form_checks_fields_and_shows_markup_as_text() {
    let e = spawn_app(3).await;
    e.play(2).await; // created and announced
    let mut v = Visitor::new(&e);
    register(
        &e,
        &mut v,
        "Troupe <script>alert(1)</script>",
        "91310000MA1K000002",
        "t@troupe.example",
    )
    .await;
    assert_eq!(
        v.sign_in("t@troupe.example", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );

    // A question with markup: shown as text.
    let notice = "/notices/T-2021?lang=en";
    let asked = v
        .submit(
            notice,
            "/notices/T-2021/questions?lang=en",
            &[
                ("text", "Two venues? <script>alert(2)</script>"),
                ("nonce", "q1"),
            ],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER);
    let (status, answer) = e
        .call(
            Some(tenderflow_core::scenario::STAFF),
            Method::POST,
            "/tenders/T-2021/commands",
            Some(serde_json::json!({"command": "answer_question", "question": 1, "affectsBids": false, "answer": "Yes."})),
        )
        .await;
    assert!(status.is_success(), "{answer}");
    let page = v.get(notice).await;
    assert!(
        page.html
            .contains("Two venues? &#60;script&#62;alert(2)&#60;/script&#62;"),
        "{}",
        page.html
    );
    assert!(!page.html.contains("<script>alert"), "no markup runs");

    // The form: generated from the definition, prefilled with the organisation.
    let form = v.get("/notices/T-2021/bid?lang=en").await;
    assert!(form.html.contains("id=\"f-freeOrDiscountedShare\""));
    assert!(
        form.html.contains("min=\"20\""),
        "the bound as an attribute"
    );
    assert!(
        form.html.contains("Arts and performance"),
        "choices by name"
    );
    assert!(
        form.html.contains("&#60;script&#62;"),
        "the name prefilled, as text"
    );
    let fields = |share: &'static str| {
        vec![
            ("organisation", "Troupe <script>alert(1)</script>"),
            ("serviceArea", "arts_performance"),
            ("servicePlan", "Weekly shows <b>for</b> workers"),
            ("freeOrDiscountedShare", share),
            ("feeMinor", "1280.50"),
            ("nonce", share),
        ]
    };
    let wrong = v
        .submit(
            "/notices/T-2021/bid?lang=en",
            "/notices/T-2021/bid?lang=en",
            &fields("15"),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .html
            .contains("id=\"e-freeOrDiscountedShare\">At least 20."),
        "{}",
        wrong.html
    );
    assert!(
        wrong.html.contains("value=\"1280.50\""),
        "what was entered is kept"
    );
    let done = v
        .submit(
            "/notices/T-2021/bid?lang=en",
            "/notices/T-2021/bid?lang=en",
            &fields("30"),
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.html);
    let receipt = v.get("/notices/T-2021/receipt?lang=en").await;
    assert!(receipt.html.contains("Receipt code"), "{}", receipt.html);
    assert!(receipt.html.contains("class=\"hash\""));
    let (_, view) = e
        .call(
            Some(tenderflow_core::scenario::STAFF),
            Method::GET,
            "/tenders/T-2021",
            None,
        )
        .await;
    assert_eq!(view["bids"].as_array().map(Vec::len), Some(1), "{view}");
    // The fee is kept in fen, exactly.
    let mine = e
        .store
        .credentials("t@troupe.example")
        .await
        .expect("c")
        .expect("c");
    let (wf, t) = e.store.load("T-2021").await.expect("load");
    let caller =
        tenderflow_app::Caller::of(e.store.account(&mine.id).await.expect("a").expect("a"))
            .expect("caller");
    let seen = tenderflow_core::view(&wf, &t, &caller.actor);
    assert_eq!(seen["bids"][0]["content"]["feeMinor"], 128_050);
    let my = v.get("/my?lang=en").await;
    assert!(
        my.html
            .contains("Submitted; bids are open until the deadline."),
        "{}",
        my.html
    );
    // Withdrawn until the deadline: the receipt page then says there is no bid.
    let withdrawn = v
        .submit(
            "/notices/T-2021/receipt?lang=en",
            "/notices/T-2021/withdraw?lang=en",
            &[],
        )
        .await;
    assert_eq!(
        withdrawn.location.as_deref(),
        Some("/my?lang=en"),
        "{}",
        withdrawn.html
    );
    let receipt = v.get("/notices/T-2021/receipt?lang=en").await;
    assert!(
        receipt.html.contains("You have no bid in this procedure."),
        "{}",
        receipt.html
    );
    let (_, view) = e
        .call(
            Some(tenderflow_core::scenario::STAFF),
            Method::GET,
            "/tenders/T-2021",
            None,
        )
        .await;
    assert_eq!(view["bids"].as_array().map(Vec::len), Some(0), "{view}");
}

#[tokio::test]
async fn announcements_go_to_bidders_who_opted_in_and_to_confirmed_subscribers() {
    let e = spawn_app(3).await;
    let mut v = Visitor::new(&e);
    let keen = register(
        &e,
        &mut v,
        "Keen Org",
        "91310000MA1K000011",
        "keen@org.example",
    )
    .await;
    let quiet = register_opting(
        &e,
        &mut v,
        "Quiet Org",
        "91310000MA1K000012",
        "quiet@org.example",
        false,
    )
    .await;
    // Two addresses subscribe on the board; one confirms.
    for email in ["reader@news.example", "late@news.example"] {
        let page = Visitor::new(&e)
            .submit("/?lang=en", "/subscribe?lang=en", &[("email", email)])
            .await;
        assert!(page.html.contains("Check your mail"), "{}", page.html);
    }
    let bad = Visitor::new(&e)
        .submit(
            "/?lang=en",
            "/subscribe?lang=en",
            &[("email", "not an address")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let token = mailed_token(&e, AccountMail::ConfirmSubscription, "reader@news.example").await;
    let path = format!("/subscribe/{token}?lang=en");
    let done = v.submit(&path, &path, &[]).await;
    assert!(done.html.contains("Subscribed"), "{}", done.html);

    e.play(2).await; // the announcement
    let to: Vec<String> = e
        .store
        .outbox(None)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|r| {
            r.message == Mail::Tender(tenderflow_core::definition::MessageKind::Announcement)
        })
        .map(|r| r.recipient_id)
        .collect();
    assert!(to.contains(&keen), "{to:?}");
    assert!(
        to.contains(&tenderflow_core::scenario::bidder_id(0)),
        "administrators' bidders"
    );
    assert!(to.contains(&"reader@news.example".to_owned()), "{to:?}");
    assert!(!to.contains(&quiet), "did not opt in: {to:?}");
    assert!(
        !to.contains(&"late@news.example".to_owned()),
        "never confirmed: {to:?}"
    );

    // The subscriber's mail carries a working unsubscribe link.
    let dir = tenderflow_testkit::TempDir::new("mail");
    let dispatcher = tenderflow_notify::Dispatcher::new(
        e.store.clone(),
        tenderflow_notify::Transport::file(dir.path()).expect("transport"),
        "Tenderflow <noreply@tenderflow.example>",
        "test",
    )
    .expect("dispatcher")
    .with_public_url(Some("https://tenders.example"));
    dispatcher
        .dispatch_due(tenderflow_store::clock::wall_ms())
        .await
        .expect("dispatch");
    let mail: String = std::fs::read_dir(dir.path())
        .expect("mail dir")
        .flatten()
        .map(|f| std::fs::read_to_string(f.path()).unwrap_or_default())
        .filter(|m| {
            m.lines()
                .any(|l| l.starts_with("To: ") && l.contains("reader@news.example"))
        })
        .collect::<Vec<_>>()
        .join("\n")
        .replace("=\r\n", "")
        .replace("=3D", "=");
    let at = mail
        .find("https://tenders.example/unsubscribe?")
        .unwrap_or_else(|| panic!("an unsubscribe link in {mail}"));
    let link: String = mail[at + "https://tenders.example".len()..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '<' | '>'))
        .collect();
    // The header a mail client offers (RFC 2369), with one-click leaving (RFC 8058).
    assert!(
        mail.contains("List-Unsubscribe: <https://tenders.example/unsubscribe?"),
        "{mail}"
    );
    assert!(
        mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{mail}"
    );
    let link = format!("{link}&lang=en");
    // A one-click POST from a mail client (no cookie, no form key) ends the subscription;
    // without its token it does nothing.
    let mut client = Visitor::new(&e);
    let unkeyed = client.post(&link, &[]).await;
    assert_eq!(
        unkeyed.status,
        StatusCode::FORBIDDEN,
        "a form without its key"
    );
    let gone = client
        .post(&link, &[("List-Unsubscribe", "One-Click")])
        .await;
    assert!(gone.html.contains("Unsubscribed"), "{link}: {}", gone.html);
    // The page's button still works (leaving twice is still leaving).
    let again = v.submit(&link, &link, &[]).await;
    assert!(again.html.contains("Unsubscribed"), "{}", again.html);
    let forged = v
        .submit(
            &link,
            "/unsubscribe?email=late%40news.example&token=00",
            &[],
        )
        .await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn forms_have_a_body_limit_and_answer_413() {
    let e = spawn_app(3).await;
    e.play(2).await; // created and announced
    let mut v = Visitor::new(&e);
    register(
        &e,
        &mut v,
        "Big Forms Ltd",
        "91310000MA1K000009",
        "big@forms.example",
    )
    .await;
    assert_eq!(
        v.sign_in("big@forms.example", PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    let csrf = v.get("/notices/T-2021/bid?lang=en").await.csrf();
    let big = "x".repeat(2 * 1024 * 1024);
    // The bid form streams files, so it reads its text fields up to their own limit.
    let page = v
        .multipart(
            "/notices/T-2021/bid?lang=en",
            &[("csrf", &csrf), ("content.servicePlan", &big)],
            &[],
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!page.html.contains("xxxxxxxxxxxxxxxx"), "never echoed");
    let page = v
        .post(
            "/notices/T-2021/bid?lang=en",
            &[("csrf", &csrf), ("x", &big)],
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Every other form too.
    let page = v
        .post(
            "/notices/T-2021/questions?lang=en",
            &[("csrf", &csrf), ("text", &big)],
        )
        .await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    // A form within its limits still works.
    let page = v
        .post(
            "/notices/T-2021/questions?lang=en",
            &[
                ("csrf", &csrf),
                ("text", "One venue or two?"),
                ("nonce", "q1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.html);
}

#[tokio::test]
async fn one_client_cannot_flood_the_mail_forms() {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use tower::ServiceExt;
    let e = spawn_app(1).await;
    let pages = tenderflow_web::router(std::sync::Arc::new(e.app.clone()));
    let post = |client: [u8; 4]| {
        let mut req = axum::http::Request::post("/forgot")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("csrf=x&email=a%40example.org"))
            .expect("request");
        req.extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((client, 40000))));
        pages.clone().oneshot(req)
    };
    let mut statuses = Vec::new();
    for _ in 0..21 {
        statuses.push(post([192, 0, 2, 1]).await.expect("response").status());
    }
    assert!(
        statuses[..20].iter().all(|s| *s == StatusCode::FORBIDDEN),
        "{statuses:?}"
    );
    let last = post([192, 0, 2, 1]).await.expect("response");
    assert_eq!(last.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(last.headers().contains_key("retry-after"));
    assert_eq!(
        post([192, 0, 2, 2]).await.expect("response").status(),
        StatusCode::FORBIDDEN,
        "another client is not affected"
    );
}
