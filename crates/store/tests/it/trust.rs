//! Regression tests of the trust issue's store items, each named after its number; every one
//! runs on SQLite and (when available) PostgreSQL.

use crate::support::{TestDb, all, workflow_bytes};
use sea_orm::ConnectionTrait;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tenderflow_core::scenario::{self, Params};
use tenderflow_core::{Actor, Command, CommandBody, Timestamp};
use tenderflow_store::clock::{Clock, Now};
use tenderflow_store::{Request, Store, StoreError};

fn bid(org: &str, fee: i64) -> serde_json::Value {
    serde_json::json!({"organisation": org, "serviceArea": "sports_events", "servicePlan": "Weekly events for workers",
                       "freeOrDiscountedShare": 30, "feeMinor": fee})
}

fn submit(org: &str, fee: i64) -> Command {
    Command {
        actor: Actor::new(org, "bidder").expect("actor"),
        body: CommandBody::SubmitBid {
            lot: None,
            content: bid(org, fee).into(),
        },
    }
}

/// A published tender with no bids: its id, the publish time and the deadline.
async fn published(store: &Store, id: &str) -> (String, Timestamp, Timestamp) {
    let rec = store
        .register_workflow(
            "partner-recruitment.json",
            &workflow_bytes("partner-recruitment"),
        )
        .await
        .expect("register");
    let wf = store.workflow(&rec.sha256).await.expect("wf");
    let params = Params {
        bidders: 0,
        seed: 5,
        ..Params::default()
    };
    let steps = scenario::script(&wf, &params);
    let create = Command {
        actor: steps[0].command.actor.clone(),
        body: CommandBody::CreateDraft {
            tender_id: id.into(),
        },
    };
    store
        .create_tender(&rec.sha256, &format!("{id}-create"), &create, steps[0].at)
        .await
        .expect("create");
    let done = store
        .execute(id, &format!("{id}-publish"), &steps[1].command, steps[1].at)
        .await
        .expect("publish");
    let (_, t) = store.load(id).await.expect("load");
    assert_eq!(done.state, t.state);
    (id.to_owned(), steps[1].at, t.deadline.expect("deadline"))
}

async fn raw(db: &TestDb, sql: &str) {
    db.store
        .connection()
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Trust #1: a batch that makes a tender's data key and also carries a repeated command id
/// commits the key with the bids; a fresh process opens them.
#[tokio::test]
async fn trust_01_a_repeated_id_in_a_batch_never_loses_the_data_key() {
    for db in all().await {
        let (t, at, _) = published(&db.store, "T-key").await;
        let (_, tender) = db.store.load(&t).await.expect("load");
        let publish_again = Request::new(
            &t,
            &format!("{t}-publish"),
            Command {
                actor: Actor::new(scenario::STAFF, "staff").expect("staff"),
                body: CommandBody::Cancel {
                    reason: "a different command under a used id".into(),
                },
            },
            at.plus_seconds(61),
        );
        let batch = [
            Request::new(&t, "bid-a", submit("org-a", 100), at.plus_seconds(60)),
            Request::new(&t, "bid-b", submit("org-b", 200), at.plus_seconds(60)),
            // The id of the committed publish command: answered with the first result.
            publish_again,
            // The same id twice in one batch: the second is the first's answer.
            Request::new(&t, "bid-a", submit("org-a", 100), at.plus_seconds(62)),
        ];
        let results = db.store.execute_batch(&batch).await.expect("batch");
        assert!(
            results[0].as_ref().is_ok_and(|e| !e.repeated),
            "[{}] {:?}",
            db.name,
            results[0]
        );
        assert!(
            results[1].as_ref().is_ok_and(|e| !e.repeated),
            "[{}]",
            db.name
        );
        assert!(
            results[2].as_ref().is_ok_and(|e| e.repeated),
            "[{}] {:?}",
            db.name,
            results[2]
        );
        assert!(
            results[3].as_ref().is_ok_and(|e| e.repeated),
            "[{}] {:?}",
            db.name,
            results[3]
        );
        assert_eq!(tender.state, "announced");
        // Another process (no caches) opens both bids after a restart.
        let fresh = db.reopen().await;
        let (_, after) = fresh.load(&t).await.expect("bids open with their key");
        assert_eq!(after.bids.len(), 2, "[{}]", db.name);
        let more = fresh
            .execute(&t, "bid-c", &submit("org-c", 300), at.plus_seconds(70))
            .await
            .expect("a later bid");
        assert!(!more.repeated);
    }
}

/// Trust #2: a tender whose timer cannot fire does not stop the others; it is retried with
/// backoff and shown to administrators.
#[tokio::test]
async fn trust_02_one_broken_tender_does_not_stop_other_deadlines() {
    for db in all().await {
        let (broken, _, deadline) = published(&db.store, "T-broken").await;
        let (ok1, _, _) = published(&db.store, "T-ok-1").await;
        let (ok2, _, _) = published(&db.store, "T-ok-2").await;
        raw(
            &db,
            &format!(
                "UPDATE events SET payload = 'not json' WHERE tender_id = '{broken}' AND seq = 3"
            ),
        )
        .await;
        let worker = db.reopen().await;
        let fired = worker
            .fire_due_timers(deadline.plus_seconds(1), "w")
            .await
            .expect("the round completes");
        let mut ids: Vec<&str> = fired.iter().map(|e| e.tender_id.as_str()).collect();
        ids.sort_unstable();
        assert_eq!(ids, [ok1.as_str(), ok2.as_str()], "[{}]", db.name);
        let stuck = worker.stuck_timers().await.expect("stuck");
        assert_eq!(stuck.len(), 1, "[{}]", db.name);
        assert_eq!(stuck[0].tender_id, broken);
        assert_eq!(stuck[0].failures, 1);
        assert!(
            stuck[0]
                .last_error
                .as_deref()
                .is_some_and(|e| !e.is_empty())
        );
        // Backed off: not claimed again at once, and counted again when it fails again.
        let again = worker
            .fire_due_timers(deadline.plus_seconds(1), "w")
            .await
            .expect("round");
        assert!(again.is_empty());
        let later = worker
            .fire_due_timers(deadline.plus_seconds(600), "w")
            .await
            .expect("round");
        assert!(later.is_empty());
        assert_eq!(worker.stuck_timers().await.expect("stuck")[0].failures, 2);
    }
}

/// A clock that moves 1 ms forward every time it is read.
#[derive(Debug)]
struct Ticking(AtomicI64);

impl Clock for Ticking {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_millis(self.0.fetch_add(1, Ordering::SeqCst)).expect("time")
    }
}

/// Trust #3: forty concurrent first bids on one tender, each read from a live clock, all
/// land (none refused with `clock_regression` for having read the time before the lock).
#[tokio::test]
async fn trust_03_concurrent_bids_are_never_refused_for_clock_regression() {
    for db in all().await {
        let (t, at, _) = published(&db.store, "T-clock").await;
        let clock: Arc<dyn Clock> =
            Arc::new(Ticking(AtomicI64::new(at.plus_seconds(60).unix_millis())));
        let mut handles = Vec::new();
        for i in 0..40 {
            let store = if i % 2 == 0 {
                db.store.clone()
            } else {
                db.reopen().await
            };
            let (t, clock) = (t.clone(), clock.clone());
            handles.push(tokio::spawn(async move {
                let org = format!("org-{i:02}");
                store
                    .execute(
                        &t,
                        &format!("bid-{i}"),
                        &submit(&org, 1000 + i),
                        Now::Clock(clock),
                    )
                    .await
            }));
        }
        for h in handles {
            let r = h.await.expect("join");
            assert!(r.is_ok(), "[{}] {r:?}", db.name);
        }
        let (_, tender) = db.reopen().await.load(&t).await.expect("load");
        assert_eq!(tender.bids.len(), 40, "[{}]", db.name);
    }
}

/// Trust #6: a workflow row altered in the database is refused with a clear error at once
/// (never served under the pinned hash, never freezing the writer).
#[tokio::test]
async fn trust_06_a_tampered_workflow_row_is_refused() {
    for db in all().await {
        let (t, at, _) = published(&db.store, "T-wf").await;
        raw(
            &db,
            "UPDATE workflows SET content = replace(content, '\"minBidPeriod\"', '\"minBidPeriod\" ')",
        )
        .await;
        let fresh = db.reopen().await;
        let result = tokio::time::timeout(
            Duration::from_secs(20),
            fresh.execute(&t, "bid-x", &submit("org-x", 1), at.plus_seconds(60)),
        )
        .await
        .expect("answered without waiting for the pool");
        match result {
            Err(StoreError::Corrupt(m)) => assert!(m.contains("hashes to"), "{m}"),
            other => panic!("[{}] {other:?}", db.name),
        }
        assert!(matches!(fresh.load(&t).await, Err(StoreError::Corrupt(_))));
        // Nothing was written.
        assert_eq!(db.store.event_rows(&t).await.expect("rows").len(), 4);
    }
}

/// Trust #7: a key that is not the database's is refused when the store opens, before any
/// bid is sealed with it or fails to open.
#[tokio::test]
async fn trust_07_a_wrong_master_key_is_refused_at_start() {
    for db in all().await {
        let (t, at, _) = published(&db.store, "T-mk").await;
        db.store
            .execute(&t, "bid-1", &submit("org-1", 1), at.plus_seconds(60))
            .await
            .expect("bid");
        let other = tenderflow_store::crypto::MasterKey::generate().expect("key");
        let refused = Store::connect(&db.url, other.clone()).await;
        assert!(
            matches!(refused, Err(StoreError::WrongMasterKey(_))),
            "[{}] {refused:?}",
            db.name
        );
        // A database from before the check value: the key is tried on a stored tender key.
        raw(&db, "DELETE FROM settings").await;
        assert!(matches!(
            Store::connect(&db.url, other).await,
            Err(StoreError::WrongMasterKey(_))
        ));
        db.reopen().await;
        assert!(db.store.load(&t).await.is_ok());
    }
}

/// Trust #8 (the store's half): a command id reused with another fingerprint or for another
/// tender is refused and writes nothing.
#[tokio::test]
async fn trust_08_a_reused_command_id_with_another_request_is_refused() {
    for db in all().await {
        let (t, at, _) = published(&db.store, "T-fp").await;
        let (u, _, _) = published(&db.store, "T-fp-2").await;
        let mut first = Request::new(&t, "k", submit("org-1", 1), at.plus_seconds(60));
        first.fingerprint = Some("aaaa".into());
        db.store
            .execute_request(first.clone())
            .await
            .expect("first");
        let again = db
            .store
            .execute_request(first.clone())
            .await
            .expect("again");
        assert!(again.repeated);
        let mut other_body = first.clone();
        other_body.fingerprint = Some("bbbb".into());
        assert!(matches!(
            db.store.execute_request(other_body).await,
            Err(StoreError::KeyReused { .. })
        ));
        let mut other_tender = first.clone();
        other_tender.tender_id = u.clone();
        assert!(matches!(
            db.store.execute_request(other_tender).await,
            Err(StoreError::KeyReused { .. })
        ));
        assert_eq!(
            db.store.event_rows(&u).await.expect("rows").len(),
            4,
            "[{}]",
            db.name
        );
    }
}
