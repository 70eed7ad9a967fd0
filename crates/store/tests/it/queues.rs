//! Background work in the store: deadlines that fire once, immutable workflow versions, and
//! the outbox's claims, retries and dead letters.

use tenderflow_core::scenario::{self, Params};
use tenderflow_store::{OutboxStatus, StoreError};
use tenderflow_testkit::db::TestDb;
use tenderflow_testkit::fixtures::{bids, published, submit};
use tenderflow_testkit::workflow_bytes;

#[tokio::test]
async fn deadlines_fire_once_even_with_two_workers() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-timer").await;
        bids(&db.store, &t, at, 3, "tb-").await;
        let deadline = db
            .store
            .load(&t)
            .await
            .expect("load")
            .1
            .deadline
            .expect("deadline");
        assert!(
            db.store
                .fire_due_timers(deadline.plus_seconds(-1), "w1")
                .await
                .expect("early")
                .is_empty()
        );
        let other = db.reopen().await;
        let (a, b) = tokio::join!(
            db.store.fire_due_timers(deadline, "w1"),
            other.fire_due_timers(deadline, "w2")
        );
        let fired = a.expect("w1").len() + b.expect("w2").len();
        assert_eq!(fired, 1, "[{}]", db.name);
        let (_, tender) = db.store.load(&t).await.expect("load");
        assert_eq!(tender.state, "submission_closed");
        let closes = db
            .store
            .event_rows(&t)
            .await
            .expect("rows")
            .iter()
            .filter(|r| r.kind == "submission_closed")
            .count();
        assert_eq!(closes, 1);
        assert!(
            db.store
                .fire_due_timers(deadline.plus_seconds(3600), "w1")
                .await
                .expect("again")
                .is_empty()
        );
    }
}

#[tokio::test]
async fn workflows_are_immutable_versions() {
    for db in TestDb::all().await {
        let bytes = workflow_bytes("open-tender-prc");
        let a = db
            .store
            .register_workflow("open-tender-prc.json", &bytes)
            .await
            .expect("register");
        let b = db
            .store
            .register_workflow("open-tender-prc.json", &bytes)
            .await
            .expect("again");
        assert_eq!(a.sha256, b.sha256);
        assert_eq!(db.store.workflows().await.expect("list").len(), 1);
        let mut changed: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
        changed["title"]["en"] = "Changed".into();
        let err = db
            .store
            .register_workflow("x.json", &serde_json::to_vec(&changed).expect("ser"))
            .await
            .expect_err("clash");
        assert!(matches!(err, StoreError::WorkflowClash { .. }), "{err}");
        changed["version"] = "1.0.1".into();
        db.store
            .register_workflow("x.json", &serde_json::to_vec(&changed).expect("ser"))
            .await
            .expect("new version");
        let bad = db
            .store
            .register_workflow("bad.json", b"{}")
            .await
            .expect_err("invalid");
        assert!(bad.to_string().contains("schema_violation"), "{bad}");
    }
}

#[tokio::test]
async fn the_outbox_claims_retries_and_dead_letters() {
    for db in TestDb::all().await {
        let params = Params {
            bidders: 2,
            ..Params::default()
        };
        crate::store::accounts(&db.store, &params).await;
        let (t, at, _) = published(&db.store, "T-outbox").await;
        db.store
            .execute(
                &t,
                "ob-1",
                &submit(&scenario::bidder_id(0), 100),
                at.plus_seconds(60),
            )
            .await
            .expect("bid");
        let now = tenderflow_core::Timestamp::EPOCH.unix_millis() + 4_102_444_800_000; // far future
        let claimed = db
            .store
            .claim_outbox(now, "w1", 60_000, 100)
            .await
            .expect("claim");
        assert!(!claimed.is_empty());
        assert!(
            db.store
                .claim_outbox(now, "w2", 60_000, 100)
                .await
                .expect("claim")
                .is_empty(),
            "claimed rows are leased"
        );
        let (first, rest) = claimed.split_first().expect("one");
        db.store
            .mark_dead(first.id, "w1", "550 5.1.1 mailbox unavailable")
            .await
            .expect("dead");
        db.store
            .mark_retry(rest[0].id, "w1", now + 1000, "451 try later")
            .await
            .expect("retry");
        for r in &rest[1..] {
            db.store.mark_sent(r.id, "w1").await.expect("sent");
        }
        let dead = db
            .store
            .outbox(Some(OutboxStatus::Dead))
            .await
            .expect("dead");
        assert_eq!(dead.len(), 1);
        assert_eq!(
            dead[0].last_error.as_deref(),
            Some("550 5.1.1 mailbox unavailable")
        );
        let again = db
            .store
            .claim_outbox(now + 1000, "w2", 60_000, 100)
            .await
            .expect("claim");
        assert_eq!(
            again.iter().map(|r| r.id).collect::<Vec<_>>(),
            vec![rest[0].id]
        );
        assert_eq!(again[0].attempts, 2);
        assert!(db.store.resend(first.id).await.expect("resend"));
        assert_eq!(
            db.store
                .outbox(Some(OutboxStatus::Dead))
                .await
                .expect("dead")
                .len(),
            0
        );
    }
}
