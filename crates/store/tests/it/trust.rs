//! Regression tests of the trust issue's store items, each named after its number; every one
//! runs on SQLite and (when available) PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tenderflow_core::model::{Amend, Cancel};
use tenderflow_core::scenario;
use tenderflow_core::{Actor, Command, CommandBody, Timestamp};
use tenderflow_store::clock::{Clock, Now};
use tenderflow_store::{Request, Store, StoreError};
use tenderflow_testkit::db::TestDb;
use tenderflow_testkit::fixtures::{published, register_seed, submit};
use tenderflow_testkit::workflow_bytes;

/// Trust #1: a batch that makes a tender's data key and also carries a repeated command id
/// commits the key with the bids; a fresh process opens them.
#[tokio::test]
async fn trust_01_a_repeated_id_in_a_batch_never_loses_the_data_key() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-key").await;
        let (_, tender) = db.store.load(&t).await.expect("load");
        let publish_again = Request::new(
            &t,
            &format!("{t}-publish"),
            Command {
                actor: Actor::new(scenario::STAFF, "staff").expect("staff"),
                body: CommandBody::Cancel(Cancel {
                    reason: "a different command under a used id".into(),
                }),
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
    for db in TestDb::all().await {
        let (broken, _, deadline) = published(&db.store, "T-broken").await;
        let (ok1, _, _) = published(&db.store, "T-ok-1").await;
        let (ok2, _, _) = published(&db.store, "T-ok-2").await;
        db.tamper(&format!(
            "UPDATE events SET payload = 'not json' WHERE tender_id = '{broken}' AND seq = 3"
        ))
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
    for db in TestDb::all().await {
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
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-wf").await;
        db.tamper("UPDATE workflows SET content = replace(content, '\"minBidPeriod\"', '\"minBidPeriod\" ')",
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
            Err(StoreError::Corrupt { what, .. }) => assert!(what.contains("hashes to"), "{what}"),
            other => panic!("[{}] {other:?}", db.name),
        }
        assert!(matches!(
            fresh.load(&t).await,
            Err(StoreError::Corrupt { .. })
        ));
        // Nothing was written.
        assert_eq!(db.store.event_rows(&t).await.expect("rows").len(), 4);
    }
}

/// Trust #7: a key that is not the database's is refused when the store opens, before any
/// bid is sealed with it or fails to open.
#[tokio::test]
async fn trust_07_a_wrong_master_key_is_refused_at_start() {
    for db in TestDb::all().await {
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
        db.tamper("DELETE FROM settings").await;
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
    for db in TestDb::all().await {
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

/// Trust #20: a draft cancelled before it was announced is not in the public OCDS feed; an
/// amendment reaches each bidder once although two audiences name them.
#[tokio::test]
async fn trust_20_no_release_for_an_unannounced_draft_and_one_mail_per_person() {
    for db in TestDb::all().await {
        let rec = register_seed(&db.store).await;
        let staff = Actor::new(scenario::STAFF, "staff").expect("staff");
        let at = Timestamp::parse("2026-01-05T09:00:00+08:00").expect("t");
        db.store
            .create_tender(&rec.sha256, "T-draft", "d0", &staff, at)
            .await
            .expect("create");
        let cancel = Command {
            actor: staff.clone(),
            body: CommandBody::Cancel(Cancel {
                reason: "drafted by mistake".into(),
            }),
        };
        db.store
            .execute("T-draft", "d1", &cancel, at.plus_seconds(60))
            .await
            .expect("cancel");
        let releases = db
            .store
            .ocds_releases("T-draft", &tenderflow_core::ocds::Options::default())
            .await
            .expect("releases");
        assert!(releases.is_empty(), "[{}] {releases:?}", db.name);

        // Bidders who bid are both `role:bidder` and `all_bidders` for the amendment.
        for id in ["org-1", "org-2"] {
            db.store
                .create_account(&tenderflow_store::Account {
                    id: id.into(),
                    role: "bidder".into(),
                    display_name: id.into(),
                    email: Some(format!("{id}@example.org")),
                    locale: "en".into(),
                })
                .await
                .expect("account");
        }
        let (t, at, _) = published(&db.store, "T-amend").await;
        for (i, id) in ["org-1", "org-2"].iter().enumerate() {
            db.store
                .execute(&t, &format!("b{i}"), &submit(id, 10), at.plus_seconds(60))
                .await
                .expect("bid");
        }
        let amend = Command {
            actor: staff.clone(),
            body: CommandBody::Amend(Amend {
                documents: Vec::new(),
                text: "The venue list is extended.".into(),
                affects_bids: false,
                new_deadline: None,
            }),
        };
        db.store
            .execute(&t, "amend", &amend, at.plus_seconds(120))
            .await
            .expect("amend");
        let mut to: Vec<String> = db
            .store
            .outbox(None)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|r| r.tender_id == t && r.message.as_str() == "amendment")
            .map(|r| r.recipient_id)
            .collect();
        to.sort();
        assert_eq!(to, ["org-1", "org-2"], "[{}]", db.name);
    }
}

/// Trust #12: a registration records who made it; a version weaker than the one it replaces
/// is flagged; a tender is created from an exactly named version (a bare id with several
/// versions is refused), and its records and OCDS name the version's hash.
#[tokio::test]
async fn trust_12_definition_versions_are_exact_recorded_and_weakenings_flagged() {
    for db in TestDb::all().await {
        let v1 = db
            .store
            .register_workflow_by(
                "partner-recruitment.json",
                &workflow_bytes("partner-recruitment"),
                Some("root"),
            )
            .await
            .expect("v1");
        assert_eq!(v1.registered_by.as_deref(), Some("root"));
        assert!(v1.weakened.is_empty());
        let mut def: serde_json::Value =
            serde_json::from_slice(&workflow_bytes("partner-recruitment")).expect("json");
        def["version"] = "1.4.0".into();
        def["schedule"]["minBidPeriod"]["amount"] = 15.into();
        def["evaluation"]["committee"]["minMembers"] = 3.into();
        let bytes = serde_json::to_vec_pretty(&def).expect("bytes");
        let v2 = db
            .store
            .register_workflow_by("pr-1.1.json", &bytes, Some("root"))
            .await
            .expect("v2");
        let flagged: Vec<&str> = v2.weakened.iter().map(|w| w.pointer.as_str()).collect();
        assert_eq!(
            flagged,
            ["/schedule/minBidPeriod", "/evaluation/committee/minMembers"],
            "[{}] {:?}",
            db.name,
            v2.weakened
        );
        // Listed for inspectors with the flags.
        let listed = db.store.workflows().await.expect("list");
        assert!(
            listed
                .iter()
                .any(|w| w.sha256 == v2.sha256 && w.weakened.len() == 2)
        );

        let staff = Actor::new(scenario::STAFF, "staff").expect("staff");
        let at = Timestamp::parse("2026-01-05T09:00:00+08:00").expect("t");
        let ambiguous = db
            .store
            .create_tender("partner-recruitment", "T-v", "c1", &staff, at)
            .await;
        assert!(
            matches!(ambiguous, Err(StoreError::AmbiguousWorkflow { ref versions, .. }) if versions.len() == 2),
            "[{}] {ambiguous:?}",
            db.name
        );
        db.store
            .create_tender("partner-recruitment@1.3.0", "T-v", "c2", &staff, at)
            .await
            .expect("exact version");
        let (wf, t) = db.store.load("T-v").await.expect("load");
        assert_eq!(wf.sha256(), v1.sha256);
        let records = tenderflow_core::records::records(&wf, &t);
        assert_eq!(records.definition.sha256, v1.sha256);
    }
}
