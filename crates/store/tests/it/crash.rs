//! A writer killed with SIGKILL in the middle of 1,000 bid submissions loses no acknowledged
//! bid and leaves every chain verifiable.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use tenderflow_testkit::db::TestDb;

#[tokio::test]
async fn sigkill_mid_rush_loses_no_acknowledged_bid() {
    for db in TestDb::all().await {
        let key = db.master_hex.clone();
        let mut child = Command::new(env!("CARGO_BIN_EXE_tenderflow-store-bench"))
            .args([
                "crash-writer",
                "--url",
                &db.url,
                "--key",
                &key,
                "--bids",
                "1000",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the writer");
        let stdout = child.stdout.take().expect("stdout");
        let mut acked = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("line");
            if let Some(org) = line.strip_prefix("ACK ") {
                acked.push(org.to_owned());
            }
            if acked.len() == 300 {
                child.kill().expect("SIGKILL");
                break;
            }
        }
        child.wait().expect("reaped");
        assert_eq!(
            acked.len(),
            300,
            "[{}] the writer acknowledged bids before it was killed",
            db.name
        );

        let store = db.reopen().await;
        let (_, tender) = store.load("T-crash").await.expect("load after the crash");
        let bidders: std::collections::BTreeSet<&str> =
            tender.bids.keys().map(|k| k.bidder.as_str()).collect();
        for org in &acked {
            assert!(
                bidders.contains(org.as_str()),
                "[{}] acknowledged bid of {org} lost",
                db.name
            );
        }
        assert!(
            tender.bids.len() >= 300 && tender.bids.len() < 1000,
            "[{}] {}",
            db.name,
            tender.bids.len()
        );
        let reports = store.verify(None).await.expect("verify");
        assert!(
            reports.iter().all(|r| r.problem.is_none()),
            "[{}] {reports:?}",
            db.name
        );
        let events = store.verify(Some("T-crash")).await.expect("verify")[0].events;
        assert_eq!(
            events as usize,
            4 + tender.bids.len(),
            "[{}] no half-written command",
            db.name
        );
    }
}

/// A writer killed with SIGKILL in the middle of 2 MB uploads, on both backends: every
/// acknowledged document is there and reads back with its hash; what the cut-off upload
/// left is a `partial` row (never acknowledged), which the sweep removes with its bytes, and
/// no byte is left that no row explains.
#[tokio::test]
async fn sigkill_mid_upload_loses_no_acknowledged_document() {
    use futures_util::StreamExt;
    use sha2::Digest;
    for db in TestDb::all().await {
        for backend in ["database", "objects"] {
            let dir = tenderflow_testkit::TempDir::new("objects");
            let mut args = vec![
                "document-writer".to_owned(),
                "--url".to_owned(),
                db.url.clone(),
                "--key".to_owned(),
                db.master_hex.clone(),
                "--size".to_owned(),
                "2000000".to_owned(),
                "--tender".to_owned(),
                format!("T-docs-{backend}"),
            ];
            if backend == "objects" {
                args.extend(["--dir".to_owned(), dir.path().display().to_string()]);
            }
            let mut child = Command::new(env!("CARGO_BIN_EXE_tenderflow-store-bench"))
                .args(&args)
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("spawn the writer");
            let stdout = child.stdout.take().expect("stdout");
            let mut acked = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let line = line.expect("line");
                if let Some(rest) = line.strip_prefix("ACK ") {
                    let (id, sha) = rest.split_once(' ').expect("id and hash");
                    acked.push((id.to_owned(), sha.to_owned()));
                }
                if acked.len() == 5 {
                    // The sixth upload is under way.
                    std::thread::sleep(std::time::Duration::from_millis(30));
                    child.kill().expect("SIGKILL");
                    break;
                }
            }
            child.wait().expect("reaped");
            let ctx = format!("[{} {backend}]", db.name);
            assert_eq!(acked.len(), 5, "{ctx}");
            let store = match backend {
                "database" => db.reopen().await,
                _ => std::sync::Arc::new(
                    tenderflow_testkit::db::connect(&db.url, &db.master)
                        .await
                        .expect("reopen")
                        .with_blob_backend(std::sync::Arc::new(
                            tenderflow_store::ObjectBlobs::directory(dir.path()).expect("dir"),
                        )),
                ),
            };
            for (id, sha) in &acked {
                let row = store
                    .blob(id)
                    .await
                    .expect("row")
                    .unwrap_or_else(|| panic!("{ctx} acknowledged {id} lost"));
                assert_eq!(row.state, "stored", "{ctx}");
                let mut h = sha2::Sha256::new();
                let mut s = std::pin::pin!(store.read_blob(row.clone(), 0..row.size));
                while let Some(c) = s.next().await {
                    h.update(c.expect("bytes"));
                }
                assert_eq!(&hex::encode(h.finalize()), sha, "{ctx} {id}");
            }
            let census = store.blob_census().await.expect("census");
            assert_eq!(census.get("stored"), Some(&5), "{ctx} {census:?}");
            assert!(
                census.get("partial").copied().unwrap_or(0) <= 1,
                "{ctx} {census:?}"
            );
            assert_eq!(census.get("unrecorded"), Some(&0), "{ctx} {census:?}");
            // The sweep removes the cut-off upload and its bytes, and nothing acknowledged.
            store.sweep_blobs(-1, i64::MAX).await.expect("sweep");
            let census = store.blob_census().await.expect("census");
            assert_eq!(census.get("partial"), None, "{ctx} {census:?}");
            assert_eq!(census.get("stored"), Some(&5), "{ctx} {census:?}");
            assert_eq!(census.get("unrecorded"), Some(&0), "{ctx} {census:?}");
            db.tamper("DELETE FROM blobs").await;
            db.tamper("DELETE FROM blob_chunks").await;
        }
    }
}
