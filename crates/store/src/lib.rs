//! Tenderflow's persistence on sea-orm: an append-only, hash-chained event log per tender,
//! a projection of each tender's state, sealed (encrypted) bids, durable timers and a
//! transactional outbox. SQLite is the embedded default; PostgreSQL serves many processes.
//!
//! One transaction per command: the events, the projection, the timer and the outbox rows
//! commit together or not at all. Commands carry ids; repeating one returns the first result.

pub mod accounts;
pub mod chain;
pub mod clock;
pub mod crypto;
pub mod group;

use chain::{ChainProblem, EventRow};
use clock::Now;
use crypto::MasterKey;
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, FromQueryResult, QueryResult, SqlErr, SqliteTransactionMode, Statement,
    TransactionOptions, TransactionTrait, Value as SqlValue,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tenderflow_core::effects::Recipient;
use tenderflow_core::{Command, CommandBody, Event, Rejection, Tender, Timestamp, Workflow};
use tenderflow_migrations::{Migrator, MigratorTrait};

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The engine refused the command (a business rule); nothing was written.
    #[error("{0}")]
    Rejected(Rejection),
    /// Another writer appended first (stale sequence); retry with fresh state.
    #[error("conflict: tender `{0}` changed concurrently")]
    Conflict(String),
    /// No such tender, workflow or row.
    #[error("not found: {0}")]
    NotFound(String),
    /// A workflow definition is invalid, or clashes with a registered one.
    #[error("invalid workflow: {0}")]
    InvalidWorkflow(String),
    /// Encryption or keys.
    #[error("crypto: {0}")]
    Crypto(String),
    /// Stored data that cannot be read back (tampering or a bug).
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// Files.
    #[error("I/O: {0}")]
    Io(String),
    /// A tender's stored record fails verification (an altered, missing, inserted or
    /// reordered event, or a projection that disagrees with the events). Nothing is read
    /// from it or decided on top of it until an administrator restores it.
    #[error("integrity violation in tender `{tender_id}`: {problem}")]
    Integrity {
        /// The tender.
        tender_id: String,
        /// The first problem found.
        problem: ChainProblem,
    },
    /// An account's id, role, name, email or locale is not acceptable; nothing was written.
    #[error("invalid account: {0}")]
    InvalidAccount(String),
    /// A workflow named by a bare id that has several registered versions: the caller must
    /// name one (`id@version` or its SHA-256).
    #[error("workflow `{spec}` has several versions; name one of: {}", versions.join(", "))]
    AmbiguousWorkflow {
        /// What was asked for.
        spec: String,
        /// The candidates.
        versions: Vec<String>,
    },
    /// The master key does not belong to this database (its check value differs, or it
    /// cannot unwrap the tenders' keys). Nothing was read or written.
    #[error("the master key does not match this database: {0}")]
    WrongMasterKey(String),
    /// An idempotency key (command id) already used for another request: another body,
    /// method, path or tender. Nothing was written.
    #[error("command id `{command_id}` was already used for another request")]
    KeyReused {
        /// The command id.
        command_id: String,
    },
    /// The database.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

pub(crate) type R<T> = Result<T, StoreError>;

/// A registered workflow version.
#[derive(Debug, Clone, Serialize)]
pub struct WorkflowRecord {
    /// SHA-256 of the file.
    pub sha256: String,
    /// Definition id.
    pub definition_id: String,
    /// Version.
    pub version: String,
    /// File name it was registered from.
    pub file_name: String,
    /// Who registered it.
    pub registered_by: Option<String>,
    /// When, ms since the epoch.
    pub created_ms: i64,
    /// What it weakens against the previous version of the same definition (flagged to
    /// inspectors).
    pub weakened: Vec<tenderflow_core::compare::Weakening>,
}

/// What executing a command did.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The tender.
    pub tender_id: String,
    /// The events appended (or, for a repeated command id, appended the first time).
    pub events: Vec<(i64, Event)>,
    /// Whether the command id had been seen: nothing new was appended.
    pub repeated: bool,
    /// The tender's state afterwards.
    pub state: String,
    /// Outbox rows queued.
    pub queued_messages: usize,
}

/// A timer that fell due and was claimed by this worker.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DueTimer {
    /// Tender.
    pub tender_id: String,
    /// Timer kind.
    pub kind: String,
    /// Due time, ms.
    pub due_ms: i64,
    /// Failures so far (not business refusals).
    pub failures: i32,
}

/// A timer that failed to fire (see [`Store::fire_due_timers`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct StuckTimer {
    /// Tender.
    pub tender_id: String,
    /// Timer kind.
    pub kind: String,
    /// Due time, ms.
    pub due_ms: i64,
    /// Consecutive failures.
    pub failures: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// Not retried before this time, ms.
    pub claimed_until_ms: Option<i64>,
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct OutboxRow {
    /// Row id (stable: the Message-ID derives from it).
    pub id: i64,
    /// Tender.
    pub tender_id: String,
    /// The event that caused it.
    pub event_seq: i64,
    /// Message kind.
    pub message: String,
    /// Recipient account id.
    pub recipient_id: String,
    /// pending, sent or dead.
    pub status: String,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// The last error (the server's reply for dead letters).
    pub last_error: Option<String>,
}

/// A person or organisation that can act and receive mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct Account {
    /// Account id (the actor id in commands).
    pub id: String,
    /// Role.
    pub role: String,
    /// Display name.
    pub display_name: String,
    /// Email address.
    pub email: Option<String>,
    /// `zh-CN` or `en`.
    pub locale: String,
}

/// Verification result of one tender.
#[derive(Debug, Clone, Serialize)]
pub struct AuditReport {
    /// Tender.
    pub tender_id: String,
    /// Events checked.
    pub events: i64,
    /// The first problem, if any.
    pub problem: Option<ChainProblem>,
}

/// A chain head published outside the database: the hash of event `seq` of a tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PublishedHead {
    /// Tender.
    pub tender: String,
    /// Event number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// One command of a batch.
#[derive(Debug, Clone)]
pub struct Request {
    /// Tender.
    pub tender_id: String,
    /// For `create_draft`: the workflow (SHA-256 or id) the new tender pins.
    pub create: Option<String>,
    /// Idempotency key.
    pub command_id: String,
    /// The command.
    pub command: Command,
    /// The time it is decided at, read once the tender is locked.
    pub now: Now,
    /// What the command id was issued for (e.g. SHA-256 of method, path and body): a later
    /// command with the same id and another fingerprint is refused with
    /// [`StoreError::KeyReused`] instead of being answered with the first result.
    pub fingerprint: Option<String>,
}

impl Request {
    /// A command on an existing tender at a time, with no fingerprint.
    pub fn new(tender_id: &str, command_id: &str, command: Command, now: impl Into<Now>) -> Self {
        Self {
            tender_id: tender_id.to_owned(),
            create: None,
            command_id: command_id.to_owned(),
            command,
            now: now.into(),
            fingerprint: None,
        }
    }
}

/// A tender touched by a batch, with the state the batch has built so far.
struct Pending {
    wf: Arc<Workflow>,
    tender: Tender,
    base_timer: Option<(tenderflow_core::definition::TimerName, Timestamp)>,
    base_seq: i64,
    seq: i64,
    hash: String,
    created: bool,
    /// The tender's data key as this transaction sees it; it enters the store's key cache
    /// only after the transaction commits.
    key: Option<[u8; 32]>,
}

#[derive(Clone)]
struct Cached {
    seq: i64,
    hash: String,
    tender: Tender,
}

/// The store. Cheap to share behind an `Arc`.
pub struct Store {
    db: DatabaseConnection,
    backend: DbBackend,
    master: MasterKey,
    chain_key: chain::ChainKey,
    workflows: RwLock<HashMap<String, Arc<Workflow>>>,
    /// Unwrapped data keys (a key is only cached after its row committed or was read).
    keys: RwLock<HashMap<String, [u8; 32]>>,
    /// The workflow each tender pins (it never changes).
    tender_workflows: RwLock<HashMap<String, String>>,
    cache: tokio::sync::Mutex<HashMap<String, Cached>>,
    /// SQLite has one writer: commands queue here instead of failing with SQLITE_BUSY.
    write_gate: Option<tokio::sync::Mutex<()>>,
    /// Tests: the next batches fail with a conflict, as a racing writer would make them.
    #[cfg(test)]
    forced_conflicts: std::sync::atomic::AtomicUsize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

pub(crate) fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: &str) -> R<T> {
    row.try_get::<T>("", col).map_err(StoreError::Db)
}

impl Store {
    /// Connects, applies SQLite's durability settings, and brings the schema up to date.
    ///
    /// SQLite URLs (`sqlite://path?mode=rwc`) get WAL, `synchronous=FULL` (an acknowledged
    /// command survives a power cut) and a busy timeout.
    pub async fn connect(url: &str, master: MasterKey) -> R<Self> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false);
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            opts.max_connections(1).min_connections(1);
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(std::time::Duration::from_secs(10))
                    .foreign_keys(true)
            });
        } else {
            opts.max_connections(32);
        }
        let db = Database::connect(opts).await?;
        let backend = db.get_database_backend();
        Migrator::up(&db, None).await?;
        let store = Self {
            db,
            backend,
            chain_key: chain::ChainKey::of(&master),
            master,
            workflows: RwLock::new(HashMap::new()),
            tender_workflows: RwLock::new(HashMap::new()),
            keys: RwLock::new(HashMap::new()),
            cache: tokio::sync::Mutex::new(HashMap::new()),
            write_gate: sqlite.then(|| tokio::sync::Mutex::new(())),
            #[cfg(test)]
            forced_conflicts: std::sync::atomic::AtomicUsize::new(0),
        };
        store.check_master_key().await?;
        Ok(store)
    }

    /// Refuses a master key that is not this database's: compares the stored check value,
    /// or, in a database that predates it, tries the key on a stored tender key; then
    /// records the check value.
    async fn check_master_key(&self) -> R<()> {
        let expected = self.master.check_value();
        let stored = self
            .db
            .query_one_raw(self.stmt(
                "SELECT value FROM settings WHERE name = 'master_key_check'",
                vec![],
            ))
            .await?;
        if let Some(row) = stored {
            let value: String = get(&row, "value")?;
            if value == expected {
                return Ok(());
            }
            return Err(StoreError::WrongMasterKey(
                "its check value differs from the one recorded when the database was set up. Use the key this database was created with (TENDERFLOW_MASTER_KEY or <data-dir>/master.key from your backup), and check --data-dir and TENDERFLOW_DATABASE_URL".into(),
            ));
        }
        let sample = self
            .db
            .query_one_raw(self.stmt(
                "SELECT tender_id, wrapped_key FROM tender_keys ORDER BY tender_id LIMIT 1",
                vec![],
            ))
            .await?;
        if let Some(row) = sample {
            let tender: String = get(&row, "tender_id")?;
            let wrapped: String = get(&row, "wrapped_key")?;
            if self.master.unwrap(&tender, &wrapped).is_err() {
                return Err(StoreError::WrongMasterKey(format!(
                    "it cannot open the sealed-bid key of tender `{tender}`. Use the key this database was created with"
                )));
            }
        }
        let insert = self.db.execute_raw(self.stmt(
            "INSERT INTO settings (name, value) VALUES ('master_key_check', ?)",
            vec![expected.into()],
        ));
        match insert.await {
            Ok(_) => Ok(()),
            // Another process recorded it first: check again against what it wrote.
            Err(e) if is_unique_violation(&e) => Box::pin(self.check_master_key()).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the store can serve: the database answers, every migration is applied and the
    /// master key is the one the database was set up with. The problem, for `/ready`.
    pub async fn readiness(&self) -> Result<(), String> {
        let pending = Migrator::get_pending_migrations(&self.db)
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        if !pending.is_empty() {
            return Err(format!(
                "{} migration(s) pending: run `tenderflow migrate`",
                pending.len()
            ));
        }
        let stored = self
            .db
            .query_one_raw(self.stmt(
                "SELECT value FROM settings WHERE name = 'master_key_check'",
                vec![],
            ))
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        let value: Option<String> = stored.and_then(|r| get(&r, "value").ok());
        if value.as_deref() != Some(self.master.check_value().as_str()) {
            return Err("the master key is not this database's".into());
        }
        Ok(())
    }

    /// Queues writers on SQLite, which has one; a no-op on PostgreSQL.
    pub(crate) async fn gate(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match &self.write_gate {
            Some(g) => Some(g.lock().await),
            None => None,
        }
    }

    /// A write transaction. On SQLite it takes the write lock at BEGIN (IMMEDIATE), so a
    /// second process waits for the busy timeout instead of failing on lock upgrade.
    async fn begin_write(&self) -> R<DatabaseTransaction> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: (self.backend == DbBackend::Sqlite)
                .then_some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        Ok(self.db.begin_with_options(opts).await?)
    }

    /// The database connection (for tests and administration).
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// The backend in use.
    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// A statement with `?` placeholders, rewritten to `$n` for PostgreSQL.
    pub fn stmt(&self, sql: &str, values: Vec<SqlValue>) -> Statement {
        let sql = if self.backend == DbBackend::Postgres {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for ch in sql.chars() {
                if ch == '?' {
                    n += 1;
                    out.push('$');
                    out.push_str(&n.to_string());
                } else {
                    out.push(ch);
                }
            }
            out
        } else {
            sql.to_owned()
        };
        Statement::from_sql_and_values(self.backend, sql, values)
    }

    // ---- workflows ------------------------------------------------------------------------

    /// Validates and registers a definition (see [`Store::register_workflow_by`]), by an
    /// unnamed administrator.
    pub async fn register_workflow(&self, file_name: &str, bytes: &[u8]) -> R<WorkflowRecord> {
        self.register_workflow_by(file_name, bytes, None).await
    }

    /// Validates and registers a definition version, recording who registered it and what
    /// it weakens against the newest version of the same definition (gates, periods,
    /// committee rules; logged as a warning and shown to inspectors). Identical content
    /// again is a no-op; different content under a registered id and version is refused.
    pub async fn register_workflow_by(
        &self,
        file_name: &str,
        bytes: &[u8],
        registered_by: Option<&str>,
    ) -> R<WorkflowRecord> {
        let wf = tenderflow_core::load(file_name, bytes)
            .map_err(|e| StoreError::InvalidWorkflow(e.to_string()))?;
        let d = wf.definition();
        let existing = self
            .db
            .query_one_raw(self.stmt(
                "SELECT sha256 FROM workflows WHERE definition_id = ? AND version = ?",
                vec![d.id.clone().into(), d.version.clone().into()],
            ))
            .await?;
        if let Some(row) = existing {
            let sha: String = get(&row, "sha256")?;
            if sha == wf.sha256() {
                return self
                    .workflows()
                    .await?
                    .into_iter()
                    .find(|w| w.sha256 == sha)
                    .ok_or_else(|| StoreError::NotFound(format!("workflow {sha}")));
            }
            return Err(StoreError::InvalidWorkflow(format!(
                "{} {} is already registered with other content (sha256 {sha}); give the new content a new version",
                d.id, d.version
            )));
        }
        let previous = self
            .workflows()
            .await?
            .into_iter()
            .find(|w| w.definition_id == d.id);
        let weakened = match &previous {
            Some(p) => {
                let old = self.workflow(&p.sha256).await?;
                tenderflow_core::compare::weakenings(old.definition(), d)
            }
            None => Vec::new(),
        };
        if !weakened.is_empty() {
            tracing::warn!(definition = %d.id, version = %d.version, weakened = ?weakened, "a new definition version weakens the one it replaces; flagged to inspectors");
        }
        let content = String::from_utf8(bytes.to_vec())
            .map_err(|e| StoreError::InvalidWorkflow(e.to_string()))?;
        let record = WorkflowRecord {
            sha256: wf.sha256().to_owned(),
            definition_id: d.id.clone(),
            version: d.version.clone(),
            file_name: file_name.to_owned(),
            registered_by: registered_by.map(str::to_owned),
            created_ms: now_ms(),
            weakened,
        };
        let weakened_json = serde_json::to_string(&record.weakened)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let insert = self.db.execute_raw(self.stmt(
            "INSERT INTO workflows (sha256, definition_id, version, file_name, content, created_ms, registered_by, weakened) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                record.sha256.clone().into(),
                record.definition_id.clone().into(),
                record.version.clone().into(),
                file_name.into(),
                content.into(),
                record.created_ms.into(),
                record.registered_by.clone().into(),
                weakened_json.into(),
            ],
        ));
        match insert.await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        self.cache_workflow(Arc::new(wf));
        Ok(record)
    }

    /// The workflow a new tender runs on, named exactly: a SHA-256, `id@version`, or a bare
    /// id only when exactly one version of it is registered (a tender never silently gets
    /// whichever version is newest).
    pub async fn workflow_exact(&self, spec: &str) -> R<Arc<Workflow>> {
        let all = self.workflows().await?;
        let found: Vec<&WorkflowRecord> = match spec.split_once('@') {
            Some((id, version)) => all
                .iter()
                .filter(|w| w.definition_id == id && w.version == version)
                .collect(),
            None => all
                .iter()
                .filter(|w| w.sha256 == spec || w.definition_id == spec)
                .collect(),
        };
        match found.as_slice() {
            [one] => self.workflow(&one.sha256).await,
            [] => Err(StoreError::NotFound(format!("workflow `{spec}`"))),
            many => Err(StoreError::AmbiguousWorkflow {
                spec: spec.to_owned(),
                versions: many
                    .iter()
                    .map(|w| format!("{}@{} ({})", w.definition_id, w.version, w.sha256))
                    .collect(),
            }),
        }
    }

    fn cache_workflow(&self, wf: Arc<Workflow>) {
        if let Ok(mut map) = self.workflows.write() {
            map.insert(wf.sha256().to_owned(), wf);
        }
    }

    /// Registered workflows, newest first, with who registered them and what they weaken.
    pub async fn workflows(&self) -> R<Vec<WorkflowRecord>> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT sha256, definition_id, version, file_name, registered_by, created_ms, weakened FROM workflows ORDER BY created_ms DESC, definition_id",
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                let weakened: Option<String> = get(r, "weakened")?;
                Ok(WorkflowRecord {
                    sha256: get(r, "sha256")?,
                    definition_id: get(r, "definition_id")?,
                    version: get(r, "version")?,
                    file_name: get(r, "file_name")?,
                    registered_by: get(r, "registered_by")?,
                    created_ms: get(r, "created_ms")?,
                    weakened: weakened
                        .and_then(|w| serde_json::from_str(&w).ok())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The workflow with this SHA-256, or the newest version of this definition id.
    pub async fn workflow(&self, sha_or_id: &str) -> R<Arc<Workflow>> {
        self.workflow_in(&self.db, sha_or_id).await
    }

    /// [`Store::workflow`] read through `conn` (inside a write transaction, never through a
    /// second connection: SQLite has one). The stored content must hash to the SHA-256 it
    /// is registered under; a tampered or corrupted row is refused, never served.
    async fn workflow_in<C: ConnectionTrait>(&self, conn: &C, sha_or_id: &str) -> R<Arc<Workflow>> {
        if let Some(wf) = self
            .workflows
            .read()
            .ok()
            .and_then(|m| m.get(sha_or_id).cloned())
        {
            return Ok(wf);
        }
        let row = conn
            .query_one_raw(self.stmt(
                "SELECT sha256, file_name, content FROM workflows WHERE sha256 = ? OR definition_id = ? ORDER BY created_ms DESC",
                vec![sha_or_id.into(), sha_or_id.into()],
            ))
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("workflow `{sha_or_id}`")))?;
        let pinned: String = get(&row, "sha256")?;
        let file: String = get(&row, "file_name")?;
        let content: String = get(&row, "content")?;
        let actual = hex::encode(Sha256::digest(content.as_bytes()));
        if actual != pinned {
            tracing::error!(workflow = %pinned, actual = %actual, "workflow row does not match its hash");
            return Err(StoreError::Corrupt(format!(
                "workflow {pinned} ({file}): the stored content hashes to {actual}; the row was altered or corrupted. Restore it from a backup or re-register the original file"
            )));
        }
        let wf = Arc::new(
            tenderflow_core::load(&file, content.as_bytes())
                .map_err(|e| StoreError::Corrupt(format!("workflow {pinned} ({file}): {e}")))?,
        );
        if wf.sha256() != pinned {
            return Err(StoreError::Corrupt(format!(
                "workflow {pinned} ({file}) loads as {}",
                wf.sha256()
            )));
        }
        self.cache_workflow(wf.clone());
        Ok(wf)
    }

    /// An account by id.
    pub async fn account(&self, id: &str) -> R<Option<Account>> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT id, role, display_name, email, locale FROM accounts WHERE id = ?",
                vec![id.into()],
            ))
            .await?;
        row.map(|r| decode_row::<Account>(&r)).transpose()
    }

    // ---- commands -------------------------------------------------------------------------

    /// Creates a tender from a registered workflow (by SHA-256 or id) with a `create_draft`
    /// command.
    pub async fn create_tender(
        &self,
        workflow: &str,
        command_id: &str,
        command: &Command,
        now: impl Into<Now>,
    ) -> R<Executed> {
        let CommandBody::CreateDraft { tender_id } = &command.body else {
            return Err(StoreError::Rejected(Rejection::new(
                tenderflow_core::RejectionCode::InvalidInput,
                "a tender is created with a create_draft command",
            )));
        };
        let wf = self.workflow_exact(workflow).await?;
        let mut request = Request::new(tender_id, command_id, command.clone(), now);
        request.create = Some(wf.sha256().to_owned());
        self.execute_request(request).await
    }

    /// Executes a command on an existing tender: decide, then append the events, update the
    /// projection, set the timer and queue the messages in one transaction. Retries a few
    /// times when another writer got there first, so an update is never lost.
    pub async fn execute(
        &self,
        tender_id: &str,
        command_id: &str,
        command: &Command,
        now: impl Into<Now>,
    ) -> R<Executed> {
        self.execute_request(Request::new(tender_id, command_id, command.clone(), now))
            .await
    }

    /// Executes one request (a command with its id, time and fingerprint) in its own
    /// transaction.
    pub async fn execute_request(&self, request: Request) -> R<Executed> {
        let tender_id = request.tender_id.clone();
        let mut results = self.execute_batch(std::slice::from_ref(&request)).await?;
        results
            .pop()
            .unwrap_or_else(|| Err(StoreError::NotFound(tender_id)))
    }

    /// Executes several commands in one transaction (group commit): each is decided against
    /// the state the ones before it left, a rejected one writes nothing, a repeated command
    /// id is answered with its first result, and none is acknowledged before the single
    /// commit. A conflict with another writer fails the whole batch, which is then retried;
    /// the write gate is never held while waiting to retry.
    pub async fn execute_batch(&self, requests: &[Request]) -> R<Vec<R<Executed>>> {
        // Load workflows before the transaction: SQLite has a single connection.
        for r in requests {
            if let Some(sha) = &r.create {
                self.workflow(sha).await?;
            } else {
                self.preload_workflow(&r.tender_id).await?;
            }
        }
        let mut attempt = 0;
        loop {
            let result = {
                let _gate = self.gate().await;
                self.try_batch(requests).await
            };
            match result {
                Err(StoreError::Conflict(t)) if attempt < 8 => {
                    attempt += 1;
                    self.cache.lock().await.remove(&t);
                    tokio::time::sleep(std::time::Duration::from_millis(2 << attempt.min(6))).await;
                }
                other => return other,
            }
        }
    }

    /// Caches the workflow a tender pins, so that the write transaction finds it in memory.
    async fn preload_workflow(&self, tender_id: &str) -> R<()> {
        let known = self
            .tender_workflows
            .read()
            .ok()
            .and_then(|m| m.get(tender_id).cloned());
        let sha = match known {
            Some(sha) => Some(sha),
            None => self.tender_row(tender_id).await?.map(|h| h.workflow_sha256),
        };
        if let Some(sha) = sha {
            let wf = self.workflow(&sha).await?;
            if let Ok(mut m) = self.tender_workflows.write() {
                m.insert(tender_id.to_owned(), wf.sha256().to_owned());
            }
        }
        Ok(())
    }

    /// The first result of a command id already recorded (read inside `txn`), or
    /// [`StoreError::KeyReused`] when it was recorded for another request.
    async fn repeated_in(
        &self,
        txn: &DatabaseTransaction,
        open: &HashMap<String, Pending>,
        r: &Request,
    ) -> R<Option<R<Executed>>> {
        let Some(row) = txn
            .query_one_raw(self.stmt(
                "SELECT tender_id, first_seq, last_seq, fingerprint FROM commands WHERE command_id = ?",
                vec![r.command_id.clone().into()],
            ))
            .await?
        else {
            return Ok(None);
        };
        let tender_id: String = get(&row, "tender_id")?;
        let first: i64 = get(&row, "first_seq")?;
        let last: i64 = get(&row, "last_seq")?;
        let fingerprint: Option<String> = get(&row, "fingerprint")?;
        if tender_id != r.tender_id || fingerprint != r.fingerprint {
            return Ok(Some(Err(StoreError::KeyReused {
                command_id: r.command_id.clone(),
            })));
        }
        let key = match open.get(&tender_id).and_then(|p| p.key) {
            Some(k) => Some(k),
            None => self.data_key_ro(txn, &tender_id).await?,
        };
        let events = self
            .rows_in(txn, &tender_id, first, last)
            .await?
            .iter()
            .map(|row| Ok((row.seq, chain::decode(row, key.as_ref())?)))
            .collect::<R<Vec<_>>>()?;
        let state = match open.get(&tender_id) {
            Some(p) => p.tender.state.clone(),
            None => self
                .tender_row_in(txn, &tender_id)
                .await?
                .map(|t| t.state)
                .unwrap_or_default(),
        };
        Ok(Some(Ok(Executed {
            tender_id,
            events,
            repeated: true,
            state,
            queued_messages: 0,
        })))
    }

    async fn try_batch(&self, requests: &[Request]) -> R<Vec<R<Executed>>> {
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering;
            let forced = &self.forced_conflicts;
            if forced
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let t = requests.first().map(|r| r.tender_id.clone());
                return Err(StoreError::Conflict(t.unwrap_or_default()));
            }
        }
        let txn = self.begin_write().await?;
        let mut open: HashMap<String, Pending> = HashMap::new();
        let mut results = Vec::with_capacity(requests.len());
        for r in requests {
            // A command id seen before (in an earlier transaction or earlier in this batch)
            // is answered with its first result; it never fails the batch.
            if let Some(first) = self.repeated_in(&txn, &open, r).await? {
                results.push(first);
                continue;
            }
            results.push(self.step(&txn, &mut open, r).await?);
        }
        for (tender_id, p) in &open {
            if p.seq == p.base_seq {
                continue;
            }
            let deadline = p.tender.deadline.map(Timestamp::unix_millis);
            let updated = p.tender.last_at.map_or(0, Timestamp::unix_millis);
            if p.created {
                txn.execute_raw(self.stmt(
                    "INSERT INTO tenders (tender_id, workflow_sha256, state, seq, last_hash, deadline_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    vec![tender_id.clone().into(), p.wf.sha256().into(), p.tender.state.clone().into(), p.seq.into(), p.hash.clone().into(), deadline.into(), updated.into()],
                ))
                .await
                .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(tender_id.clone()) } else { e.into() })?;
            } else {
                let res = txn
                    .execute_raw(self.stmt(
                        "UPDATE tenders SET state = ?, seq = ?, last_hash = ?, deadline_ms = ?, updated_ms = ? WHERE tender_id = ? AND seq = ?",
                        vec![p.tender.state.clone().into(), p.seq.into(), p.hash.clone().into(), deadline.into(), updated.into(), tender_id.clone().into(), p.base_seq.into()],
                    ))
                    .await?;
                if res.rows_affected() != 1 {
                    return Err(StoreError::Conflict(tender_id.clone()));
                }
            }
            // The timer of the new state replaces the old one (most commands leave it alone).
            let timer = tenderflow_core::next_timer(&p.wf, &p.tender);
            if timer == p.base_timer && !p.created {
                continue;
            }
            txn.execute_raw(self.stmt(
                "DELETE FROM timers WHERE tender_id = ?",
                vec![tender_id.clone().into()],
            ))
            .await?;
            if let Some((kind, due)) = timer {
                txn.execute_raw(self.stmt(
                    "INSERT INTO timers (tender_id, kind, due_ms) VALUES (?, ?, ?)",
                    vec![
                        tender_id.clone().into(),
                        kind.as_str().into(),
                        due.unix_millis().into(),
                    ],
                ))
                .await?;
            }
        }
        txn.commit().await?;
        // Only now, after the commit, may what the transaction read or made enter a cache.
        let mut cache = self.cache.lock().await;
        for (tender_id, p) in open {
            if let (Some(k), Ok(mut keys)) = (p.key, self.keys.write()) {
                keys.insert(tender_id.clone(), k);
            }
            cache.insert(
                tender_id,
                Cached {
                    seq: p.seq,
                    hash: p.hash,
                    tender: p.tender,
                },
            );
        }
        Ok(results)
    }

    /// Decides one command inside a batch and writes its events, command record and outbox
    /// rows; the projection and timer are written once per tender at the end of the batch.
    async fn step(
        &self,
        txn: &DatabaseTransaction,
        open: &mut HashMap<String, Pending>,
        r: &Request,
    ) -> R<R<Executed>> {
        if !open.contains_key(&r.tender_id) {
            let head = self.lock_tender(txn, &r.tender_id).await?;
            let pending = match (&r.create, head) {
                (Some(sha), None) => Pending {
                    wf: self.workflow_in(txn, sha).await?,
                    tender: Tender::default(),
                    base_timer: None,
                    base_seq: 0,
                    seq: 0,
                    hash: chain::GENESIS.to_owned(),
                    created: true,
                    key: None,
                },
                (Some(_), Some(_)) => {
                    return Ok(Err(StoreError::Rejected(Rejection::new(
                        tenderflow_core::RejectionCode::AlreadyExists,
                        format!("tender `{}` already exists", r.tender_id),
                    ))));
                }
                (None, None) => {
                    return Ok(Err(StoreError::NotFound(format!(
                        "tender `{}`",
                        r.tender_id
                    ))));
                }
                (None, Some(h)) => {
                    let wf = self.workflow_in(txn, &h.workflow_sha256).await?;
                    let tender = self.state_at(txn, &h).await?;
                    Pending {
                        base_timer: tenderflow_core::next_timer(&wf, &tender),
                        wf,
                        tender,
                        base_seq: h.seq,
                        seq: h.seq,
                        hash: h.last_hash,
                        created: false,
                        key: None,
                    }
                }
            };
            open.insert(r.tender_id.clone(), pending);
        }
        let Some(p) = open.get_mut(&r.tender_id) else {
            return Err(StoreError::NotFound(r.tender_id.clone()));
        };
        // The time is read now that the tender is locked (PostgreSQL: FOR UPDATE; SQLite:
        // the write gate and an IMMEDIATE transaction), so commands on one tender are decided
        // in commit order and a valid command never meets `clock_regression` for a race.
        let now = r.now.read();
        let events = match tenderflow_core::decide(&p.wf, &p.tender, &r.command, now) {
            Ok(events) => events,
            Err(rejection) => return Ok(Err(StoreError::Rejected(rejection))),
        };
        let needs_key = events.iter().any(|e| {
            matches!(
                e.body,
                tenderflow_core::EventBody::BidSubmitted { .. }
                    | tenderflow_core::EventBody::BidReplaced { .. }
            )
        });
        if needs_key && p.key.is_none() {
            p.key = Some(self.data_key(txn, &r.tender_id).await?);
        }
        let first = p.seq + 1;
        let mut appended = Vec::with_capacity(events.len());
        for e in &events {
            let row = chain::encode(
                &r.tender_id,
                p.seq + 1,
                &r.command_id,
                e,
                &p.hash,
                p.key.as_ref(),
                &self.chain_key,
            )?;
            self.insert_event(txn, &row).await?;
            p.seq = row.seq;
            p.hash = row.hash;
            p.tender = tenderflow_core::apply(std::mem::take(&mut p.tender), e);
            appended.push((p.seq, e.clone()));
        }
        txn.execute_raw(self.stmt(
            "INSERT INTO commands (command_id, tender_id, first_seq, last_seq, created_ms, fingerprint) VALUES (?, ?, ?, ?, ?, ?)",
            vec![r.command_id.clone().into(), r.tender_id.clone().into(), first.into(), p.seq.into(), now_ms().into(), r.fingerprint.clone().into()],
        ))
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(r.tender_id.clone()) } else { e.into() })?;
        let queued = self
            .queue(txn, &r.tender_id, first - 1, &p.wf, &p.tender, &events)
            .await?;
        Ok(Ok(Executed {
            tender_id: r.tender_id.clone(),
            events: appended,
            repeated: false,
            state: p.tender.state.clone(),
            queued_messages: queued,
        }))
    }

    async fn insert_event(&self, txn: &DatabaseTransaction, row: &EventRow) -> R<()> {
        txn.execute_raw(self.stmt(
            "INSERT INTO events (tender_id, seq, command_id, actor_id, actor_role, at_ms, kind, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            vec![
                row.tender_id.clone().into(),
                row.seq.into(),
                row.command_id.clone().into(),
                row.actor_id.clone().into(),
                row.actor_role.clone().into(),
                row.at_ms.into(),
                row.kind.clone().into(),
                row.payload.clone().into(),
                row.prev_hash.clone().into(),
                row.hash.clone().into(),
            ],
        ))
        .await
        .map_err(|e| if is_unique_violation(&e) { StoreError::Conflict(row.tender_id.clone()) } else { e.into() })?;
        Ok(())
    }

    /// Appends already-decided events at `expected_seq` (the optimistic-concurrency primitive
    /// under `execute`): fails with [`StoreError::Conflict`] when the tender has moved on.
    pub async fn append(
        &self,
        tender_id: &str,
        expected_seq: i64,
        command_id: &str,
        events: &[Event],
    ) -> R<i64> {
        let txn = self.begin_write().await?;
        let head = self
            .tender_row_in(&txn, tender_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tender `{tender_id}`")))?;
        if head.seq != expected_seq {
            return Err(StoreError::Conflict(tender_id.into()));
        }
        let key = self.data_key(&txn, tender_id).await?;
        let mut prev = head.last_hash;
        for (i, e) in events.iter().enumerate() {
            let row = chain::encode(
                tender_id,
                expected_seq + 1 + i as i64,
                command_id,
                e,
                &prev,
                Some(&key),
                &self.chain_key,
            )?;
            prev.clone_from(&row.hash);
            self.insert_event(&txn, &row).await?;
        }
        let new_seq = expected_seq + events.len() as i64;
        let res = txn
            .execute_raw(self.stmt(
                "UPDATE tenders SET seq = ?, last_hash = ? WHERE tender_id = ? AND seq = ?",
                vec![
                    new_seq.into(),
                    prev.into(),
                    tender_id.into(),
                    expected_seq.into(),
                ],
            ))
            .await?;
        if res.rows_affected() != 1 {
            return Err(StoreError::Conflict(tender_id.into()));
        }
        txn.commit().await?;
        self.cache.lock().await.remove(tender_id);
        Ok(new_seq)
    }

    async fn data_key(&self, txn: &DatabaseTransaction, tender_id: &str) -> R<[u8; 32]> {
        if let Some(k) = self
            .keys
            .read()
            .ok()
            .and_then(|m| m.get(tender_id).copied())
        {
            return Ok(k);
        }
        let row = txn
            .query_one_raw(self.stmt(
                "SELECT wrapped_key FROM tender_keys WHERE tender_id = ?",
                vec![tender_id.into()],
            ))
            .await?;
        // What is read here may be uncommitted (made earlier in this transaction): the
        // caller caches it only after the commit.
        if let Some(row) = row {
            let wrapped: String = get(&row, "wrapped_key")?;
            return self.master.unwrap(tender_id, &wrapped);
        }
        let key = crypto::new_data_key()?;
        txn.execute_raw(self.stmt(
            "INSERT INTO tender_keys (tender_id, wrapped_key) VALUES (?, ?)",
            vec![tender_id.into(), self.master.wrap(tender_id, &key)?.into()],
        ))
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(tender_id.into())
            } else {
                e.into()
            }
        })?;
        Ok(key)
    }

    async fn data_key_ro<C: ConnectionTrait>(
        &self,
        conn: &C,
        tender_id: &str,
    ) -> R<Option<[u8; 32]>> {
        let row = conn
            .query_one_raw(self.stmt(
                "SELECT wrapped_key FROM tender_keys WHERE tender_id = ?",
                vec![tender_id.into()],
            ))
            .await?;
        match row {
            Some(r) => Ok(Some(
                self.master
                    .unwrap(tender_id, &get::<String>(&r, "wrapped_key")?)?,
            )),
            None => Ok(None),
        }
    }

    /// The tender's state at the locked head `h`: the cached one if it is that head,
    /// otherwise replayed from verified rows.
    async fn state_at(&self, txn: &DatabaseTransaction, h: &TenderRow) -> R<Tender> {
        if let Some(c) = self.cache.lock().await.get(&h.tender_id) {
            if c.seq == h.seq && c.hash == h.last_hash {
                return Ok(c.tender.clone());
            }
        }
        self.replay_verified(txn, h).await
    }

    /// Replays a tender from its rows after checking them: the keyed chain up to the head
    /// the projection recorded, and the projection against the replay. Any problem is an
    /// [`StoreError::Integrity`] (and an alert in the log); nothing is served or decided on
    /// top of a record that does not verify.
    async fn replay_verified<C: ConnectionTrait>(&self, conn: &C, h: &TenderRow) -> R<Tender> {
        match self.verified(conn, h).await? {
            Ok(v) => Ok(v.tender),
            Err(problem) => Err(integrity(h, problem)),
        }
    }

    /// The replayed tender, or the first problem of its record.
    async fn check<C: ConnectionTrait>(
        &self,
        conn: &C,
        h: &TenderRow,
    ) -> R<Result<Tender, ChainProblem>> {
        Ok(self.verified(conn, h).await?.map(|v| v.tender))
    }

    /// A tender's record read and checked once: the keyed chain up to the head the projection
    /// recorded, every event readable, and the projection equal to the replay.
    async fn verified<C: ConnectionTrait>(
        &self,
        conn: &C,
        h: &TenderRow,
    ) -> R<Result<Verified, ChainProblem>> {
        let rows = self.rows_in(conn, &h.tender_id, 1, i64::MAX).await?;
        if let Some(problem) = chain::verify_rows(&rows, h.seq, &h.last_hash, &self.chain_key) {
            return Ok(Err(problem));
        }
        let key = self.data_key_ro(conn, &h.tender_id).await?;
        let mut t = Tender::default();
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            match chain::decode(row, key.as_ref()) {
                Ok(e) => {
                    t = tenderflow_core::apply(t, &e);
                    events.push((row.seq, e));
                }
                Err(_) => return Ok(Err(ChainProblem::Unreadable { seq: row.seq })),
            }
        }
        let deadline = t.deadline.map(Timestamp::unix_millis);
        let mismatch = |field: &str, stored: String, replayed: String| {
            Err(ChainProblem::Projection {
                field: field.to_owned(),
                stored,
                replayed,
            })
        };
        if t.state != h.state {
            return Ok(mismatch("state", h.state.clone(), t.state));
        }
        if deadline != h.deadline_ms {
            return Ok(mismatch(
                "deadline_ms",
                format!("{:?}", h.deadline_ms),
                format!("{deadline:?}"),
            ));
        }
        Ok(Ok(Verified {
            rows,
            events,
            tender: t,
        }))
    }

    async fn queue(
        &self,
        txn: &DatabaseTransaction,
        tender_id: &str,
        seq: i64,
        wf: &Workflow,
        after: &Tender,
        events: &[Event],
    ) -> R<usize> {
        let mut n = 0;
        // One message per recipient, kind and event, however many audiences name them.
        let mut queued = std::collections::HashSet::new();
        for note in tenderflow_core::notifications(wf, after, events) {
            let recipients: Vec<String> = match &note.recipient {
                Recipient::Actor(id) => vec![id.as_str().to_owned()],
                Recipient::Role(role) => txn
                    .query_all_raw(self.stmt(
                        "SELECT id FROM accounts WHERE role = ? ORDER BY id",
                        vec![role.clone().into()],
                    ))
                    .await?
                    .iter()
                    .map(|r| get::<String>(r, "id"))
                    .collect::<R<_>>()?,
            };
            for to in recipients {
                if !queued.insert((note.event_index, note.message, to.clone())) {
                    continue;
                }
                txn.execute_raw(self.stmt(
                    "INSERT INTO outbox (tender_id, event_seq, message, recipient_kind, recipient_id, status, attempts, next_attempt_ms, created_ms) VALUES (?, ?, ?, 'account', ?, 'pending', 0, ?, ?)",
                    vec![tender_id.into(), (seq + 1 + note.event_index as i64).into(), note.message.as_str().into(), to.into(), now_ms().into(), now_ms().into()],
                ))
                .await?;
                n += 1;
            }
        }
        Ok(n)
    }

    // ---- reads ----------------------------------------------------------------------------

    /// The tender's row, locked for this transaction on PostgreSQL so that concurrent
    /// writers of one tender queue instead of failing and retrying. (SQLite's IMMEDIATE
    /// transactions already serialise writers.)
    async fn lock_tender(
        &self,
        txn: &DatabaseTransaction,
        tender_id: &str,
    ) -> R<Option<TenderRow>> {
        let lock = if self.backend == DbBackend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = txn
            .query_one_raw(self.stmt(
                &format!("SELECT tender_id, workflow_sha256, state, seq, last_hash, deadline_ms FROM tenders WHERE tender_id = ?{lock}"),
                vec![tender_id.into()],
            ))
            .await?;
        row.map(|r| decode_row::<TenderRow>(&r)).transpose()
    }

    async fn tender_row_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        tender_id: &str,
    ) -> R<Option<TenderRow>> {
        let row = conn
            .query_one_raw(self.stmt(
                "SELECT tender_id, workflow_sha256, state, seq, last_hash, deadline_ms FROM tenders WHERE tender_id = ?",
                vec![tender_id.into()],
            ))
            .await?;
        row.map(|r| decode_row::<TenderRow>(&r)).transpose()
    }

    async fn tender_row(&self, tender_id: &str) -> R<Option<TenderRow>> {
        self.tender_row_in(&self.db, tender_id).await
    }

    /// The projection row of every tender.
    pub async fn tenders(&self) -> R<Vec<TenderRow>> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT tender_id, workflow_sha256, state, seq, last_hash, deadline_ms FROM tenders ORDER BY tender_id",
                vec![],
            ))
            .await?;
        rows.iter().map(decode_row::<TenderRow>).collect()
    }

    /// The tender's workflow and current state (replayed from its events, bids decrypted).
    pub async fn load(&self, tender_id: &str) -> R<(Arc<Workflow>, Tender)> {
        let head = self
            .tender_row(tender_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tender `{tender_id}`")))?;
        let wf = self.workflow(&head.workflow_sha256).await?;
        if let Some(c) = self.cache.lock().await.get(tender_id) {
            if c.seq == head.seq && c.hash == head.last_hash {
                return Ok((wf, c.tender.clone()));
            }
        }
        let t = self.replay_verified(&self.db, &head).await?;
        Ok((wf, t))
    }

    async fn rows_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        tender_id: &str,
        first: i64,
        last: i64,
    ) -> R<Vec<EventRow>> {
        let rows = conn
            .query_all_raw(self.stmt(
                "SELECT tender_id, seq, command_id, actor_id, actor_role, at_ms, kind, payload, prev_hash, hash FROM events WHERE tender_id = ? AND seq >= ? AND seq <= ? ORDER BY seq",
                vec![tender_id.into(), first.into(), last.into()],
            ))
            .await?;
        rows.iter().map(decode_row::<EventRow>).collect()
    }

    /// The stored rows of a tender's events (payloads as stored: bids sealed).
    pub async fn event_rows(&self, tender_id: &str) -> R<Vec<EventRow>> {
        self.rows_in(&self.db, tender_id, 1, i64::MAX).await
    }

    /// Events `first..=last` of a tender, decrypted.
    pub async fn events_between(
        &self,
        tender_id: &str,
        first: i64,
        last: i64,
    ) -> R<Vec<(i64, Event)>> {
        let key = self.data_key_ro(&self.db, tender_id).await?;
        let rows = self.rows_in(&self.db, tender_id, first, last).await?;
        rows.iter()
            .map(|r| Ok((r.seq, chain::decode(r, key.as_ref())?)))
            .collect()
    }

    /// Recomputes every chain (or one tender's) with the chain key, replays it and checks the
    /// projection (state, deadline) against the replay; names the first problem of each.
    pub async fn verify(&self, tender_id: Option<&str>) -> R<Vec<AuditReport>> {
        let heads = match tender_id {
            Some(id) => vec![
                self.tender_row(id)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("tender `{id}`")))?,
            ],
            None => self.tenders().await?,
        };
        let mut out = Vec::with_capacity(heads.len());
        for h in heads {
            out.push(AuditReport {
                tender_id: h.tender_id.clone(),
                events: h.seq,
                problem: self.check(&self.db, &h).await?.err(),
            });
        }
        Ok(out)
    }

    /// The tender's current chain head (verified): publish it outside the database (the
    /// records the inspector signs carry it) so that a later rewrite is caught by
    /// [`Store::verify_against`].
    pub async fn chain_head(&self, tender_id: &str) -> R<PublishedHead> {
        let head = self
            .tender_row(tender_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tender `{tender_id}`")))?;
        self.load(tender_id).await?;
        Ok(PublishedHead {
            tender: head.tender_id,
            seq: head.seq,
            hash: head.last_hash,
        })
    }

    /// The OCDS releases of a tender's public events (see `tenderflow_core::ocds`), each
    /// carrying the chain head at its event (`tenderflowChainHead`), so that every published
    /// release pins the history up to it.
    pub async fn ocds_releases(
        &self,
        tender_id: &str,
        opts: &tenderflow_core::ocds::Options,
    ) -> R<Vec<serde_json::Value>> {
        let head = self
            .tender_row(tender_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tender `{tender_id}`")))?;
        let wf = self.workflow(&head.workflow_sha256).await?;
        // One read of the record serves the check and the export.
        let v = match self.verified(&self.db, &head).await? {
            Ok(v) => v,
            Err(problem) => return Err(integrity(&head, problem)),
        };
        let mut releases = tenderflow_core::ocds::releases(&wf, &v.events, opts);
        for r in &mut releases {
            // Release ids are `{ocid}-{seq:04}` (core::ocds); a verified chain holds event
            // `seq` at index `seq - 1`.
            let row = r["id"]
                .as_str()
                .and_then(|id| id.rsplit_once('-'))
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .and_then(|n| v.rows.get(n.checked_sub(1)?));
            if let Some(row) = row {
                r["tenderflowChainHead"] = serde_json::json!({
                    "tender": tender_id, "seq": row.seq, "hash": row.hash,
                });
                // The exact definition version the tender runs on.
                r["tenderflowDefinition"] = serde_json::json!({
                    "id": wf.definition().id, "version": wf.definition().version, "sha256": wf.sha256(),
                });
            }
        }
        Ok(releases)
    }

    /// Checks the database against chain heads published earlier (OCDS releases, signed
    /// records): each published event must still be there with the same hash, and each
    /// tender's chain must verify. One report per tender named in `heads`.
    pub async fn verify_against(&self, heads: &[PublishedHead]) -> R<Vec<AuditReport>> {
        let mut by_tender: std::collections::BTreeMap<&str, Vec<&PublishedHead>> =
            std::collections::BTreeMap::new();
        for h in heads {
            by_tender.entry(h.tender.as_str()).or_default().push(h);
        }
        let mut out = Vec::with_capacity(by_tender.len());
        for (tender, published) in by_tender {
            let rows = self.event_rows(tender).await?;
            let mut problem = None;
            let mut sorted = published;
            sorted.sort_by_key(|h| h.seq);
            for h in sorted {
                let found = rows.iter().find(|r| r.seq == h.seq).map(|r| r.hash.clone());
                if found.as_deref() != Some(h.hash.as_str()) {
                    problem = Some(ChainProblem::Unpublished {
                        seq: h.seq,
                        published: h.hash.clone(),
                        found,
                    });
                    break;
                }
            }
            if problem.is_none() {
                problem = match self.tender_row(tender).await? {
                    Some(row) => self.check(&self.db, &row).await?.err(),
                    None => Some(ChainProblem::Truncated {
                        expected: heads
                            .iter()
                            .filter(|h| h.tender == tender)
                            .map(|h| h.seq)
                            .max()
                            .unwrap_or(0),
                        found: 0,
                    }),
                };
            }
            out.push(AuditReport {
                tender_id: tender.to_owned(),
                events: rows.len() as i64,
                problem,
            });
        }
        Ok(out)
    }

    // ---- timers ---------------------------------------------------------------------------

    /// Claims up to `limit` due timers for `worker` for `lease_ms`. With PostgreSQL several
    /// processes may call this at once: `FOR UPDATE SKIP LOCKED` hands each timer to one.
    pub async fn claim_due_timers(
        &self,
        now: Timestamp,
        worker: &str,
        lease_ms: i64,
        limit: i64,
    ) -> R<Vec<DueTimer>> {
        self.claim::<DueTimer>(
            "timers",
            "tender_id",
            "due_ms <= ?",
            "",
            "ORDER BY due_ms",
            "tender_id, kind, due_ms, failures",
            (now.unix_millis(), worker, lease_ms, limit),
        )
        .await
    }

    /// Fires every due timer once: claims it and executes `advance_time` with a command id
    /// derived from the timer, so a timer fired by two workers still appends once.
    ///
    /// A timer that fails (a broken tender, a corrupt row, a database error on that tender)
    /// never stops the others: it is released with an exponential backoff, its failures and
    /// last error are recorded for administrators ([`Store::stuck_timers`]), an error is
    /// logged, and every other due timer still fires.
    pub async fn fire_due_timers(&self, now: Timestamp, worker: &str) -> R<Vec<Executed>> {
        let mut fired = Vec::new();
        for t in self.claim_due_timers(now, worker, 30_000, 100).await? {
            let command = Command {
                actor: tenderflow_core::Actor::system(),
                body: CommandBody::AdvanceTime,
            };
            let id = format!("timer:{}:{}:{}", t.tender_id, t.kind, t.due_ms);
            match self.execute(&t.tender_id, &id, &command, now).await {
                Ok(done) => fired.push(done),
                Err(StoreError::Rejected(r)) => {
                    // Halted, suspended or moved: release the claim so it is tried again later.
                    tracing::debug!(tender = %t.tender_id, code = %r.code, "timer not fired");
                    self.release_timer(&t, worker, now.unix_millis() + 1000, None)
                        .await?;
                }
                Err(e) => {
                    let failures = t.failures + 1;
                    let backoff_ms = (1_000i64 << failures.clamp(0, 12)).min(3_600_000);
                    tracing::error!(
                        tender = %t.tender_id, timer = %t.kind, failures, error = %e,
                        "ALERT: a deadline could not fire; it is retried with backoff (see `tenderflow timers stuck`)"
                    );
                    self.release_timer(
                        &t,
                        worker,
                        now.unix_millis() + backoff_ms,
                        Some(&e.to_string()),
                    )
                    .await?;
                }
            }
        }
        Ok(fired)
    }

    /// Gives a claimed timer back, to be tried again at `retry_ms`; with an error, counts a
    /// failure.
    async fn release_timer(
        &self,
        t: &DueTimer,
        worker: &str,
        retry_ms: i64,
        error: Option<&str>,
    ) -> R<()> {
        let _gate = self.gate().await;
        let (sql, values): (&str, Vec<SqlValue>) = match error {
            None => (
                "UPDATE timers SET claimed_by = NULL, claimed_until_ms = ? WHERE tender_id = ? AND claimed_by = ?",
                vec![retry_ms.into(), t.tender_id.clone().into(), worker.into()],
            ),
            Some(err) => (
                "UPDATE timers SET claimed_by = NULL, claimed_until_ms = ?, failures = failures + 1, last_error = ? WHERE tender_id = ? AND claimed_by = ?",
                vec![
                    retry_ms.into(),
                    err.into(),
                    t.tender_id.clone().into(),
                    worker.into(),
                ],
            ),
        };
        self.db.execute_raw(self.stmt(sql, values)).await?;
        Ok(())
    }

    /// The due time of the oldest timer due at `now` (fired or not yet), for the lag gauge.
    pub async fn oldest_due_timer(&self, now: Timestamp) -> R<Option<i64>> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT MIN(due_ms) AS due_ms FROM timers WHERE due_ms <= ?",
                vec![now.unix_millis().into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => get::<Option<i64>>(&r, "due_ms")?,
            None => None,
        })
    }

    /// Timers that failed to fire at least once (not business refusals), most failures first:
    /// what administrators must look at.
    pub async fn stuck_timers(&self) -> R<Vec<StuckTimer>> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT tender_id, kind, due_ms, failures, last_error, claimed_until_ms FROM timers WHERE failures > 0 ORDER BY failures DESC, tender_id",
                vec![],
            ))
            .await?;
        rows.iter().map(decode_row::<StuckTimer>).collect()
    }

    // ---- outbox ---------------------------------------------------------------------------

    /// Claims up to `limit` messages due for delivery.
    pub async fn claim_outbox(
        &self,
        now_ms: i64,
        worker: &str,
        lease_ms: i64,
        limit: i64,
    ) -> R<Vec<OutboxRow>> {
        let mut out = self
            .claim::<OutboxRow>(
                "outbox",
                "id",
                "status = 'pending' AND next_attempt_ms <= ?",
                ", attempts = attempts + 1",
                "ORDER BY id",
                "id, tender_id, event_seq, message, recipient_id, status, attempts, last_error",
                (now_ms, worker, lease_ms, limit),
            )
            .await?;
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Leases up to `limit` rows of `table` that are due (`due`, with one `?` for now) and
    /// not leased, to `worker` for `lease_ms`, returning `returning`. With PostgreSQL several
    /// processes may claim at once: `FOR UPDATE SKIP LOCKED` hands each row to one of them.
    #[allow(clippy::too_many_arguments)]
    async fn claim<T: FromQueryResult>(
        &self,
        table: &str,
        key: &str,
        due: &str,
        also_set: &str,
        order: &str,
        returning: &str,
        (now_ms, worker, lease_ms, limit): (i64, &str, i64, i64),
    ) -> R<Vec<T>> {
        let lock = if self.backend == DbBackend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let sql = format!(
            "UPDATE {table} SET claimed_by = ?, claimed_until_ms = ?{also_set} WHERE {key} IN \
             (SELECT {key} FROM {table} WHERE {due} AND (claimed_until_ms IS NULL OR claimed_until_ms < ?) {order} LIMIT ?{lock}) \
             RETURNING {returning}"
        );
        let _gate = self.gate().await;
        let values = vec![
            worker.into(),
            (now_ms + lease_ms).into(),
            now_ms.into(),
            now_ms.into(),
            limit.into(),
        ];
        let rows = self.db.query_all_raw(self.stmt(&sql, values)).await?;
        rows.iter().map(decode_row::<T>).collect()
    }

    /// Marks a claimed message sent; false when the claim was no longer `worker`'s.
    pub async fn mark_sent(&self, id: i64, worker: &str) -> R<bool> {
        Ok(self.mark_sent_many(&[id], worker).await? == 1)
    }

    /// Marks many claimed messages sent in one statement (one commit); returns how many were
    /// still claimed by `worker` (the others' claims had expired and were taken over).
    pub async fn mark_sent_many(&self, ids: &[i64], worker: &str) -> R<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let mut values: Vec<SqlValue> = vec![now_ms().into()];
        values.extend(ids.iter().map(|i| SqlValue::from(*i)));
        values.push(worker.into());
        self.outbox_update(
            &format!("UPDATE outbox SET status = 'sent', sent_ms = ?, last_error = NULL WHERE id IN ({marks}) AND claimed_by = ? AND status = 'pending'"),
            values,
        )
        .await
    }

    /// Extends `worker`'s claims on these messages to `until_ms`; returns how many it still
    /// held.
    pub async fn renew_outbox(&self, ids: &[i64], worker: &str, until_ms: i64) -> R<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let marks = vec!["?"; ids.len()].join(", ");
        let mut values: Vec<SqlValue> = vec![until_ms.into()];
        values.extend(ids.iter().map(|i| SqlValue::from(*i)));
        values.push(worker.into());
        self.outbox_update(
            &format!("UPDATE outbox SET claimed_until_ms = ? WHERE id IN ({marks}) AND claimed_by = ? AND status = 'pending'"),
            values,
        )
        .await
    }

    /// Schedules another attempt at `next_ms` after a transient failure.
    pub async fn mark_retry(&self, id: i64, worker: &str, next_ms: i64, error: &str) -> R<usize> {
        self.outbox_update(
            "UPDATE outbox SET next_attempt_ms = ?, last_error = ?, claimed_by = NULL, claimed_until_ms = NULL WHERE id = ? AND claimed_by = ?",
            vec![next_ms.into(), error.into(), id.into(), worker.into()],
        )
        .await
    }

    /// Makes a message a dead letter after a permanent failure, keeping the server's reply.
    pub async fn mark_dead(&self, id: i64, worker: &str, error: &str) -> R<usize> {
        self.outbox_update(
            "UPDATE outbox SET status = 'dead', last_error = ?, claimed_by = NULL, claimed_until_ms = NULL WHERE id = ? AND claimed_by = ?",
            vec![error.into(), id.into(), worker.into()],
        )
        .await
    }

    /// Puts a dead letter back in the queue.
    pub async fn resend(&self, id: i64) -> R<bool> {
        let _gate = self.gate().await;
        let res = self
            .db
            .execute_raw(self.stmt(
                "UPDATE outbox SET status = 'pending', next_attempt_ms = ?, claimed_by = NULL, claimed_until_ms = NULL WHERE id = ? AND status = 'dead'",
                vec![now_ms().into(), id.into()],
            ))
            .await?;
        Ok(res.rows_affected() == 1)
    }

    async fn outbox_update(&self, sql: &str, values: Vec<SqlValue>) -> R<usize> {
        let _gate = self.gate().await;
        let res = self.db.execute_raw(self.stmt(sql, values)).await?;
        Ok(res.rows_affected() as usize)
    }

    /// Outbox rows with a status (`pending`, `sent`, `dead`), or all.
    pub async fn outbox(&self, status: Option<&str>) -> R<Vec<OutboxRow>> {
        let rows = match status {
            Some(s) => self.db.query_all_raw(self.stmt("SELECT id, tender_id, event_seq, message, recipient_id, status, attempts, last_error FROM outbox WHERE status = ? ORDER BY id", vec![s.into()])).await?,
            None => self.db.query_all_raw(self.stmt("SELECT id, tender_id, event_seq, message, recipient_id, status, attempts, last_error FROM outbox ORDER BY id", vec![])).await?,
        };
        rows.iter().map(decode_row::<OutboxRow>).collect()
    }
}

/// A tender's record as verified: rows and events in sequence order, and the replay.
struct Verified {
    rows: Vec<EventRow>,
    events: Vec<(i64, Event)>,
    tender: Tender,
}

/// The error for a record that fails verification, raised as an alert.
fn integrity(h: &TenderRow, problem: ChainProblem) -> StoreError {
    tracing::error!(tender = %h.tender_id, problem = ?problem, "ALERT: integrity violation; the tender is refused until it is restored (see `tenderflow audit verify`)");
    StoreError::Integrity {
        tender_id: h.tender_id.clone(),
        problem,
    }
}

/// A tender's projection row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
pub struct TenderRow {
    /// Tender id.
    pub tender_id: String,
    /// The workflow version it pins.
    pub workflow_sha256: String,
    /// Current state.
    pub state: String,
    /// Events so far.
    pub seq: i64,
    /// Hash of the last event.
    pub last_hash: String,
    /// Bid deadline, ms.
    pub deadline_ms: Option<i64>,
}

pub(crate) fn decode_row<T: FromQueryResult>(r: &QueryResult) -> R<T> {
    T::from_query_result(r, "").map_err(StoreError::Db)
}

pub(crate) fn check_account(a: &Account) -> R<()> {
    let bad = |m: String| Err(StoreError::InvalidAccount(m));
    if let Some(p) = tenderflow_core::ids::problem(&a.id) {
        return bad(format!("id: {p}"));
    }
    if let Some(p) = tenderflow_core::ids::problem(&a.role) {
        return bad(format!("role: {p}"));
    }
    let name = &a.display_name;
    if name.trim().is_empty() || name.trim() != name || name.chars().any(char::is_control) {
        return bad("name: non-empty text without surrounding spaces or control characters".into());
    }
    if let Some(email) = &a.email {
        let ok = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !ok {
            return bad(format!(
                "email: `{}` is not an address like name@example.org",
                email.escape_debug()
            ));
        }
    }
    if !matches!(a.locale.as_str(), "zh-CN" | "en") {
        return bad(format!(
            "locale: `{}` is not zh-CN or en",
            a.locale.escape_debug()
        ));
    }
    Ok(())
}

/// SHA-256 (hex) of an API token, the form in which tokens are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
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
        let create = |id: &str| Command {
            actor: steps[0].command.actor.clone(),
            body: CommandBody::CreateDraft {
                tender_id: id.into(),
            },
        };
        // Three forced conflicts: the writer fails, waits, retries (4, 8, 16 ms).
        store.forced_conflicts.store(3, Ordering::SeqCst);
        let writer = {
            let store = store.clone();
            let cmd = create("T-slow");
            let (sha, at) = (sha.clone(), steps[0].at);
            tokio::spawn(async move { store.create_tender(&sha, "slow", &cmd, at).await })
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
}
