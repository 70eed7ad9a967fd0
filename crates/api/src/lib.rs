//! Tenderflow's HTTP API: JSON over the engine for staff, bidders, evaluators and inspectors.
//!
//! `app(state)` builds the router, so tests call it without a socket and `tenderflow serve`
//! binds it. Every request is authenticated with `Authorization: Bearer <token>`; the core's
//! definition decides who may issue which command, and the routes here decide who may read
//! what (see `docs/ARCHITECTURE.md`).

mod accounts;
mod admin;
pub mod documents;
mod error;
mod extract;
pub mod metrics;
mod openapi;
mod ops;
mod reports;
mod routes;
mod schemas;
mod tenders;

pub use error::ApiError;
pub use routes::{app, app_with_pages};

use std::sync::Arc;
use tenderflow_app::App;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    /// Counters behind `/metrics`.
    pub metrics: Arc<metrics::Metrics>,
    /// The bearer token a scraper sends for `/metrics` (an administrator's token works too).
    /// Metrics count commands and requests per route, which before the opening would tell
    /// how many bids a tender has, so they are never public.
    pub metrics_token: Option<Arc<str>>,
    /// The commit the server was built from (`/version`, `tenderflow_build_info`).
    pub commit: &'static str,
}

impl AppState {
    /// The state serving `app`.
    pub fn new(app: App) -> Self {
        Self {
            app,
            metrics: Arc::default(),
            metrics_token: None,
            commit: "unknown",
        }
    }

    /// Names the commit the server was built from.
    pub fn with_commit(mut self, commit: &'static str) -> Self {
        self.commit = commit;
        self
    }

    /// Lets a scraper read `/metrics` with `Authorization: Bearer <token>`.
    pub fn with_metrics_token(mut self, token: Option<String>) -> Self {
        self.metrics_token = token.filter(|t| !t.is_empty()).map(Arc::from);
        self
    }
}

/// Largest request body accepted (a bid with its attachments' metadata; files go elsewhere).
pub const MAX_BODY: usize = 1024 * 1024;
