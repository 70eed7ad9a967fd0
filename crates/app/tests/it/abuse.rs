//! Account flows under attack, on SQLite and PostgreSQL: the sign-in limit holds under
//! parallel requests and per account whatever login is typed; a reset link voids the others.

use std::sync::Arc;
use tenderflow_app::{App, AppError};
use tenderflow_store::sessions::SIGN_IN_LIMIT;
use tenderflow_store::{AccountMail, Mail, OutboxStatus, Store};
use tenderflow_testkit::db::{Scratch, connect};
use tenderflow_testkit::fixtures::account;

const PASSWORD: &str = "a long enough password";

/// An app on `db` with one staff account that has a password and an address.
async fn app_on(db: &Scratch) -> App {
    let key = tenderflow_store::crypto::MasterKey::generate().expect("key");
    let store: Arc<Store> = Arc::new(connect(&db.url, &key).await.expect("store"));
    let mut staff = account("staff-li", "staff");
    staff.email = Some("li@union.example".into());
    store.create_account(&staff).await.expect("account");
    // Wide enough that no attempt is turned away as busy: the limit alone is under test.
    let app = App::new(store).with_password_work(2, 64, std::time::Duration::from_secs(60));
    app.set_password("staff-li", PASSWORD)
        .await
        .expect("password");
    app
}

fn code(r: &tenderflow_app::Result<tenderflow_app::accounts::SignedIn>) -> &'static str {
    match r {
        Ok(_) => "ok",
        Err(AppError::Invalid { code, .. } | AppError::NotNow { code, .. }) => code,
        Err(AppError::Busy { .. }) => "busy",
        Err(e) => panic!("unexpected {e}"),
    }
}

#[tokio::test]
async fn sign_in_lockout_holds_under_parallel_requests() {
    for db in Scratch::all().await {
        let app = app_on(&db).await;
        let attempts = (0..30).map(|i| {
            let app = app.clone();
            tokio::spawn(async move { code(&app.sign_in("staff-li", &format!("wrong {i}")).await) })
        });
        let mut checked = 0;
        for a in attempts {
            match a.await.expect("task") {
                "sign_in_failed" => checked += 1,
                "too_many_attempts" => {}
                other => panic!("{}: unexpected {other}", db.name),
            }
        }
        assert!(
            checked <= SIGN_IN_LIMIT,
            "{}: {checked} of 30 parallel wrong passwords were checked",
            db.name
        );
        assert_eq!(
            code(&app.sign_in("staff-li", PASSWORD).await),
            "too_many_attempts",
            "{}: even the right password, once locked",
            db.name
        );
    }
}

#[tokio::test]
async fn sign_in_limit_is_per_account_whatever_login_is_typed() {
    for db in Scratch::all().await {
        let app = app_on(&db).await;
        for i in 0..SIGN_IN_LIMIT {
            let login = if i % 2 == 0 {
                "staff-li"
            } else {
                "LI@union.example"
            };
            assert_eq!(code(&app.sign_in(login, "wrong").await), "sign_in_failed");
        }
        for login in ["staff-li", "li@union.example", " Li@Union.Example "] {
            assert_eq!(
                code(&app.sign_in(login, PASSWORD).await),
                "too_many_attempts",
                "{}: {login}",
                db.name
            );
        }
    }
}

#[tokio::test]
async fn a_successful_sign_in_clears_the_failures() {
    for db in Scratch::all().await {
        let app = app_on(&db).await;
        for _ in 0..SIGN_IN_LIMIT - 1 {
            assert_eq!(
                code(&app.sign_in("staff-li", "wrong").await),
                "sign_in_failed"
            );
        }
        assert_eq!(code(&app.sign_in("li@union.example", PASSWORD).await), "ok");
        for _ in 0..SIGN_IN_LIMIT {
            assert_eq!(
                code(&app.sign_in("staff-li", "wrong").await),
                "sign_in_failed"
            );
        }
    }
}

/// The tokens of every pending password-reset mail to `account`, oldest first.
async fn reset_links(app: &App, account: &str) -> Vec<String> {
    let rows = app
        .store
        .outbox(Some(OutboxStatus::Pending))
        .await
        .expect("outbox");
    rows.iter()
        .filter(|r| {
            r.message == Mail::Account(AccountMail::PasswordReset) && r.recipient_id == account
        })
        .map(|r| app.store.mail_secret(r).expect("open").expect("a token"))
        .collect()
}

#[tokio::test]
async fn an_older_reset_link_is_void_once_a_newer_one_is_issued_or_used() {
    for db in Scratch::all().await {
        let app = app_on(&db).await;
        app.request_password_reset("li@union.example")
            .await
            .expect("first");
        app.request_password_reset("li@union.example")
            .await
            .expect("second");
        let links = reset_links(&app, "staff-li").await;
        assert_eq!(links.len(), 2, "{}", db.name);
        let void = |r: tenderflow_app::Result<String>| {
            matches!(
                r,
                Err(AppError::Invalid {
                    code: "link_invalid",
                    ..
                })
            )
        };
        // Issuing the second voided the first.
        assert!(
            void(app.reset_password(&links[0], "another password 1").await),
            "{}: the older link still works after a newer one was issued",
            db.name
        );
        // Using a link voids the others: a third issued, the second used, the third void.
        app.request_password_reset("li@union.example")
            .await
            .expect("third");
        let links = reset_links(&app, "staff-li").await;
        let (second, third) = (&links[1], &links[2]);
        // The third voided the second on issue; use the third and check the second stays void.
        assert!(void(app.reset_password(second, "another password 2").await));
        assert_eq!(
            app.reset_password(third, "another password 3")
                .await
                .expect("the newest link works"),
            "staff-li"
        );
        assert!(void(app.reset_password(third, "another password 4").await));
        assert_eq!(
            code(&app.sign_in("staff-li", "another password 3").await),
            "ok"
        );
    }
}

fn registration(
    name: &str,
    number: &str,
    email: &str,
) -> tenderflow_app::accounts::RegistrationForm {
    tenderflow_app::accounts::RegistrationForm {
        name: name.into(),
        registration_number: number.into(),
        contact_person: "Li Hua".into(),
        email: email.into(),
        password: PASSWORD.into(),
        locale: "zh-CN".into(),
        announcements: false,
    }
}

#[tokio::test]
async fn an_unverified_registration_expires_and_releases_its_number_and_address() {
    for db in tenderflow_testkit::db::TestDb::all().await {
        let app = App::new(db.store.clone());
        app.register(registration(
            "Squatter",
            "91330000SQUAT0001",
            "squat@example.org",
        ))
        .await
        .expect("first");
        let squatter = app
            .store
            .credentials("squat@example.org")
            .await
            .expect("c")
            .expect("registered");
        // While its link works, the number and address are held: nothing new is made.
        app.register(registration(
            "Real Troupe",
            "91330000squat0001",
            "real@example.org",
        ))
        .await
        .expect("answered the same");
        assert!(
            app.store
                .credentials("real@example.org")
                .await
                .expect("c")
                .is_none()
        );
        // Three days later, never verified: it holds nothing.
        db.tamper(&format!(
            "UPDATE accounts SET created_ms = created_ms - {} WHERE id = '{}'",
            3 * 86_400_000_i64,
            squatter.id
        ))
        .await;
        app.register(registration(
            "Real Troupe",
            "91330000SQUAT0001",
            "real@example.org",
        ))
        .await
        .expect("second");
        assert!(
            app.store
                .credentials("real@example.org")
                .await
                .expect("c")
                .is_some(),
            "[{}] the real organisation registers its number",
            db.name
        );
        assert!(app.store.account(&squatter.id).await.expect("a").is_none());
        // An address the mailer cannot send to is refused before anything is made.
        assert!(matches!(
            app.register(registration("Odd", "91330000ODD000001", "odd@@example.org"))
                .await,
            Err(AppError::Invalid {
                code: "invalid_email",
                ..
            })
        ));
    }
}

#[tokio::test]
async fn mail_floods_are_bounded_per_address() {
    use tenderflow_store::sessions::MAILS_PER_ADDRESS;
    for db in Scratch::all().await {
        let app = app_on(&db).await;
        for _ in 0..3 * MAILS_PER_ADDRESS {
            app.request_password_reset("li@union.example")
                .await
                .expect("answered as ever");
            app.subscribe("reader@example.org", "en")
                .await
                .expect("answered as ever");
        }
        let rows = app
            .store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .expect("outbox");
        let count = |kind: AccountMail| {
            rows.iter()
                .filter(|r| r.message == Mail::Account(kind))
                .count() as u64
        };
        assert_eq!(
            count(AccountMail::PasswordReset),
            MAILS_PER_ADDRESS,
            "[{}]",
            db.name
        );
        assert_eq!(
            count(AccountMail::ConfirmSubscription),
            MAILS_PER_ADDRESS,
            "[{}]",
            db.name
        );
    }
}

#[tokio::test]
async fn the_real_organisation_claims_its_number_and_staff_decide() {
    use tenderflow_app::accounts::ClaimDecision;
    for db in tenderflow_testkit::db::TestDb::all().await {
        let app = App::new(db.store.clone());
        let caller = |id: &'static str, role: &'static str| {
            let app = app.clone();
            async move {
                let token = app
                    .store
                    .create_account(&account(id, role))
                    .await
                    .expect("account");
                app.authenticate(&token)
                    .await
                    .expect("auth")
                    .expect("caller")
            }
        };
        let staff = caller("staff-wu", "staff").await;
        let bidder = caller("org-other", "bidder").await;
        // Someone registers the number first, and verifies its own address.
        app.register(registration(
            "Squatter",
            "91330000REAL00001",
            "squat@example.org",
        ))
        .await
        .expect("first");
        let squatter = app
            .store
            .credentials("squat@example.org")
            .await
            .expect("c")
            .expect("registered");
        let rows = app
            .store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .expect("outbox");
        let verify = rows
            .iter()
            .find(|r| r.recipient_id == squatter.id)
            .expect("verification mail");
        let token = app.store.mail_secret(verify).expect("open").expect("token");
        app.verify_email(&token).await.expect("verified");
        // The real organisation registers with its number: answered as ever, claimed.
        app.register(registration(
            "Real Troupe",
            "91330000real00001",
            "real@example.org",
        ))
        .await
        .expect("answered the same");
        assert!(
            app.store
                .credentials("real@example.org")
                .await
                .expect("c")
                .is_none()
        );
        assert!(matches!(
            app.registration_claims(&bidder).await,
            Err(AppError::Forbidden(_))
        ));
        let claims = app.registration_claims(&staff).await.expect("claims");
        assert_eq!(claims.len(), 1, "[{}]", db.name);
        let claim = &claims[0];
        assert_eq!(
            (
                claim.status.as_str(),
                claim.holder_id.as_str(),
                claim.email.as_str()
            ),
            ("pending", squatter.id.as_str(), "real@example.org")
        );
        assert!(matches!(
            app.decide_registration_claim(&staff, &claim.id, ClaimDecision::Approve, " ")
                .await,
            Err(AppError::Invalid {
                code: "note_required",
                ..
            })
        ));
        let decided = app
            .decide_registration_claim(
                &staff,
                &claim.id,
                ClaimDecision::Approve,
                "Business licence checked against the registry.",
            )
            .await
            .expect("approved");
        assert_eq!(decided.status, "approved");
        assert_eq!(decided.decided_by.as_deref(), Some("staff-wu"));
        // The claimant has an account with the number (its address still to verify); the
        // holder lost it.
        let real = app
            .store
            .credentials("real@example.org")
            .await
            .expect("c")
            .expect("the claimant's account");
        assert!(real.email_verified_ms.is_none());
        let profile = |id: String| {
            let app = app.clone();
            async move { app.store.profile(&id).await.expect("p").expect("profile") }
        };
        assert_eq!(
            profile(real.id.clone())
                .await
                .registration_number
                .as_deref(),
            Some("91330000REAL00001")
        );
        assert_eq!(profile(squatter.id.clone()).await.registration_number, None);
        assert!(matches!(
            app.decide_registration_claim(&staff, &claim.id, ClaimDecision::Reject, "again")
                .await,
            Err(AppError::NotNow {
                code: "claim_not_pending",
                ..
            })
        ));
    }
}
