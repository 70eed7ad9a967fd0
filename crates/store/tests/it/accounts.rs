//! Accounts and tokens on every backend: fields checked before anything is written, and
//! revocation, rotation, expiry and disabling taking effect at once.

use tenderflow_store::StoreError;
use tenderflow_testkit::db::TestDb;

/// Trust #18 (accounts): ids, names, emails and locales are checked before they reach the
/// database, the same on every backend; nothing is written.
#[tokio::test]
async fn trust_18_bad_account_fields_are_refused_on_every_backend() {
    for db in TestDb::all().await {
        let good = tenderflow_store::Account {
            id: "org-x".into(),
            role: "bidder".into(),
            display_name: "Org X".into(),
            email: Some("x@example.org".into()),
            locale: "en".into(),
        };
        type Edit = Box<dyn Fn(&mut tenderflow_store::Account)>;
        let variants: Vec<Edit> = vec![
            Box::new(|a| a.id = " org-x".into()),
            Box::new(|a| a.id = "org\tx".into()),
            Box::new(|a| a.id = "org\0x".into()),
            Box::new(|a| a.role = "bid der".into()),
            Box::new(|a| a.display_name = " ".into()),
            Box::new(|a| a.display_name = "Org\0X".into()),
            Box::new(|a| a.email = Some("x@".into())),
            Box::new(|a| a.email = Some("x y@example.org".into())),
            Box::new(|a| a.email = Some("x@exa\0mple.org".into())),
            Box::new(|a| a.locale = "fr".into()),
        ];
        for (i, v) in variants.iter().enumerate() {
            let mut a = good.clone();
            v(&mut a);
            let r = db.store.create_account(&a).await;
            assert!(
                matches!(r, Err(StoreError::InvalidAccount { .. })),
                "[{}] case {i}: {r:?}",
                db.name
            );
        }
        assert!(db.store.account("org-x").await.expect("read").is_none());
        db.store.create_account(&good).await.expect("the good one");
    }
}

/// Accounts and tokens: several tokens per account; revoking, rotating, expiring and
/// disabling take effect on the very next authentication, on every backend.
#[tokio::test]
async fn tokens_revoke_rotate_expire_and_disable_at_once() {
    for db in TestDb::all().await {
        let s = &db.store;
        let first = s
            .create_account(&tenderflow_store::Account {
                id: "ops".into(),
                role: "admin".into(),
                display_name: "Ops".into(),
                email: Some("ops@example.org".into()),
                locale: "en".into(),
            })
            .await
            .expect("account");
        assert!(s.authenticate(&first).await.expect("auth").is_some());
        let second = s
            .issue_token("ops", "integration", None)
            .await
            .expect("issue");
        assert!(s.authenticate(&second.token).await.expect("auth").is_some());
        let tokens = s.tokens("ops").await.expect("tokens");
        assert_eq!(tokens.len(), 2, "[{}]", db.name);
        let first_id = tokens
            .iter()
            .find(|t| t.label == "first")
            .expect("first")
            .id
            .clone();
        s.revoke_token(&first_id).await.expect("revoke");
        assert!(
            s.authenticate(&first).await.expect("auth").is_none(),
            "[{}] revoked at once",
            db.name
        );
        assert!(s.authenticate(&second.token).await.expect("auth").is_some());
        let third = s.rotate_token(&second.info.id).await.expect("rotate");
        assert!(s.authenticate(&second.token).await.expect("auth").is_none());
        assert!(s.authenticate(&third.token).await.expect("auth").is_some());
        assert_eq!(third.info.label, "integration");
        let expired = s
            .issue_token_until("ops", "old", Some(1))
            .await
            .expect("issue");
        assert!(
            s.authenticate(&expired.token)
                .await
                .expect("auth")
                .is_none(),
            "[{}] expired",
            db.name
        );
        s.set_account_disabled("ops", true).await.expect("disable");
        assert!(
            s.authenticate(&third.token).await.expect("auth").is_none(),
            "[{}] disabled",
            db.name
        );
        assert!(s.accounts().await.expect("list")[0].disabled_ms.is_some());
        s.set_account_disabled("ops", false).await.expect("enable");
        assert!(s.authenticate(&third.token).await.expect("auth").is_some());
        assert!(matches!(
            s.set_account_email("ops", Some("not an address")).await,
            Err(StoreError::InvalidAccount { .. })
        ));
        s.set_account_email("ops", Some("ops2@example.org"))
            .await
            .expect("email");
        assert_eq!(
            s.account("ops")
                .await
                .expect("a")
                .and_then(|a| a.email)
                .as_deref(),
            Some("ops2@example.org")
        );
        assert!(matches!(
            s.set_account_disabled("nobody", true).await,
            Err(StoreError::NotFound(_))
        ));
    }
}
