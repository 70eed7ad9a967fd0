//! Scratch databases: an SQLite file per test always, and a PostgreSQL database per test when
//! `TENDERFLOW_TEST_POSTGRES_URL` names a server (created, then dropped with `FORCE`).

use crate::{TempDir, master_key_hex, skip, unique};
use sea_orm::{ConnectionTrait, Database};
use std::sync::Arc;
use tenderflow_store::clock::SystemClock;
use tenderflow_store::crypto::MasterKey;
use tenderflow_store::{Store, Tuning};

/// An empty database for one test (and a directory beside it), dropped with it.
#[derive(Debug)]
pub struct Scratch {
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    /// Its URL.
    pub url: String,
    /// A directory for the test's files (the SQLite file, a data dir).
    pub dir: TempDir,
    /// The server's admin URL and the database's name, for PostgreSQL.
    pg: Option<(String, String)>,
}

impl Scratch {
    /// An SQLite file.
    pub fn sqlite() -> Self {
        let dir = TempDir::new("db");
        Self {
            name: "sqlite",
            url: format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("db.sqlite").display()
            ),
            dir,
            pg: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (a printed skip) without a server.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin) = std::env::var("TENDERFLOW_TEST_POSTGRES_URL") else {
            skip("PostgreSQL", "TENDERFLOW_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("tf_test_{}", unique());
        let conn = Database::connect(&admin)
            .await
            .expect("connect to PostgreSQL");
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        Some(Self {
            name: "postgres",
            url: format!("{base}/{name}"),
            dir: TempDir::new("db"),
            pg: Some((admin, name)),
        })
    }

    /// SQLite, and PostgreSQL when there is one.
    pub async fn all() -> Vec<Self> {
        let mut v = vec![Self::sqlite()];
        v.extend(Self::postgres().await);
        v
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop runs inside the test's runtime: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                if let Ok(conn) = Database::connect(&admin).await {
                    let _ = conn
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// A store with a small pool (PostgreSQL is shared by every test and allows 100 connections).
pub async fn connect(url: &str, master: &MasterKey) -> tenderflow_store::Result<Store> {
    let tuning = Tuning {
        max_connections: 4,
        min_connections: 1,
        ..Tuning::default()
    };
    Store::connect_with(url, master.clone(), Arc::new(SystemClock), tuning).await
}

/// A store on a scratch database with its own master key.
#[derive(Debug)]
pub struct TestDb {
    /// `sqlite` or `postgres`.
    pub name: &'static str,
    /// The database's URL.
    pub url: String,
    /// The store.
    pub store: Arc<Store>,
    /// Its master key.
    pub master: MasterKey,
    /// The same, as hex.
    pub master_hex: String,
    /// The database (dropped last).
    pub scratch: Scratch,
}

impl TestDb {
    async fn on(scratch: Scratch) -> Self {
        let master_hex = master_key_hex();
        let master = MasterKey::from_hex(&master_hex).expect("key");
        let store = Arc::new(
            connect(&scratch.url, &master)
                .await
                .unwrap_or_else(|e| panic!("{} store: {e}", scratch.name)),
        );
        Self {
            name: scratch.name,
            url: scratch.url.clone(),
            store,
            master,
            master_hex,
            scratch,
        }
    }

    /// A store on SQLite.
    pub async fn sqlite() -> Self {
        Self::on(Scratch::sqlite()).await
    }

    /// A store on PostgreSQL, or `None` (a printed skip) without a server.
    pub async fn postgres() -> Option<Self> {
        Some(Self::on(Scratch::postgres().await?).await)
    }

    /// Stores on SQLite, and on PostgreSQL when there is one.
    pub async fn all() -> Vec<Self> {
        let mut v = vec![Self::sqlite().await];
        v.extend(Self::postgres().await);
        v
    }

    /// A second store on the same database (another process, as far as caching goes).
    pub async fn reopen(&self) -> Arc<Store> {
        Arc::new(connect(&self.url, &self.master).await.expect("reopen"))
    }

    /// Runs raw SQL, as someone with database access would (tampering tests only).
    pub async fn tamper(&self, sql: &str) {
        self.store
            .connection()
            .execute_unprepared(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}
