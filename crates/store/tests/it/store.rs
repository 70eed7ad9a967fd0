//! The store's guarantees: one transaction per command, idempotency, optimistic concurrency,
//! tamper evidence, sealed bids, durable timers, the outbox.

use std::collections::BTreeMap;
use tenderflow_core::scenario::{self, Input, Params};
use tenderflow_core::{Actor, EventBody};
use tenderflow_store::chain::ChainProblem;
use tenderflow_store::{OutboxStatus, Store, StoreError};
use tenderflow_testkit::db::TestDb;
use tenderflow_testkit::fixtures::{
    account_in, bid, bids, play_step, published, register_seed, seed_roles, submit,
};

pub(crate) async fn accounts(store: &Store, params: &Params) {
    for (id, role) in seed_roles(params.bidders, params.evaluators) {
        let a = account_in(&id, role, "zh-CN");
        store.create_account(&a).await.expect("account");
    }
}

/// Plays the seed script through the store; timers fire through `fire_due_timers`.
async fn play(db: &TestDb, params: &Params) -> String {
    let store = &db.store;
    let rec = register_seed(store).await;
    let wf = store.workflow(&rec.sha256).await.expect("wf");
    let steps = scenario::script(&wf, params);
    let tender_id = scenario::tender_id(params);
    for (i, s) in steps.iter().enumerate() {
        if s.input == Input::Timer {
            let fired = store
                .fire_due_timers(s.at, "worker-a")
                .await
                .expect("timers");
            assert_eq!(fired.len(), 1, "[{}] step {i}: one timer fires", db.name);
            continue;
        }
        play_step(store, &rec.sha256, &tender_id, &format!("cmd-{i}"), s)
            .await
            .unwrap_or_else(|e| panic!("[{}] step {i} {}: {e}", db.name, s.input.name()));
    }
    tender_id
}

#[tokio::test]
async fn the_seed_case_runs_through_the_store_and_verifies() {
    for db in TestDb::all().await {
        let params = Params::default();
        accounts(&db.store, &params).await;
        let tender = play(&db, &params).await;
        let (_, t) = db.store.load(&tender).await.expect("load");
        assert_eq!(t.state, "awarded", "[{}]", db.name);
        assert_eq!(t.bids.len(), 18);
        assert_eq!(t.awarded.as_ref().map(Vec::len), Some(7));

        // Reading back from the database alone (a fresh store, no cache) gives the same state.
        let other = db.reopen().await;
        let (_, again) = other.load(&tender).await.expect("reload");
        assert_eq!(again, t, "[{}]", db.name);

        let reports = db.store.verify(None).await.expect("verify");
        assert_eq!(reports.len(), 1);
        assert_eq!(reports[0].problem, None, "[{}] {:?}", db.name, reports[0]);

        let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
        for row in db
            .store
            .outbox(Some(OutboxStatus::Pending))
            .await
            .expect("outbox")
        {
            *kinds.entry(row.message.as_str().to_owned()).or_default() += 1;
            // Each row says what it will say when sent, fixed when it was queued: the
            // tender, its recipient and, for an award or a regret, that recipient's rank.
            assert_eq!(row.data["recipient"]["id"], row.recipient_id.as_str());
            assert_eq!(row.data["tender"]["id"], tender.as_str());
            assert!(
                row.data["event"]["at"]
                    .as_str()
                    .is_some_and(|at| at.contains("UTC+08:00"))
            );
            if matches!(row.message.as_str(), "award_notice" | "regret_notice") {
                assert!(row.data["award"]["rank"].is_u64(), "{}", row.data);
            }
        }
        assert_eq!(kinds["bid_receipt"], 18, "[{}] {kinds:?}", db.name);
        assert_eq!(kinds["award_notice"], 7);
        assert_eq!(kinds["regret_notice"], 11);
        assert_eq!(
            kinds["announcement"],
            18 + 1,
            "every registered bidder and the inspector"
        );
    }
}

#[tokio::test]
async fn a_repeated_command_id_appends_nothing_and_returns_the_first_result() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-idem").await;
        let first = db
            .store
            .execute(&t, "bid-1", &submit("org-a", 1000), at.plus_seconds(60))
            .await
            .expect("bid");
        assert!(!first.repeated);
        let again = db
            .store
            .execute(&t, "bid-1", &submit("org-a", 1000), at.plus_seconds(120))
            .await
            .expect("repeat");
        assert!(again.repeated, "[{}]", db.name);
        assert_eq!(again.events, first.events);
        assert_eq!(
            db.store.event_rows(&t).await.expect("rows").len(),
            5,
            "[{}] create 2 + publish 2 + bid 1",
            db.name
        );
    }
}

/// No command id is looked up before a first attempt (the command record's key catches a
/// repeat): a repeat that would now be refused, one that would now be accepted, and a repeat
/// of a tender's creation are each answered with their first result and write nothing.
#[tokio::test]
async fn a_repeat_is_answered_with_its_first_result_whatever_deciding_it_again_would_say() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-again").await;
        let first = db
            .store
            .execute(&t, "bid-x", &submit("org-a", 1000), at.plus_seconds(60))
            .await
            .expect("bid");
        let rows = db.store.event_rows(&t).await.expect("rows").len();
        // Deciding it again would be accepted (a bid may be replaced before the deadline).
        let accepted_again = db
            .store
            .execute(&t, "bid-x", &submit("org-a", 1000), at.plus_seconds(90))
            .await
            .expect("repeat");
        // Far after the deadline deciding it again would be refused as late.
        let refused_again = db
            .store
            .execute(
                &t,
                "bid-x",
                &submit("org-a", 1000),
                at.plus_seconds(86_400 * 400),
            )
            .await
            .expect("late repeat");
        for again in [&accepted_again, &refused_again] {
            assert!(again.repeated, "[{}]", db.name);
            assert_eq!(again.events, first.events, "[{}]", db.name);
        }
        assert_eq!(
            db.store.event_rows(&t).await.expect("rows").len(),
            rows,
            "[{}] nothing appended by the repeats",
            db.name
        );
        // The tender's creation repeated: `already_exists` is never the answer to a repeat.
        let rec = register_seed(&db.store).await;
        let staff = Actor::new(scenario::STAFF, "staff").expect("staff");
        let created = db
            .store
            .create_tender(&rec.sha256, "T-made", "make-1", &staff, at)
            .await
            .expect("create");
        let again = db
            .store
            .create_tender(&rec.sha256, "T-made", "make-1", &staff, at.plus_seconds(5))
            .await
            .expect("repeated create");
        assert!(again.repeated && !created.repeated, "[{}]", db.name);
        assert_eq!(again.events, created.events, "[{}]", db.name);
    }
}

/// A writer whose cached state went stale (another process wrote since) does not trust it:
/// SQLite skips reading the head row when the state is cached, so the batch's guarded write
/// must find out, and the command is decided again on the fresh state.
#[tokio::test]
async fn a_stale_cache_after_another_process_wrote_is_caught_and_retried() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-stale").await;
        let other = db.reopen().await;
        db.store
            .execute(&t, "a-1", &submit("org-a", 100), at.plus_seconds(60))
            .await
            .expect("a-1 caches the state");
        other
            .execute(&t, "b-1", &submit("org-b", 200), at.plus_seconds(61))
            .await
            .expect("the other process writes");
        let after = db
            .store
            .execute(&t, "a-2", &submit("org-c", 300), at.plus_seconds(62))
            .await
            .expect("decided again on the fresh state");
        assert_eq!(after.events.first().map(|e| e.0), Some(7), "[{}]", db.name);
        let (_, tender) = db.store.load(&t).await.expect("load");
        assert_eq!(tender.bids.len(), 3, "[{}] no bid lost", db.name);
        let reports = db.store.verify(Some(&t)).await.expect("verify");
        assert!(
            reports.iter().all(|r| r.problem.is_none() && r.events == 7),
            "[{}] {reports:?}",
            db.name
        );
    }
}

/// A command decided on a cached state writes with no transaction around it (one statement
/// on PostgreSQL, one execution on SQLite). When its projection row no longer matches (here:
/// moved on by hand, its events absent, so that no event key collides), the guarded
/// `UPDATE` must fail the whole statement: none of the command's rows may stay.
#[tokio::test]
async fn a_write_whose_guard_fails_leaves_no_row_behind() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-guard").await;
        db.store
            .execute(&t, "g-1", &submit("org-a", 100), at.plus_seconds(60))
            .await
            .expect("g-1 caches the state");
        let before = db.store.event_rows(&t).await.expect("rows").len();
        db.tamper("UPDATE tenders SET seq = seq + 100 WHERE tender_id = 'T-guard'")
            .await;
        let r = db
            .store
            .execute(&t, "g-2", &submit("org-b", 200), at.plus_seconds(61))
            .await;
        assert!(r.is_err(), "[{}] {r:?}", db.name);
        let rows = db.store.event_rows(&t).await.expect("rows");
        assert_eq!(rows.len(), before, "[{}] an event row stayed", db.name);
        assert!(
            rows.iter().all(|r| r.command_id != "g-2"),
            "[{}] g-2 wrote",
            db.name
        );
        // Put right, the tender takes the command (no record of g-2 stayed either).
        db.tamper("UPDATE tenders SET seq = seq - 100 WHERE tender_id = 'T-guard'")
            .await;
        let again = db
            .store
            .execute(&t, "g-2", &submit("org-b", 200), at.plus_seconds(62))
            .await
            .expect("g-2 once the row is right");
        assert!(!again.repeated, "[{}]", db.name);
    }
}

/// A batch on two cached tenders is one statement guarding both projections: when the
/// second tender's guard finds no row, nothing of the statement stays, not even the first
/// tender's rows, and the retry writes the first tender's command alone.
#[tokio::test]
async fn a_batch_whose_second_guard_fails_leaves_no_row_behind() {
    use tenderflow_store::Request;
    for db in TestDb::all().await {
        let (a, at, _) = published(&db.store, "T-guard-a").await;
        let (b, _, _) = published(&db.store, "T-guard-b").await;
        for (t, id) in [(&a, "ga-1"), (&b, "gb-1")] {
            db.store
                .execute(t, id, &submit("org-a", 100), at.plus_seconds(60))
                .await
                .expect("a first bid caches the state and makes the data key");
        }
        let (a_before, b_before) = (
            db.store.event_rows(&a).await.expect("rows").len(),
            db.store.event_rows(&b).await.expect("rows").len(),
        );
        db.tamper("UPDATE tenders SET seq = seq + 100 WHERE tender_id = 'T-guard-b'")
            .await;
        let batch = [
            Request::new(&a, "ga-2", submit("org-b", 200), at.plus_seconds(61)),
            Request::new(&b, "gb-2", submit("org-b", 200), at.plus_seconds(61)),
        ];
        let results = db.store.execute_batch(&batch).await;
        let b_rows = db.store.event_rows(&b).await.expect("rows");
        assert_eq!(
            b_rows.len(),
            b_before,
            "[{}] an event row of B stayed",
            db.name
        );
        assert!(
            b_rows.iter().all(|r| r.command_id != "gb-2"),
            "[{}] gb-2 wrote",
            db.name
        );
        let a_rows = db.store.event_rows(&a).await.expect("rows");
        let a_written = a_rows.iter().filter(|r| r.command_id == "ga-2").count();
        match results {
            Ok(r) => {
                assert!(r[0].is_ok(), "[{}] {:?}", db.name, r[0]);
                assert!(r[1].is_err(), "[{}] {:?}", db.name, r[1]);
                assert_eq!(a_written, a_rows.len() - a_before, "[{}]", db.name);
                assert!(
                    a_written > 0,
                    "[{}] ga-2 was answered but not written",
                    db.name
                );
            }
            Err(e) => {
                assert_eq!(
                    a_rows.len(),
                    a_before,
                    "[{}] {e}: a row of A stayed",
                    db.name
                );
            }
        }
    }
}

/// A tender's data key is made in its creation's transaction, so that the first sealed bid
/// needs no transaction of its own to make it.
#[tokio::test]
async fn a_tender_gets_its_data_key_when_created() {
    use sea_orm::ConnectionTrait;
    for db in TestDb::all().await {
        let (t, _, _) = published(&db.store, "T-key-made").await;
        let row = db
            .store
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(
                db.store.backend(),
                format!("SELECT COUNT(*) AS n FROM tender_keys WHERE tender_id = '{t}'"),
            ))
            .await
            .expect("count")
            .expect("a row");
        let n: i64 = row.try_get("", "n").expect("n");
        assert_eq!(n, 1, "[{}] no data key before the first bid", db.name);
    }
}

/// After a restart a tender's first load replays its events once; later loads and the next
/// command come from the kept state, and reading it never replays it again.
#[tokio::test]
async fn a_tender_is_replayed_once_after_a_restart() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-once").await;
        let fresh = db.reopen().await;
        let before = fresh.cache_stats().await;
        assert_eq!((before.replays, before.tenders), (0, 0), "[{}]", db.name);
        let (_, tender) = fresh.load(&t).await.expect("first load");
        let first = fresh.cache_stats().await;
        assert_eq!(first.replays, 1, "[{}]", db.name);
        assert_eq!(first.events_replayed, tender.seq, "[{}]", db.name);
        for _ in 0..3 {
            fresh.load(&t).await.expect("load again");
        }
        fresh
            .execute(&t, "once-bid", &submit("org-a", 10), at.plus_seconds(60))
            .await
            .expect("bid");
        fresh.load(&t).await.expect("load after the bid");
        let after = fresh.cache_stats().await;
        assert_eq!(
            (after.replays, after.events_replayed),
            (first.replays, first.events_replayed),
            "[{}] nothing replayed again",
            db.name
        );
        assert_eq!(after.tenders, 1, "[{}]", db.name);
    }
}

/// Two processes on one database: what one writes, the other reads as the new events only
/// (its kept state brought up to date), and a tampered new event is not taken on trust: the
/// whole record is verified and the tender refused.
#[tokio::test]
async fn a_kept_state_catches_up_with_another_process_by_its_new_events_only() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-catch").await;
        let reader = db.reopen().await;
        let (_, before) = reader.load(&t).await.expect("first load");
        let first = reader.cache_stats().await;
        assert_eq!(first.replays, 1, "[{}]", db.name);
        db.store
            .execute(&t, "c-1", &submit("org-a", 10), at.plus_seconds(60))
            .await
            .expect("the other process bids");
        let (_, after) = reader.load(&t).await.expect("caught up");
        assert_eq!(after.seq, before.seq + 1, "[{}]", db.name);
        assert_eq!(after.bids.len(), 1, "[{}]", db.name);
        let stats = reader.cache_stats().await;
        assert_eq!(
            (stats.replays, stats.catch_ups, stats.events_caught_up),
            (1, 1, 1),
            "[{}] one new event read, no replay",
            db.name
        );
        // A command on the reader decides on the caught-up state.
        reader
            .execute(&t, "c-2", &submit("org-b", 20), at.plus_seconds(61))
            .await
            .expect("bid on the reader");
        db.store
            .execute(&t, "c-3", &submit("org-c", 30), at.plus_seconds(62))
            .await
            .expect("another bid on the first process");
        db.tamper(&format!(
            "UPDATE events SET payload = replace(payload, '\"sealed\":\"', '\"sealed\":\"AAAA') WHERE tender_id = '{t}' AND seq = {}",
            after.seq + 2
        ))
        .await;
        assert!(
            matches!(reader.load(&t).await, Err(StoreError::Integrity { .. })),
            "[{}] a tampered new event is refused",
            db.name
        );
    }
}

#[tokio::test]
async fn of_two_concurrent_appends_at_one_sequence_exactly_one_wins() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-race").await;
        let (_, tender) = db.store.load(&t).await.expect("load");
        let seq = tender.seq as i64;
        let event = |org: &str| tenderflow_core::Event {
            at: at.plus_seconds(60),
            actor: Actor::new(org, "bidder").expect("actor"),
            body: EventBody::BidWithdrawn {
                key: tenderflow_core::model::BidKey {
                    lot: "1".into(),
                    bidder: tenderflow_core::ActorId::parse(org).expect("id"),
                },
            },
        };
        let a = db.store.clone();
        let b = db.reopen().await;
        let (ea, eb) = (vec![event("org-a")], vec![event("org-b")]);
        let t2 = t.clone();
        let ha = tokio::spawn(async move { a.append(&t2, seq, "race-a", &ea).await });
        let t3 = t.clone();
        let hb = tokio::spawn(async move { b.append(&t3, seq, "race-b", &eb).await });
        let (ra, rb) = (ha.await.expect("join"), hb.await.expect("join"));
        let wins = [&ra, &rb].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "[{}] {ra:?} {rb:?}", db.name);
        let loser = if ra.is_ok() { rb } else { ra };
        assert!(
            matches!(loser, Err(StoreError::Conflict { .. })),
            "[{}] {loser:?}",
            db.name
        );
        assert_eq!(
            db.store.verify(Some(&t)).await.expect("verify")[0].problem,
            None
        );
    }
}

#[tokio::test]
async fn concurrent_bids_from_many_clients_are_all_kept() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-rush").await;
        let mut handles = Vec::new();
        for i in 0..24 {
            // Half through another store instance, as another server process would.
            let store = if i % 2 == 0 {
                db.store.clone()
            } else {
                db.reopen().await
            };
            let t = t.clone();
            handles.push(tokio::spawn(async move {
                let org = format!("org-{i:02}");
                // One clock: `now` is the server's time when the command arrives.
                store
                    .execute(
                        &t,
                        &format!("bid-{i}"),
                        &submit(&org, 1000 + i),
                        at.plus_seconds(60),
                    )
                    .await
            }));
        }
        for h in handles {
            h.await.expect("join").expect("every bid lands");
        }
        let (_, tender) = db.reopen().await.load(&t).await.expect("load");
        assert_eq!(tender.bids.len(), 24, "[{}]", db.name);
        assert_eq!(
            db.store.verify(Some(&t)).await.expect("verify")[0].problem,
            None
        );
    }
}

/// Concurrent writers in one process decide on the cached state, without a lock: one may
/// commit, and replace the cached entry, while another is reading it. A state must never
/// pair with another writer's head (it once did, and a replay against the older head found
/// the newer events "inserted after the head").
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_bids_on_a_warm_cache_are_all_kept() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-warm").await;
        for wave in 0..4 {
            let mut handles = Vec::new();
            for i in 0..16 {
                let (store, t) = (db.store.clone(), t.clone());
                handles.push(tokio::spawn(async move {
                    let org = format!("org-{wave}-{i:02}");
                    store
                        .execute(
                            &t,
                            &format!("warm-{wave}-{i}"),
                            &submit(&org, 1000 + i),
                            at.plus_seconds(60 + wave),
                        )
                        .await
                }));
            }
            for h in handles {
                h.await.expect("join").expect("every bid lands");
            }
        }
        let (_, tender) = db.reopen().await.load(&t).await.expect("load");
        assert_eq!(tender.bids.len(), 64, "[{}]", db.name);
        assert_eq!(
            db.store.verify(Some(&t)).await.expect("verify")[0].problem,
            None
        );
    }
}

#[tokio::test]
async fn a_rejected_command_writes_nothing() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-reject").await;
        let before = db.store.event_rows(&t).await.expect("rows");
        let late = db
            .store
            .execute(
                &t,
                "late",
                &submit("org-z", 10),
                at.plus_seconds(90 * 86_400),
            )
            .await;
        match late {
            Err(StoreError::Rejected(r)) => assert_eq!(r.code.as_str(), "late_bid"),
            other => panic!("[{}] {other:?}", db.name),
        }
        assert_eq!(db.store.event_rows(&t).await.expect("rows"), before);
        assert!(
            db.store
                .outbox(None)
                .await
                .expect("outbox")
                .iter()
                .all(|r| r.message.as_str() != "bid_receipt")
        );
        // The command id of a rejected command stays free.
        db.store
            .execute(&t, "late", &submit("org-z", 10), at.plus_seconds(60))
            .await
            .expect("now in time");
    }
}

#[tokio::test]
async fn sealed_bids_are_unreadable_at_rest_and_open_to_their_commitment() {
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-seal").await;
        let done = db
            .store
            .execute(
                &t,
                "bid-s",
                &submit("Secret Arts Troupe", 4_321_000),
                at.plus_seconds(60),
            )
            .await
            .expect("bid");
        // The payload column exactly as stored.
        let rows = db.store.event_rows(&t).await.expect("rows");
        let dump: String = rows.iter().map(|r| r.payload.as_str()).collect();
        assert!(
            !dump.contains("Secret Arts Troupe") && !dump.contains("4321000"),
            "[{}] plaintext at rest",
            db.name
        );
        assert!(dump.contains("\"sealed\""));
        let (
            _,
            EventBody::BidSubmitted {
                content,
                commitment,
                ..
            },
        ) = (&done.events[0].0, &done.events[0].1.body)
        else {
            panic!("{:?}", done.events)
        };
        assert_eq!(
            *commitment,
            tenderflow_core::canonical::Recipe::CURRENT
                .sha256_hex(&bid("Secret Arts Troupe", 4_321_000))
        );
        let (_, tender) = db.reopen().await.load(&t).await.expect("load");
        let stored = tender.bids.values().next().expect("bid");
        assert_eq!(
            stored.commitment_recipe.sha256_hex(&stored.content),
            stored.commitment
        );
        assert_eq!(stored.content, *content);
        // Without the master key the bids cannot be read: another key is refused at once.
        let stranger = Store::connect(
            &db.url,
            tenderflow_store::crypto::MasterKey::generate().expect("k"),
        )
        .await;
        assert!(
            matches!(stranger, Err(StoreError::WrongMasterKey(_))),
            "[{}]",
            db.name
        );
    }
}

#[tokio::test]
async fn tampering_is_detected_and_located() {
    for db in TestDb::all().await {
        for (name, sql, expect) in [
            (
                "edit",
                "UPDATE events SET payload = replace(payload, 'union-website', 'other-site') WHERE tender_id = 'T-tamper' AND seq = 3",
                ChainProblem::Altered { seq: 3 },
            ),
            (
                "delete",
                "DELETE FROM events WHERE tender_id = 'T-tamper' AND seq = 5",
                ChainProblem::Missing { seq: 5 },
            ),
            (
                "truncate",
                "DELETE FROM events WHERE tender_id = 'T-tamper' AND seq = 7",
                ChainProblem::Truncated {
                    expected: 7,
                    found: 6,
                },
            ),
            (
                "insert",
                "INSERT INTO events (tender_id, seq, command_id, actor_id, actor_role, at_ms, kind, payload, prev_hash, hash) SELECT tender_id, 8, command_id, actor_id, actor_role, at_ms, kind, payload, hash, hash FROM events WHERE tender_id = 'T-tamper' AND seq = 7",
                ChainProblem::Inserted { seq: 8 },
            ),
            (
                "reorder",
                "UPDATE events SET seq = CASE seq WHEN 5 THEN 6 ELSE 5 END WHERE tender_id = 'T-tamper' AND seq IN (5, 6)",
                ChainProblem::Reordered {
                    seq: 5,
                    written_at: 6,
                },
            ),
        ] {
            db.tamper("DELETE FROM events WHERE tender_id = 'T-tamper'")
                .await;
            db.tamper("DELETE FROM tenders WHERE tender_id = 'T-tamper'")
                .await;
            db.tamper("DELETE FROM commands WHERE tender_id = 'T-tamper'")
                .await;
            let (t, at, _) = published(&db.store, "T-tamper").await;
            bids(&db.store, &t, at, 3, &format!("tamper-{name}-")).await;
            assert_eq!(
                db.store.verify(Some(&t)).await.expect("verify")[0].problem,
                None
            );
            if name == "reorder" {
                // Swapping two unique keys takes a detour through free values.
                db.tamper(
                    "UPDATE events SET seq = -seq WHERE tender_id = 'T-tamper' AND seq IN (5, 6)",
                )
                .await;
                db.tamper("UPDATE events SET seq = CASE seq WHEN -5 THEN 6 ELSE 5 END WHERE tender_id = 'T-tamper' AND seq IN (-5, -6)").await;
            } else {
                db.tamper(sql).await;
            }
            let report = db.store.verify(Some(&t)).await.expect("verify");
            assert_eq!(report[0].problem, Some(expect), "[{}] {name}", db.name);
        }
    }
}

/// A PostgreSQL store opens its minimum of connections before it serves anything, so that
/// no command pays for setting one up (a TLS handshake) while it holds its tender's lock.
#[tokio::test]
async fn a_postgres_store_opens_its_minimum_connections_at_start() {
    use sea_orm::ConnectionTrait;
    let Some(db) = tenderflow_testkit::db::Scratch::postgres().await else {
        return;
    };
    let tuning = tenderflow_store::Tuning {
        max_connections: 8,
        min_connections: 6,
        ..tenderflow_store::Tuning::default()
    };
    let store = Store::connect_with(
        &db.url,
        tenderflow_store::crypto::MasterKey::generate().expect("key"),
        std::sync::Arc::new(tenderflow_store::clock::SystemClock),
        tuning,
    )
    .await
    .expect("connect");
    let row = store
        .connection()
        .query_one_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()",
        ))
        .await
        .expect("count")
        .expect("a row");
    let open: i64 = row.try_get("", "n").expect("n");
    // Six at least (a pool that opens connections only on demand reaches three or four
    // here: sea-orm returns a connection to the pool in a task of its own, and the next
    // statement of the migrations may find none idle), never more than the maximum.
    assert!((6..=8).contains(&open), "{open} open, not the minimum of 6");
}

/// Two servers on one database: B keeps the tender as it stood before A fired its deadline;
/// the next command sent to B is decided on the tender as committed, not refused as if the
/// deadline had not passed.
#[tokio::test]
async fn a_second_server_decides_on_the_tender_as_committed() {
    for db in TestDb::all().await {
        let params = Params {
            bidders: 3,
            ..Params::default()
        };
        accounts(&db.store, &params).await;
        let rec = register_seed(&db.store).await;
        let wf = db.store.workflow(&rec.sha256).await.expect("wf");
        let steps = scenario::script(&wf, &params);
        let tender = scenario::tender_id(&params);
        let b = db.reopen().await;
        let deadline = steps
            .iter()
            .position(|s| s.input == Input::Timer)
            .expect("a deadline");
        for (i, s) in steps[..deadline].iter().enumerate() {
            play_step(&db.store, &rec.sha256, &tender, &format!("cmd-{i}"), s)
                .await
                .expect("step");
        }
        let (_, before) = b.load(&tender).await.expect("B keeps the tender");
        let fired = db
            .store
            .fire_due_timers(steps[deadline].at, "server-a")
            .await
            .expect("fire");
        assert_eq!(fired.len(), 1, "[{}]", db.name);
        let next = &steps[deadline + 1];
        assert!(matches!(next.input, Input::Command(_)));
        let done = play_step(&b, &rec.sha256, &tender, "on-b", next)
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "[{}] {} refused on B (kept in `{}`): {e}",
                    db.name,
                    next.input.name(),
                    before.state
                )
            })
            .expect("executed");
        assert!(!done.repeated);
    }
}
