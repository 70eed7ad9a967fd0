//! Unit tests that need the store's private parts.

use super::*;
use std::sync::atomic::Ordering;
use tenderflow_core::scenario::{self, Params};

/// Trust #5: a batch that failed and waits to retry does not hold SQLite's write gate:
/// another writer's command completes while it sleeps.
#[tokio::test]
async fn trust_05_a_retrying_batch_does_not_hold_the_write_gate() {
    let dir = std::env::temp_dir().join(format!("tenderflow-gate-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
    let store = Arc::new(
        Store::connect(&url, MasterKey::generate().expect("key"))
            .await
            .expect("store"),
    );
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
