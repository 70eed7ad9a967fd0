//! Tenderflow's email. Messages are rows of the store's transactional outbox, written in the
//! same transaction as the event that causes them; this crate renders them (zh-CN or en, as
//! the recipient prefers, multipart plain text + HTML) and delivers them with lettre — over
//! SMTP with a connection pool, or as `.eml` files (the embedded default).
//!
//! Delivery is at least once and never silent: transient failures (4xx, refused
//! connections, timeouts) are retried with exponential backoff and jitter, permanent ones
//! (5xx) become dead letters with the server's reply. Every message's Message-ID derives
//! from its outbox id, so a retry after an unknown outcome can be recognised.

pub mod dispatch;
pub mod render;

pub use dispatch::{Dispatcher, RetryPolicy, Stats, Transport};
pub use render::{Rendered, Renderer, context};

/// Errors of the notify crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// A template failed to render (a bug or a notification rule that does not fit its event).
    #[error("template: {0}")]
    Template(String),
    /// An address or message that cannot be built.
    #[error("message: {0}")]
    Message(String),
    /// The transport's configuration.
    #[error("transport: {0}")]
    Transport(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] tenderflow_store::StoreError),
}

/// Whether the mailer can send to `email`: it parses as lettre parses a recipient, so an
/// address accepted at registration is never dead-lettered for its form.
pub fn deliverable(email: &str) -> bool {
    email.len() <= 254 && email.trim().parse::<lettre::Address>().is_ok()
}
