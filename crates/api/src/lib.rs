//! Tenderflow's HTTP API: JSON over the engine for staff, bidders, evaluators and inspectors.
//!
//! `app(state)` builds the router, so tests call it without a socket and `tenderflow serve`
//! binds it. Every request is authenticated with `Authorization: Bearer <token>`; the core's
//! definition decides who may issue which command, and the routes here decide who may read
//! what (see `docs/ARCHITECTURE.md`).

mod accounts;
mod error;
mod extract;
pub mod metrics;
mod openapi;
mod ops;
mod routes;

pub use error::ApiError;
pub use routes::app;

use std::sync::Arc;
use tenderflow_core::Timestamp;
use tenderflow_store::Store;

pub use tenderflow_store::clock::{Clock, ManualClock, SystemClock};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<Store>,
    /// The clock commands are decided at.
    pub clock: Arc<dyn Clock>,
    /// The settable clock, when the server runs with one.
    pub manual_clock: Option<Arc<ManualClock>>,
    /// How OCDS identifiers are formed and who publishes.
    pub ocds: Arc<tenderflow_core::ocds::Options>,
    /// When set, commands are written in batches (group commit): one transaction for many
    /// concurrent commands, none answered before its batch commits.
    pub committer: Option<tenderflow_store::group::GroupCommitter>,
    /// Counters behind `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    /// State with the system clock.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            clock: Arc::new(SystemClock),
            manual_clock: None,
            ocds: Arc::default(),
            committer: None,
            metrics: Arc::default(),
        }
    }

    /// State with a clock set by hand.
    pub fn with_manual_clock(store: Arc<Store>, start: Timestamp) -> Self {
        let clock = Arc::new(ManualClock::new(start));
        Self {
            store,
            clock: clock.clone(),
            manual_clock: Some(clock),
            ocds: Arc::default(),
            committer: None,
            metrics: Arc::default(),
        }
    }
}

impl AppState {
    /// Writes commands through a group committer (batches of up to `max_batch`). Call from
    /// within the runtime that serves requests.
    pub fn with_group_commit(mut self, max_batch: usize) -> Self {
        self.committer = Some(tenderflow_store::group::GroupCommitter::start(
            self.store.clone(),
            max_batch,
        ));
        self
    }
}

/// Largest request body accepted (a bid with its attachments' metadata; files go elsewhere).
pub const MAX_BODY: usize = 1024 * 1024;
