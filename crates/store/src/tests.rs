//! Unit tests that need the store's private parts.

use super::*;
use std::sync::atomic::Ordering;
use tenderflow_core::scenario::{self, Params};

/// A store on a new SQLite file with the partner-recruitment definition registered: the
/// store, the definition's SHA-256, the seed script with no bidders, and the directory.
async fn seed_store(name: &str) -> (Store, String, Vec<scenario::Step>, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("tenderflow-{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
    let store = Store::connect(&url, MasterKey::generate().expect("key"))
        .await
        .expect("store");
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../workflows/partner-recruitment.json"),
    )
    .expect("definition");
    let sha = store
        .register_workflow("partner-recruitment.json", &bytes)
        .await
        .expect("register")
        .sha256;
    let wf = store.workflow(&sha).await.expect("wf");
    let steps = scenario::script(
        &wf,
        &Params {
            bidders: 0,
            ..Params::default()
        },
    );
    (store, sha, steps, dir)
}

/// Trust #5: a batch that failed and waits to retry does not hold SQLite's write gate:
/// another writer's command completes while it sleeps.
#[tokio::test]
async fn trust_05_a_retrying_batch_does_not_hold_the_write_gate() {
    let (store, sha, steps, dir) = seed_store("gate").await;
    let store = Arc::new(store);
    // Three forced conflicts: the writer fails, waits, retries (4, 8, 16 ms).
    store.forced_conflicts.store(3, Ordering::SeqCst);
    let writer = {
        let store = store.clone();
        let (sha, at, actor) = (sha.clone(), steps[0].at, steps[0].actor.clone());
        tokio::spawn(async move {
            store
                .create_tender(&sha, "T-slow", "slow", &actor, at)
                .await
        })
    };
    // While it waits to retry, the write gate is free for everybody else.
    let gate = store.write_gate.as_ref().expect("SQLite has a write gate");
    let mut free_while_waiting = false;
    while store.forced_conflicts.load(Ordering::SeqCst) > 0 {
        if store.forced_conflicts.load(Ordering::SeqCst) < 3 && gate.try_lock().is_ok() {
            free_while_waiting = true;
        }
        tokio::time::sleep(std::time::Duration::from_micros(200)).await;
    }
    writer
        .await
        .expect("join")
        .expect("the writer succeeds on retry");
    assert!(
        free_while_waiting,
        "the gate was held while the failed batch waited to retry"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// #28 item 15: a reader that read the head, then the rows after a write committed, found
/// the new rows "inserted after the head" and raised a false integrity alarm. Rows a moved
/// head covers are a later write, not tampering; rows no head covers still are.
#[tokio::test]
async fn a_read_racing_a_write_sees_no_false_integrity_violation() {
    let (store, sha, steps, dir) = seed_store("race").await;
    store
        .create_tender(&sha, "T-race", "create", &steps[0].actor, steps[0].at)
        .await
        .expect("create");
    // The reader's head, read before the write below commits.
    let old = store.existing_tender("T-race").await.expect("head");
    let publish = steps[1].command().expect("publish");
    store
        .execute("T-race", "publish", &publish, steps[1].at)
        .await
        .expect("publish");
    let verified = store.verified(&store.db, &old).await.expect("read");
    assert!(
        verified.is_ok(),
        "a later write read as tampering: {:?}",
        verified.err()
    );
    // A row no head covers is still named.
    let sql = "INSERT INTO events (tender_id, seq, command_id, actor_id, actor_role, at_ms, kind, payload, prev_hash, hash) SELECT tender_id, seq + 10, command_id, actor_id, actor_role, at_ms, kind, payload, hash, hash FROM events WHERE tender_id = 'T-race' AND seq = 1";
    sea_orm::ConnectionTrait::execute_unprepared(&store.db, sql)
        .await
        .expect("tamper");
    let head = store.existing_tender("T-race").await.expect("head");
    assert!(matches!(
        store.verified(&store.db, &head).await.expect("read"),
        Err(crate::chain::ChainProblem::Inserted { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
