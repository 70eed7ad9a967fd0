//! Test databases: an SQLite file per test always, and a PostgreSQL database per test when
//! `TENDERFLOW_TEST_POSTGRES_URL` is set (`TENDERFLOW_TEST_REQUIRE_SERVICES=1` makes its
//! absence a failure).

use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;
use std::sync::Arc;
use tenderflow_core::scenario::{self, Params};
use tenderflow_core::{Actor, Command, CommandBody, Timestamp};
use tenderflow_store::Store;
use tenderflow_store::crypto::MasterKey;

pub struct TestDb {
    pub name: &'static str,
    pub url: String,
    pub store: Arc<Store>,
    pub master: MasterKey,
    pub master_hex: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Postgres { admin_url: String, db: String },
}

impl TestDb {
    /// A second store on the same database (another process, as far as caching goes).
    pub async fn reopen(&self) -> Arc<Store> {
        Arc::new(
            Store::connect(&self.url, self.master.clone())
                .await
                .expect("reopen"),
        )
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, db } => {
                let (admin_url, db) = (admin_url.clone(), db.clone());
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("rt");
                    rt.block_on(async {
                        if let Ok(conn) = Database::connect(&admin_url).await {
                            let _ = conn
                                .execute_unprepared(&format!(
                                    "DROP DATABASE IF EXISTS {db} WITH (FORCE)"
                                ))
                                .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

fn key() -> (MasterKey, String) {
    let hex_key =
        uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string();
    (MasterKey::from_hex(&hex_key).expect("key"), hex_key)
}

pub fn require_services() -> bool {
    std::env::var("TENDERFLOW_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

pub async fn sqlite() -> TestDb {
    let dir = std::env::temp_dir().join(format!("tenderflow-store-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("db.sqlite").display());
    let (master, master_hex) = key();
    let store = Arc::new(
        Store::connect(&url, master.clone())
            .await
            .expect("sqlite store"),
    );
    TestDb {
        name: "sqlite",
        url,
        store,
        master,
        master_hex,
        cleanup: Cleanup::Dir(dir),
    }
}

pub async fn postgres() -> Option<TestDb> {
    let Ok(admin_url) = std::env::var("TENDERFLOW_TEST_POSTGRES_URL") else {
        assert!(
            !require_services(),
            "TENDERFLOW_TEST_POSTGRES_URL is required in CI"
        );
        println!("skipped PostgreSQL: TENDERFLOW_TEST_POSTGRES_URL is not set");
        return None;
    };
    let db = format!("tf_test_{}", uuid::Uuid::new_v4().simple());
    let admin = Database::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {db}"))
        .await
        .expect("create database");
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    let url = format!("{base}/{db}");
    let (master, master_hex) = key();
    let store = Arc::new(
        Store::connect(&url, master.clone())
            .await
            .expect("postgres store"),
    );
    Some(TestDb {
        name: "postgres",
        url,
        store,
        master,
        master_hex,
        cleanup: Cleanup::Postgres { admin_url, db },
    })
}

/// SQLite, and PostgreSQL when available.
pub async fn all() -> Vec<TestDb> {
    let mut v = vec![sqlite().await];
    v.extend(postgres().await);
    v
}

pub fn workflow_bytes(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../workflows/{name}.json"));
    std::fs::read(path).expect("definition")
}

pub fn bid(org: &str, fee: i64) -> serde_json::Value {
    serde_json::json!({"organisation": org, "serviceArea": "sports_events", "servicePlan": "Weekly events for workers",
                       "freeOrDiscountedShare": 30, "feeMinor": fee})
}

pub fn submit(org: &str, fee: i64) -> Command {
    // The organisation's name in the bid; its account id is the name as an id.
    let id = org.to_lowercase().replace(' ', "-");
    Command {
        actor: Actor::new(&id, "bidder").expect("actor"),
        body: CommandBody::SubmitBid {
            lot: None,
            content: bid(org, fee).into(),
        },
    }
}

/// Runs raw SQL, as someone with database access would (tampering tests).
pub async fn raw(db: &TestDb, sql: &str) {
    db.store
        .connection()
        .execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Registers the shipped partner-recruitment definition.
pub async fn register_seed(store: &Store) -> tenderflow_store::WorkflowRecord {
    store
        .register_workflow(
            "partner-recruitment.json",
            &workflow_bytes("partner-recruitment"),
        )
        .await
        .expect("register")
}

/// `n` bids from `org-0`…, a second apart from a minute after `at`, with command ids
/// `{prefix}{i}`.
pub async fn bids(store: &Store, tender: &str, at: Timestamp, n: i64, prefix: &str) {
    for i in 0..n {
        store
            .execute(
                tender,
                &format!("{prefix}{i}"),
                &submit(&format!("org-{i}"), 100 + i),
                at.plus_seconds(60 + i),
            )
            .await
            .expect("bid");
    }
}

/// A published partner-recruitment tender with no bids: its id, the publish time and the
/// deadline.
pub async fn published(store: &Store, id: &str) -> (String, Timestamp, Timestamp) {
    let rec = register_seed(store).await;
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
