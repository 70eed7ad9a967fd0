//! Who acts: actor ids (the one id pattern) and actors with their role.

use crate::numbers::Score;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Who acts: a person or organisation id and the role they act in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActorId(Arc<str>);

impl TryFrom<String> for ActorId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s).ok_or_else(|| crate::ids::problem(&s).unwrap_or_default())
    }
}

impl From<ActorId> for String {
    fn from(id: ActorId) -> Self {
        id.0.to_string()
    }
}

impl ActorId {
    /// Parses an id ([`crate::ids::ID_PATTERN`]).
    pub fn parse(s: &str) -> Option<Self> {
        crate::ids::is_valid(s).then(|| Self(Arc::from(s)))
    }
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ActorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One evaluator's scores for one bid, by criterion; shared between state, events and report.
pub type Sheet = Arc<BTreeMap<Arc<str>, Score>>;

/// The role the engine's own timers act in.
pub const SYSTEM_ROLE: &str = "system";

/// An actor: id and role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// Who.
    pub id: ActorId,
    /// In which role.
    pub role: Arc<str>,
}

impl Actor {
    /// An actor with `id` in `role`; `None` for an invalid id.
    pub fn new(id: &str, role: &str) -> Option<Self> {
        Some(Self {
            id: ActorId::parse(id)?,
            role: Arc::from(role),
        })
    }
    /// The engine's clock, which fires timers.
    pub fn system() -> Self {
        Self {
            id: ActorId("system".into()),
            role: SYSTEM_ROLE.into(),
        }
    }
}
