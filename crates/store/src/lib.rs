//! Tenderflow's persistence on sea-orm: an append-only, hash-chained event log per tender,
//! a projection of each tender's state, sealed (encrypted) bids, durable timers and a
//! transactional outbox. SQLite is the embedded default; PostgreSQL serves many processes.
//!
//! One transaction per command: the events, the projection, the timer and the outbox rows
//! commit together or not at all. Commands carry ids; repeating one returns the first result.
//!
//! The modules, one concern each: [`execute`] (commands and batches), [`workflows`],
//! [`accounts`], [`keys`] (master and data keys), [`reads`] (projection and event rows),
//! [`audit`] (verification, chain heads, OCDS), [`blobs`] (documents' files, streamed through
//! the database or object storage), [`timers`], [`outbox`], [`sessions`]
//! (registration, passwords, sessions, mailed links), [`subscriptions`], [`experts`] (the
//! expert pool, draft score sheets); `sql` builds every
//! statement with sea-query from the schema's identifiers.

pub mod accounts;
pub mod audit;
pub mod blobs;
mod cache;
pub use cache::CacheStats;
pub mod chain;
pub mod claims;
pub mod clock;
pub mod crypto;
mod error;
pub mod execute;
pub mod experts;
pub mod group;
pub mod keys;
mod lazy;
pub mod outbox;
pub mod reads;
pub mod registration;
pub mod request;
pub mod sessions;
mod sql;
pub mod subscriptions;
pub mod timers;
pub mod workflows;
mod writes;

pub use accounts::{Account, AccountField, AccountInfo, IssuedToken, TokenInfo, token_hash};
pub use audit::{AuditReport, PublishedHead};
pub use blobs::{BlobBackend, BlobRow, DatabaseBlobs, NewBlob, ObjectBlobs};
pub use error::{CryptoError, Result, StoreError};
pub use outbox::{AccountMail, Mail, OutboxRow, OutboxStatus, RecipientKind};
pub use reads::TenderRow;
pub use registration::{Registered, Registration};
pub use request::{Action, Executed, Request};
pub use sessions::{Credentials, Profile, Session, SignInAttempt};
pub use timers::{DueTimer, StuckTimer};
pub use workflows::WorkflowRecord;

use clock::{Clock, SystemClock};
use crypto::MasterKey;
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tenderflow_core::{Timestamp, Workflow};
use tenderflow_migrations::{Migrator, MigratorTrait};

/// The store's tuning values (every one configurable; see docs/OPERATIONS.md).
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Connections per process to PostgreSQL (SQLite always has one).
    pub max_connections: u32,
    /// PostgreSQL connections opened at start and kept open while idle (at most
    /// `max_connections`): a command never waits for a connection to be set up unless more
    /// than these are busy at once.
    pub min_connections: u32,
    /// How long SQLite waits for another process's write lock.
    pub busy_timeout: Duration,
    /// How long a worker holds a claimed timer before another may take it.
    pub timer_lease: Duration,
    /// Timers claimed per round.
    pub timer_batch: u64,
    /// Tender states kept in memory at most (the least recently used go first): enough for
    /// every active tender, far fewer than a database's finished ones.
    pub tender_cache: usize,
    /// Whether connecting brings the schema up to date or only checks that it is.
    pub schema: Schema,
}

/// What connecting does about the database's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schema {
    /// Applies every pending migration (`tenderflow migrate`, tests, benchmarks).
    #[default]
    Migrate,
    /// Refuses a database that is not a Tenderflow database yet (an empty file, say) with
    /// [`StoreError::NotInstalled`], and one with migrations pending with
    /// [`StoreError::SchemaOutdated`]: only `migrate` changes the schema.
    RequireCurrent,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            max_connections: 32,
            min_connections: 8,
            busy_timeout: Duration::from_secs(10),
            timer_lease: Duration::from_secs(30),
            timer_batch: 100,
            tender_cache: 512,
            schema: Schema::Migrate,
        }
    }
}

/// Opens `n` pooled PostgreSQL connections at once (sqlx would open them one after the
/// other, each a TLS handshake) and leaves them idle in the pool.
async fn warm_up(db: &DatabaseConnection, n: u32) -> Result<()> {
    let pool = db.get_postgres_connection_pool();
    let mut held = futures_util::future::try_join_all((0..n).map(|_| pool.acquire()))
        .await
        .map_err(|e| {
            StoreError::Db(sea_orm::DbErr::Conn(sea_orm::RuntimeErr::SqlxError(
                e.into(),
            )))
        })?;
    // Returned now, not by a task spawned on drop: the next acquire finds them idle.
    futures_util::future::join_all(held.iter_mut().map(|c| c.return_to_pool())).await;
    Ok(())
}

/// [`Schema::RequireCurrent`]: the database has Tenderflow's migrations table and no
/// migration is pending.
async fn require_current_schema(db: &DatabaseConnection) -> Result<()> {
    let manager = tenderflow_migrations::SchemaManager::new(db);
    if !manager.has_table("seaql_migrations").await? {
        return Err(StoreError::NotInstalled);
    }
    let pending: Vec<String> = Migrator::get_pending_migrations(db)
        .await?
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    if !pending.is_empty() {
        return Err(StoreError::SchemaOutdated { pending });
    }
    Ok(())
}

/// In-process write locks on PostgreSQL, tenders spread over them by hash: more than the
/// connections that could wait on them, so unrelated tenders rarely share one.
const TENDER_LOCKS: usize = 256;

/// The store. Cheap to share behind an `Arc`.
pub struct Store {
    db: DatabaseConnection,
    backend: DbBackend,
    master: MasterKey,
    chain_key: chain::ChainKey,
    clock: Arc<dyn Clock>,
    tuning: Tuning,
    workflows: RwLock<HashMap<String, Arc<Workflow>>>,
    /// Unwrapped data keys (a key is only cached after its row committed or was read).
    keys: RwLock<HashMap<String, [u8; 32]>>,
    /// The workflow each tender pins (it never changes).
    tender_workflows: RwLock<HashMap<String, String>>,
    cache: tokio::sync::Mutex<cache::TenderCache>,
    /// What replays have cost (shown on `/metrics`).
    replays: cache::ReplayCounts,
    /// Where new files' bytes go.
    blobs: Arc<dyn blobs::BlobBackend>,
    /// SQLite has one writer: commands queue here instead of failing with SQLITE_BUSY.
    write_gate: Option<tokio::sync::Mutex<()>>,
    /// PostgreSQL: this process's writers of one tender queue here (a tender hashes to one
    /// of these), so that they decide on the cached state one after the other instead of
    /// colliding and retrying. Empty on SQLite, whose write gate queues every writer.
    tender_locks: Vec<tokio::sync::Mutex<()>>,
    /// Tests: the next batches fail with a conflict, as a racing writer would make them.
    #[cfg(test)]
    forced_conflicts: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .field("tuning", &self.tuning)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// A short id of this installation (derived from its master key's check value, so it
    /// differs between databases and never changes for one): what makes Message-IDs unique
    /// beyond one database.
    pub fn installation_id(&self) -> String {
        self.master.check_value().chars().take(12).collect()
    }
}

impl Store {
    /// Connects with the default tuning on the system clock (see [`Store::connect_with`]).
    pub async fn connect(url: &str, master: MasterKey) -> Result<Self> {
        Self::connect_with(url, master, Arc::new(SystemClock), Tuning::default()).await
    }

    /// Connects, applies SQLite's durability settings, and brings the schema up to date.
    /// `clock` is the one clock of the process: commands, timers, mail and the times the
    /// store records all read it.
    ///
    /// SQLite URLs (`sqlite://path?mode=rwc`) get WAL, `synchronous=FULL` (an acknowledged
    /// command survives a power cut) and a busy timeout.
    pub async fn connect_with(
        url: &str,
        master: MasterKey,
        clock: Arc<dyn Clock>,
        tuning: Tuning,
    ) -> Result<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false);
        let sqlite = url.starts_with("sqlite:");
        // Connections opened before the first command: SQLite's one, PostgreSQL's minimum.
        let warm = if sqlite {
            let busy = tuning.busy_timeout;
            opts.max_connections(1).min_connections(1);
            opts.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(busy)
                    .foreign_keys(true)
            });
            0
        } else {
            let max = tuning.max_connections.max(1);
            let min = tuning.min_connections.min(max);
            // Setting up a connection costs a TLS handshake (about 90 ms through sqlx on a
            // loopback, where psql takes 20), so connections are opened before they are
            // needed and kept: a command that opened one would hold its tender's lock and
            // every bid queued behind it for that long. A connection in use is not pinged
            // before it is handed out (a round trip per command); one idle for a while is,
            // and one found broken is replaced when next needed. Nothing reaps or tops up the
            // pool in the background (sqlx's task would take idle connections out of the
            // pool while it looks at them, and a command would open another meanwhile).
            opts.max_connections(max)
                .idle_timeout(None)
                .max_lifetime(None)
                .test_before_acquire_if_idle_for(Duration::from_secs(30))
                .connect_lazy(true);
            min
        };
        let db = Database::connect(opts).await?;
        if warm > 0 {
            warm_up(&db, warm).await?;
        }
        let tender_cache = tuning.tender_cache;
        let backend = db.get_database_backend();
        match tuning.schema {
            Schema::Migrate => Migrator::up(&db, None).await?,
            Schema::RequireCurrent => require_current_schema(&db).await?,
        }
        let store = Self {
            db,
            backend,
            chain_key: chain::ChainKey::of(&master),
            master,
            clock,
            tuning,
            workflows: RwLock::new(HashMap::new()),
            tender_workflows: RwLock::new(HashMap::new()),
            keys: RwLock::new(HashMap::new()),
            cache: tokio::sync::Mutex::new(cache::TenderCache::new(tender_cache)),
            replays: cache::ReplayCounts::default(),
            blobs: Arc::new(blobs::DatabaseBlobs),
            write_gate: sqlite.then(|| tokio::sync::Mutex::new(())),
            tender_locks: if sqlite {
                Vec::new()
            } else {
                (0..TENDER_LOCKS)
                    .map(|_| tokio::sync::Mutex::new(()))
                    .collect()
            },
            #[cfg(test)]
            forced_conflicts: std::sync::atomic::AtomicUsize::new(0),
        };
        store.check_master_key().await?;
        Ok(store)
    }

    /// The process's clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The clock's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The clock's time in ms since the epoch (what the store's columns hold).
    pub(crate) fn now_ms(&self) -> i64 {
        self.clock.now().unix_millis()
    }

    /// The tender cache's figures: states kept, the bound, and what replays have cost.
    pub async fn cache_stats(&self) -> CacheStats {
        use std::sync::atomic::Ordering;
        CacheStats {
            tenders: self.cache.lock().await.len(),
            capacity: self.tuning.tender_cache,
            replays: self.replays.replays.load(Ordering::Relaxed),
            events_replayed: self.replays.events.load(Ordering::Relaxed),
            catch_ups: self.replays.catch_ups.load(Ordering::Relaxed),
            events_caught_up: self.replays.events_caught_up.load(Ordering::Relaxed),
        }
    }

    /// The tuning values in use.
    pub fn tuning(&self) -> &Tuning {
        &self.tuning
    }

    /// The backend in use.
    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// The database connection, for tests that play an attacker with database access and for
    /// the storage benchmark's raw ceiling; never for the application.
    #[cfg(any(test, feature = "testing"))]
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Queues writers on SQLite, which has one; a no-op on PostgreSQL.
    pub(crate) async fn gate(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_gate {
            Some(g) => Some(g.lock().await),
            None => None,
        }
    }

    /// Queues behind this process's other writers of the same tenders (PostgreSQL; a no-op
    /// on SQLite). The stripes are taken in ascending order, so two batches never wait on
    /// each other in a cycle.
    pub(crate) async fn lock_tenders<'a>(
        &self,
        tender_ids: impl Iterator<Item = &'a str>,
    ) -> Vec<tokio::sync::MutexGuard<'_, ()>> {
        let n = self.tender_locks.len();
        if n == 0 {
            return Vec::new();
        }
        let stripes: std::collections::BTreeSet<usize> =
            tender_ids.map(|t| group::lane_of(t, n)).collect();
        let mut held = Vec::with_capacity(stripes.len());
        for s in stripes {
            held.push(self.tender_locks[s].lock().await);
        }
        held
    }

    /// A write transaction. On SQLite it takes the write lock at BEGIN (IMMEDIATE), so a
    /// second process waits for the busy timeout instead of failing on lock upgrade.
    async fn begin_write(&self) -> std::result::Result<DatabaseTransaction, sea_orm::DbErr> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: (self.backend == DbBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        self.db.begin_with_options(opts).await
    }
}

#[cfg(test)]
mod tests;
