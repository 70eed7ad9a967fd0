//! Tenderflow's application layer: the use cases the HTTP API, the web pages and the CLI all
//! call, so that each of them is a thin adapter and no business rule lives above this crate.
//!
//! - [`accounts`]: registration, sign-in and sessions, password resets, subscriptions.
//! - [`console`]: the officials' console and the evaluators' scoring desk.
//! - [`commands`]: execute a command for a caller (idempotency key, `If-Match` view tag),
//!   create a tender; typed answers with receipts.
//! - [`views`]: what a caller may read: a tender's view and its tag, lists, the timeline, the
//!   audit trail, receipts, the opening record, the report.
//! - [`records`]: the signed records and the OCDS publication.
//! - [`portal`]: the bidder portal: its tenders, receipts, results and bid form.
//! - [`documents`]: uploading tender and bid documents, and reading them as the core allows.
//! - [`supervision`]: red flags for inspectors, per tender and across tenders.
//! - [`reports`]: the quarterly report of the stage after the award.
//! - [`administration`]: accounts, API tokens, workflow definitions, readiness and health.
//! - [`installation`]: opening an installation (database, master key, documents, clock) and
//!   its mail dispatcher.
//! - [`operations`]: the outbox, stuck timers, verification, the manual clock.
//! - [`background`]: the timer loop and the mail dispatcher, run until a shutdown signal
//!   (mini-redis's `run(listener, shutdown)` shape).
//!
//! The time of everything comes from the store's one clock.

pub mod accounts;
pub mod administration;
pub mod background;
pub mod board;
pub mod commands;
pub mod console;
pub mod documents;
mod error;
pub mod installation;
pub mod operations;
pub mod portal;
pub mod records;
pub mod reports;
pub mod roles;
pub mod supervision;
pub mod views;

pub use error::{AppError, Result};
pub use tenderflow_store::Account;
/// The records the use cases hand back as the store keeps them (accounts, tokens, the outbox,
/// timers, workflow registrations, verification): part of this crate's interface, so that
/// no presenter needs the store.
pub use tenderflow_store::chain::ChainProblem;
pub use tenderflow_store::{
    AccountField, AccountInfo, AuditReport, Executed, IssuedToken, OutboxRow, OutboxStatus,
    Profile, PublishedHead, StuckTimer, TokenInfo, WorkflowRecord,
};

use std::sync::Arc;
use tenderflow_core::{Actor, Role};
use tenderflow_store::Store;
use tenderflow_store::clock::{Clock, ManualClock};
use tenderflow_store::group::GroupCommitter;

/// An authenticated person: the account and the actor it acts as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The account.
    pub account: Account,
    /// As an actor in commands.
    pub actor: Actor,
}

impl Caller {
    /// The caller of an account; `None` when its id is not a valid actor id.
    pub fn of(account: Account) -> Option<Self> {
        let actor = Actor::new(&account.id, &account.role)?;
        Some(Self { account, actor })
    }

    /// The administrator at the machine (the command line), who reads as an administrator.
    pub fn operator() -> Self {
        let account = Account {
            id: "operator".into(),
            role: Role::ADMIN.as_str().into(),
            display_name: "Operator (command line)".into(),
            email: None,
            locale: "en".into(),
        };
        let actor = Actor::new("operator", Role::ADMIN.as_str()).unwrap_or_else(Actor::system);
        Self { account, actor }
    }

    /// The caller's role.
    pub fn role(&self) -> &str {
        &self.account.role
    }

    /// Whether the caller has `role`.
    pub fn is(&self, role: Role) -> bool {
        role.is(self.role())
    }

    /// Refuses the caller unless its role is one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<()> {
        if roles.iter().any(|r| self.is(*r)) {
            Ok(())
        } else {
            let allowed: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            Err(AppError::Forbidden(format!(
                "role `{}` may not do this; allowed: {}",
                self.role(),
                allowed.join(", ")
            )))
        }
    }
}

/// The application: the store, the process's clock, and how OCDS is published.
#[derive(Debug, Clone)]
pub struct App {
    /// The store.
    pub store: Arc<Store>,
    clock: Arc<dyn Clock>,
    manual_clock: Option<Arc<ManualClock>>,
    /// How OCDS identifiers are formed and who publishes.
    pub ocds: Arc<tenderflow_core::ocds::Options>,
    committer: Option<GroupCommitter>,
    /// The red flags' thresholds the law does not fix.
    pub red_flags: Arc<tenderflow_core::red_flags::Thresholds>,
    /// Bounds the password hashing (argon2) done at once and queued.
    passwords: Arc<accounts::PasswordWork>,
}

impl App {
    /// The application on `store`, on the store's clock.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            clock: store.clock(),
            store,
            manual_clock: None,
            ocds: Arc::default(),
            committer: None,
            red_flags: Arc::default(),
            passwords: Arc::new(accounts::PasswordWork::default()),
        }
    }

    /// Hashes at most `at_once` passwords at a time, with at most `queued` more waiting up to
    /// `wait` for their turn; anything beyond is refused `busy` (503 with `Retry-After`).
    pub fn with_password_work(
        mut self,
        at_once: usize,
        queued: usize,
        wait: std::time::Duration,
    ) -> Self {
        self.passwords = Arc::new(accounts::PasswordWork::new(at_once, queued, wait));
        self
    }

    /// The application on a store connected with `clock` (the one clock: the store records
    /// and decides at its time), which `POST /admin/clock` may move.
    pub fn with_manual_clock(store: Arc<Store>, clock: Arc<ManualClock>) -> Self {
        Self {
            manual_clock: Some(clock),
            ..Self::new(store)
        }
    }

    /// Publishes OCDS with `opts`.
    pub fn with_ocds(mut self, opts: tenderflow_core::ocds::Options) -> Self {
        self.ocds = Arc::new(opts);
        self
    }

    /// Measures red flags against `thresholds`.
    pub fn with_red_flag_thresholds(
        mut self,
        thresholds: tenderflow_core::red_flags::Thresholds,
    ) -> Self {
        self.red_flags = Arc::new(thresholds);
        self
    }

    /// Writes commands through a group committer (batches of up to `max_batch`). Call from
    /// within the runtime that serves requests.
    pub fn with_group_commit(self, max_batch: usize) -> Self {
        self.with_group_commit_lanes(max_batch, tenderflow_store::group::DEFAULT_LANES)
    }

    /// Writes commands through a group committer with `lanes` parallel lanes on PostgreSQL
    /// (a tender always in the same lane; SQLite has one).
    pub fn with_group_commit_lanes(mut self, max_batch: usize, lanes: usize) -> Self {
        self.committer = Some(GroupCommitter::with_lanes(
            self.store.clone(),
            max_batch,
            lanes,
        ));
        self
    }

    /// The clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    /// The caller a bearer token stands for, if it is valid now.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Caller>> {
        Ok(self.store.authenticate(token).await?.and_then(Caller::of))
    }
}
