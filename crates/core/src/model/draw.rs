//! What the expert draw ([`crate::draw`]) reads and records: the pool and the record of a
//! draw, kept in the tender's events.

use super::ActorId;
use serde::{Deserialize, Serialize};

/// An expert in the pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PoolEntry {
    /// The evaluator's account.
    pub id: ActorId,
    /// Fields of expertise.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Organisations (account ids) it has declared ties to.
    #[serde(default)]
    pub ties: Vec<String>,
}

/// An expert passed over for a tie to a bidder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Skip {
    /// The expert.
    pub id: ActorId,
    /// The bidder it is tied to.
    pub bidder: String,
}

/// What a draw did, kept in the tender's record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DrawRecord {
    /// The pool as it stood.
    pub pool: Vec<PoolEntry>,
    /// How many experts were asked for.
    pub size: u32,
    /// The seed (hex).
    pub seed: String,
    /// The pool in drawn order.
    pub order: Vec<ActorId>,
    /// Experts passed over for a tie to a bidder.
    pub skipped: Vec<Skip>,
    /// The experts drawn.
    pub drawn: Vec<ActorId>,
}
