//! Documents: both blob backends (the database, a local object-store directory) on SQLite and
//! PostgreSQL: sealed bid documents unreadable at rest, references checked against the
//! upload, nothing kept of a refused upload, and `verify` naming a missing or altered file
//! with the event that references it.

use bytes::Bytes;
use futures_util::StreamExt;
use sea_orm::ConnectionTrait;
use std::sync::Arc;
use tenderflow_core::model::{Amend, Document, SubmitBid};
use tenderflow_core::{Actor, Command, CommandBody, RejectionCode};
use tenderflow_store::chain::ChainProblem;
use tenderflow_store::{NewBlob, ObjectBlobs, Store, StoreError};
use tenderflow_testkit::TempDir;
use tenderflow_testkit::db::{TestDb, connect};
use tenderflow_testkit::fixtures::{bid, pdf, published};

/// `bytes` as an upload body in uneven pieces, as a network delivers them.
fn body(
    bytes: &[u8],
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> + Send + use<> {
    let pieces: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(70_001)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(pieces)
}

fn new_blob(tender: &str, owner: &str, sealed: bool, name: &str) -> NewBlob {
    NewBlob {
        tender_id: tender.to_owned(),
        owner: owner.to_owned(),
        sealed,
        name: name.to_owned(),
        media_type: "application/pdf".to_owned(),
        max_bytes: 10 * 1024 * 1024,
    }
}

async fn read_all(store: &Arc<Store>, id: &str, range: std::ops::Range<u64>) -> Vec<u8> {
    let row = store.blob(id).await.expect("row").expect("stored");
    let mut out = Vec::new();
    let mut s = std::pin::pin!(store.read_blob(row, range));
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.expect("bytes"));
    }
    out
}

fn bid_with(org: &str, docs: Vec<Document>) -> Command {
    Command {
        actor: Actor::new(org, "bidder").expect("actor"),
        body: CommandBody::SubmitBid(SubmitBid {
            lot: None,
            content: bid(org, 100).into(),
            documents: docs,
        }),
    }
}

async fn counts(store: &Store) -> (i64, i64) {
    let mut out = [0i64; 2];
    for (i, table) in ["blobs", "blob_chunks"].iter().enumerate() {
        let row = store
            .connection()
            .query_one_raw(sea_orm::Statement::from_string(
                store.backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("row");
        out[i] = row.try_get::<i64>("", "n").expect("n");
    }
    (out[0], out[1])
}

/// Every byte the database holds in its document tables, and every file under `dir`.
async fn bytes_at_rest(store: &Store, dir: &std::path::Path) -> Vec<u8> {
    let mut all = Vec::new();
    for row in store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT data FROM blob_chunks".to_owned(),
        ))
        .await
        .expect("chunks")
    {
        all.extend(row.try_get::<Vec<u8>>("", "data").expect("data"));
    }
    for row in store
        .connection()
        .query_all_raw(sea_orm::Statement::from_string(
            store.backend(),
            "SELECT COALESCE(name, '') AS name, COALESCE(sealed_meta, '') AS meta FROM blobs"
                .to_owned(),
        ))
        .await
        .expect("blobs")
    {
        all.extend(
            row.try_get::<String>("", "name")
                .expect("name")
                .into_bytes(),
        );
        all.extend(
            row.try_get::<String>("", "meta")
                .expect("meta")
                .into_bytes(),
        );
    }
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                all.extend(std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    all
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn documents_are_sealed_checked_and_verified_on_both_backends() {
    for db in TestDb::all().await {
        for backend in ["database", "objects"] {
            let dir = TempDir::new("objects");
            let store = match backend {
                "database" => db.store.clone(),
                _ => Arc::new(
                    connect(&db.url, &db.master)
                        .await
                        .expect("store")
                        .with_blob_backend(Arc::new(
                            ObjectBlobs::directory(dir.path()).expect("dir"),
                        )),
                ),
            };
            let ctx = format!("[{} {backend}]", db.name);
            let tender = format!("T-doc-{backend}");
            let (t, at, _) = published(&store, &tender).await;

            // A public tender document with a Chinese name, published in an amendment.
            let public = pdf("RECRUITMENT-TERMS", 300_000);
            let doc = store
                .put_blob(
                    new_blob(&t, "staff-zhang", false, "招募文件.pdf"),
                    body(&public),
                )
                .await
                .expect("upload");
            assert_eq!(
                (doc.size, doc.name.as_str()),
                (300_000, "招募文件.pdf"),
                "{ctx}"
            );
            let amend = Command {
                actor: Actor::new("staff-zhang", "staff").expect("staff"),
                body: CommandBody::Amend(Amend {
                    text: "Recruitment documents attached".into(),
                    affects_bids: false,
                    new_deadline: None,
                    documents: vec![doc.clone()],
                }),
            };
            store
                .execute(
                    &t,
                    &format!("{backend}-{}", "amend-1"),
                    &amend,
                    at.plus_seconds(30),
                )
                .await
                .expect("amend");
            let (_, state) = store.load(&t).await.expect("load");
            assert_eq!(state.documents[0].document, doc, "{ctx}");
            assert_eq!(
                read_all(&store, &doc.id, 0..doc.size).await,
                public,
                "{ctx}"
            );
            assert_eq!(
                read_all(&store, &doc.id, 262_140..262_150).await,
                public[262_140..262_150],
                "{ctx}: a range across two frames"
            );

            // A sealed service plan: three frames, never readable at rest.
            let marker = format!("SECRET-PLAN-{}", tenderflow_testkit::unique());
            let plan = pdf(&marker, 600_000);
            let sealed = store
                .put_blob(new_blob(&t, "org-a", true, "服务方案.pdf"), body(&plan))
                .await
                .expect("sealed upload");
            let mut plan_doc = sealed.clone();
            plan_doc.slot = Some("servicePlan".into());
            let at_rest = bytes_at_rest(&store, dir.path()).await;
            assert!(
                !contains(&at_rest, marker.as_bytes()),
                "{ctx}: plaintext at rest"
            );
            assert!(
                !contains(&at_rest, "服务方案".as_bytes()),
                "{ctx}: a sealed file's name at rest"
            );
            // The database as an attacker copies it: SQLite's file and WAL, or pg_dump.
            let mut raw = Vec::new();
            if db.name == "sqlite" {
                for f in ["db.sqlite", "db.sqlite-wal"] {
                    raw.extend(std::fs::read(db.scratch.dir.path().join(f)).unwrap_or_default());
                }
                assert!(!raw.is_empty(), "{ctx}: the database file");
            } else {
                let dump = std::process::Command::new("pg_dump")
                    .arg(&db.url)
                    .output()
                    .expect("pg_dump (postgresql-client)");
                assert!(dump.status.success(), "{ctx}: pg_dump failed");
                raw = dump.stdout;
            }
            // pg_dump writes bytea as hex: look for both forms.
            let seen = |text: &str| {
                contains(&raw, text.as_bytes()) || contains(&raw, hex::encode(text).as_bytes())
            };
            assert!(!seen(&marker), "{ctx}: plaintext in the database");
            if backend == "database" {
                assert!(
                    seen("RECRUITMENT-TERMS"),
                    "{ctx}: the check sees stored bytes"
                );
            }

            // Another bidder cannot use org-a's upload; a wrong hash is refused; nothing is
            // written for either.
            let (_, before) = store.load(&t).await.expect("load");
            let stolen = store
                .execute(
                    &t,
                    &format!("{backend}-{}", "bid-b"),
                    &bid_with("org-b", vec![plan_doc.clone()]),
                    at.plus_seconds(60),
                )
                .await;
            assert!(
                matches!(&stolen, Err(StoreError::Rejected(r)) if r.code == RejectionCode::UnknownDocument),
                "{ctx}: {stolen:?}"
            );
            let mut forged = plan_doc.clone();
            forged.sha256 = "0".repeat(64);
            let wrong = store
                .execute(
                    &t,
                    &format!("{backend}-{}", "bid-a0"),
                    &bid_with("org-a", vec![forged]),
                    at.plus_seconds(61),
                )
                .await;
            assert!(
                matches!(&wrong, Err(StoreError::Rejected(r)) if r.code == RejectionCode::UnknownDocument),
                "{ctx}: {wrong:?}"
            );
            assert_eq!(
                store.load(&t).await.expect("load").1.seq,
                before.seq,
                "{ctx}"
            );

            // The real bid: its commitment covers the document.
            let done = store
                .execute(
                    &t,
                    &format!("{backend}-{}", "bid-a"),
                    &bid_with("org-a", vec![plan_doc.clone()]),
                    at.plus_seconds(62),
                )
                .await
                .expect("bid with its document");
            let (_, state) = store.load(&t).await.expect("load");
            let b = state.bids.values().next().expect("bid");
            assert_eq!(b.documents, vec![plan_doc.clone()], "{ctx}");
            assert_eq!(
                b.commitment,
                tenderflow_core::decide::bid_commitment(
                    &b.content,
                    &b.documents,
                    b.commitment_recipe
                ),
                "{ctx}"
            );
            assert_ne!(
                b.commitment,
                tenderflow_core::canonical::sha256_hex(&b.content),
                "{ctx}: the commitment covers the document"
            );
            assert!(!done.events.is_empty());
            assert_eq!(
                read_all(&store, &sealed.id, 0..sealed.size).await,
                plan,
                "{ctx}"
            );

            // Refused uploads keep nothing: too large, or not what the type says.
            let before = counts(&store).await;
            let mut small = new_blob(&t, "org-c", true, "big.pdf");
            small.max_bytes = 100_000;
            let big = store.put_blob(small, body(&pdf("x", 300_000))).await;
            assert!(
                matches!(&big, Err(StoreError::Rejected(r)) if r.code == RejectionCode::DocumentTooLarge),
                "{ctx}: {big:?}"
            );
            let fake = store
                .put_blob(
                    new_blob(&t, "staff-zhang", false, "fake.pdf"),
                    body(b"<html>not a pdf</html>"),
                )
                .await;
            assert!(
                matches!(&fake, Err(StoreError::Rejected(r)) if r.code == RejectionCode::DocumentTypeNotAllowed),
                "{ctx}: {fake:?}"
            );
            let cut = futures_util::stream::iter(vec![
                Ok(Bytes::from(pdf("y", 400_000))),
                Err(std::io::Error::other("connection reset")),
            ]);
            let cut = store
                .put_blob(new_blob(&t, "org-c", true, "cut.pdf"), cut)
                .await;
            assert!(matches!(cut, Err(StoreError::Upload(_))), "{ctx}: {cut:?}");
            assert_eq!(
                counts(&store).await,
                before,
                "{ctx}: refused uploads left rows"
            );

            // Verification: intact, then a missing file and an altered one, each named with
            // the event that references it.
            let report = store.verify(Some(&t)).await.expect("verify");
            assert!(
                report[0].problem.is_none(),
                "{ctx}: {:?}",
                report[0].problem
            );
            match backend {
                "database" => {
                    db.tamper(&format!(
                        "UPDATE blob_chunks SET data = {} WHERE blob_id = '{}' AND n = 1",
                        if db.name == "sqlite" {
                            "X'00'"
                        } else {
                            "'\\x00'::bytea"
                        },
                        sealed.id
                    ))
                    .await;
                }
                _ => {
                    let path = dir.path().join("documents").join(&sealed.id);
                    let mut bytes = std::fs::read(&path).expect("object");
                    bytes[300_000] ^= 1;
                    std::fs::write(&path, bytes).expect("alter");
                }
            }
            let report = store.verify(Some(&t)).await.expect("verify");
            assert!(
                matches!(&report[0].problem, Some(ChainProblem::Document { document, .. }) if *document == sealed.id),
                "{ctx}: {:?}",
                report[0].problem
            );
            db.tamper(&format!("DELETE FROM blobs WHERE blob_id = '{}'", doc.id))
                .await;
            let report = store.verify(Some(&t)).await.expect("verify");
            assert!(
                matches!(&report[0].problem, Some(ChainProblem::Document { document, seq, .. }) if *document == doc.id && *seq > 2),
                "{ctx}: {:?}",
                report[0].problem
            );
        }
    }
}

/// The object-storage backend on an S3-compatible server (moto): a sealed 12 MB dossier goes
/// up in several multipart parts and comes back whole and in ranges; the stored object is
/// ciphertext; verification reads it; the sweep removes an unused upload's object.
#[tokio::test]
async fn documents_live_in_s3_compatible_storage() {
    let Some(s3) = tenderflow_testkit::s3::S3::start() else {
        return;
    };
    let db = TestDb::sqlite().await;
    let bucket = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(&s3.endpoint)
        .with_allow_http(true)
        .with_bucket_name(&s3.bucket)
        .with_region("us-east-1")
        .with_access_key_id("test")
        .with_secret_access_key("test")
        .build()
        .expect("s3 client");
    let bucket: Arc<dyn object_store::ObjectStore> = Arc::new(bucket);
    let store = Arc::new(
        connect(&db.url, &db.master)
            .await
            .expect("store")
            .with_blob_backend(Arc::new(ObjectBlobs::new(bucket.clone()))),
    );
    let (t, at, _) = published(&store, "T-s3").await;
    let marker = "S3-SEALED-PLAN";
    let plan = pdf(marker, 12_000_000);
    let mut big = new_blob(&t, "org-a", true, "服务方案.pdf");
    big.max_bytes = 20_000_000;
    let mut doc = store
        .put_blob(big, body(&plan))
        .await
        .expect("upload to S3");
    doc.slot = Some("servicePlan".into());
    let object = bucket
        .get(&object_store::path::Path::from(format!(
            "documents/{}",
            doc.id
        )))
        .await
        .expect("object")
        .bytes()
        .await
        .expect("bytes");
    assert!(object.len() > plan.len(), "ciphertext with its tags");
    assert!(
        !contains(&object, marker.as_bytes()),
        "no plaintext in the bucket"
    );
    store
        .execute(
            &t,
            "s3-bid",
            &bid_with("org-a", vec![doc.clone()]),
            at.plus_seconds(60),
        )
        .await
        .expect("bid");
    assert_eq!(read_all(&store, &doc.id, 0..doc.size).await, plan);
    assert_eq!(
        read_all(&store, &doc.id, 5_242_000..5_243_000).await,
        plan[5_242_000..5_243_000]
    );
    let report = store.verify(Some(&t)).await.expect("verify");
    assert!(report[0].problem.is_none(), "{:?}", report[0].problem);
    // An upload no command used: swept with its object.
    let unused = store
        .put_blob(new_blob(&t, "org-b", true, "x.pdf"), body(&pdf("u", 1000)))
        .await
        .expect("upload");
    store.sweep_blobs(i64::MAX, -1).await.expect("sweep");
    assert!(store.blob(&unused.id).await.expect("row").is_none());
    let census = store.blob_census().await.expect("census");
    assert_eq!(census.get("unrecorded"), Some(&0), "{census:?}");
    assert_eq!(census.get("attached"), Some(&1), "{census:?}");
}
