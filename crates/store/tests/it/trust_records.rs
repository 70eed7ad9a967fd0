//! Trust fixes on the record itself (issue #10): a keyed chain checked against published
//! heads, the projection checked against the replay, and a tampered tender refused.

use tenderflow_store::StoreError;
use tenderflow_testkit::db::TestDb;
use tenderflow_testkit::fixtures::{bids, published, submit};

/// Rewrites event `seq` of `tender` and every later one the way someone with SQL access but
/// without the master key would: new content, hashes recomputed with the key they can guess
/// at (any other key), and the head moved along.
async fn forge(db: &TestDb, tender: &str, seq: i64, edit: &str) {
    use tenderflow_store::chain::{self, ChainKey};
    let guess = ChainKey::of(&tenderflow_store::crypto::MasterKey::generate().expect("key"));
    db.tamper(&format!(
        "UPDATE events SET payload = {edit} WHERE tender_id = '{tender}' AND seq = {seq}"
    ))
    .await;
    let rows = db.store.event_rows(tender).await.expect("rows");
    let mut prev = rows
        .iter()
        .find(|r| r.seq == seq - 1)
        .map_or(chain::GENESIS.to_owned(), |r| r.hash.clone());
    for mut row in rows.into_iter().filter(|r| r.seq >= seq) {
        row.prev_hash = prev.clone();
        row.hash = chain::row_hash(&row, &guess).expect("hash");
        db.tamper(&format!("UPDATE events SET prev_hash = '{}', hash = '{}' WHERE tender_id = '{tender}' AND seq = {}", row.prev_hash, row.hash, row.seq)).await;
        prev = row.hash;
    }
    db.tamper(&format!(
        "UPDATE tenders SET last_hash = '{prev}' WHERE tender_id = '{tender}'"
    ))
    .await;
}

/// Trust #15: without the master key, a rewritten history does not verify; a truncation
/// with a rewound head is caught by the heads published earlier (OCDS, signed records).
#[tokio::test]
async fn trust_15_the_chain_is_keyed_and_checked_against_published_heads() {
    use tenderflow_store::chain::ChainProblem;
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-forge").await;
        bids(&db.store, &t, at, 3, "b").await;
        assert_eq!(db.store.verify(Some(&t)).await.expect("v")[0].problem, None);
        // Heads published so far: the OCDS releases and the records' head.
        let releases = db
            .store
            .ocds_releases(&t, &tenderflow_core::ocds::Options::default())
            .await
            .expect("releases");
        let mut heads: Vec<tenderflow_store::PublishedHead> = releases
            .iter()
            .map(|r| {
                serde_json::from_value(r["tenderflowChainHead"].clone()).expect("head in release")
            })
            .collect();
        assert!(!heads.is_empty());
        heads.push(db.store.chain_head(&t).await.expect("head"));
        assert!(
            db.store.verify_against(&heads).await.expect("v")[0]
                .problem
                .is_none()
        );

        // A forged edit of the announcement, successors rehashed and the head updated.
        forge(
            &db,
            &t,
            3,
            "replace(payload, 'union-website', 'other-site')",
        )
        .await;
        let report = db.store.verify(Some(&t)).await.expect("verify");
        assert_eq!(
            report[0].problem,
            Some(ChainProblem::Altered { seq: 3 }),
            "[{}]",
            db.name
        );
        let against = db.store.verify_against(&heads).await.expect("against");
        assert!(
            matches!(
                against[0].problem,
                Some(ChainProblem::Unpublished { seq: 3, .. })
            ),
            "[{}] {:?}",
            db.name,
            against[0].problem
        );
    }
    // Truncation with a rewound head passes the chain check but not the published heads.
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-trunc").await;
        db.store
            .execute(&t, "b0", &submit("org-0", 10), at.plus_seconds(60))
            .await
            .expect("bid");
        let head = db.store.chain_head(&t).await.expect("head");
        let prev = db.store.event_rows(&t).await.expect("rows")[3].hash.clone();
        db.tamper(&format!(
            "DELETE FROM events WHERE tender_id = '{t}' AND seq = 5"
        ))
        .await;
        db.tamper(&format!(
            "UPDATE tenders SET seq = 4, last_hash = '{prev}' WHERE tender_id = '{t}'"
        ))
        .await;
        assert_eq!(db.store.verify(Some(&t)).await.expect("v")[0].problem, None);
        let against = db.store.verify_against(&[head]).await.expect("against");
        assert!(
            matches!(
                against[0].problem,
                Some(ChainProblem::Unpublished {
                    seq: 5,
                    found: None,
                    ..
                })
            ),
            "[{}] {:?}",
            db.name,
            against[0].problem
        );
    }
}

/// Trust #16: `verify` replays each tender and checks the projection the lists read.
#[tokio::test]
async fn trust_16_verify_checks_the_projection_against_the_replay() {
    use tenderflow_store::chain::ChainProblem;
    for db in TestDb::all().await {
        let (t, _, _) = published(&db.store, "T-proj").await;
        db.tamper(&format!(
            "UPDATE tenders SET state = 'awarded' WHERE tender_id = '{t}'"
        ))
        .await;
        let report = db.store.verify(Some(&t)).await.expect("verify");
        assert!(
            matches!(&report[0].problem, Some(ChainProblem::Projection { field, .. }) if field == "state"),
            "[{}] {:?}",
            db.name,
            report[0].problem
        );
        db.tamper(&format!("UPDATE tenders SET state = 'announced', deadline_ms = deadline_ms + 86400000 WHERE tender_id = '{t}'")).await;
        let report = db.store.verify(Some(&t)).await.expect("verify");
        assert!(
            matches!(&report[0].problem, Some(ChainProblem::Projection { field, .. }) if field == "deadline_ms"),
            "[{}] {:?}",
            db.name,
            report[0].problem
        );
        // A fresh process refuses to serve it, so lists and details cannot disagree.
        assert!(matches!(
            db.reopen().await.load(&t).await,
            Err(StoreError::Integrity { .. })
        ));
    }
}

/// Trust #17: a tender whose record fails verification is refused with an integrity error
/// naming the first bad event, for reads and for commands; nothing is decided on top of it.
#[tokio::test]
async fn trust_17_a_tampered_tender_is_refused_not_served() {
    use tenderflow_store::chain::ChainProblem;
    for db in TestDb::all().await {
        let (t, at, _) = published(&db.store, "T-tamper17").await;
        db.store
            .execute(&t, "b0", &submit("org-0", 10), at.plus_seconds(60))
            .await
            .expect("bid");
        // A sealed bid row edited in place.
        db.tamper(&format!("UPDATE events SET payload = replace(payload, '\"sealed\":\"', '\"sealed\":\"AAAA') WHERE tender_id = '{t}' AND seq = 5")).await;
        let fresh = db.reopen().await;
        match fresh.load(&t).await {
            Err(StoreError::Integrity { tender_id, problem }) => {
                assert_eq!(tender_id, t);
                assert_eq!(problem, ChainProblem::Altered { seq: 5 });
            }
            other => panic!("[{}] {other:?}", db.name),
        }
        let refused = fresh
            .execute(&t, "b1", &submit("org-1", 11), at.plus_seconds(70))
            .await;
        assert!(
            matches!(refused, Err(StoreError::Integrity { .. })),
            "[{}] {refused:?}",
            db.name
        );
        assert_eq!(db.store.event_rows(&t).await.expect("rows").len(), 5);
    }
}
