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
