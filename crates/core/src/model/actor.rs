//! Who acts: actor ids (the one id pattern) and actors with their role.

use crate::numbers::Score;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Who acts: a person or organisation id and the role they act in.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActorId(Arc<str>);

impl std::hash::Hash for ActorId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

// Ids are compared on every search of the state's ordered maps; most comparisons of equal
// ids compare clones of one allocation, which the pointer settles without reading the text.
impl PartialEq for ActorId {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0 == other.0
    }
}

impl Ord for ActorId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            std::cmp::Ordering::Equal
        } else {
            self.0.cmp(&other.0)
        }
    }
}

impl PartialOrd for ActorId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

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

/// A role the engine and the application know by name. A definition may declare further
/// roles (they are plain text in an [`Actor`]); these are the ones code decides on, so that a
/// new one is one constant here and a compile error wherever it must be handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Role(&'static str);

impl Role {
    /// Procurement staff.
    pub const STAFF: Self = Self("staff");
    /// Bidders.
    pub const BIDDER: Self = Self("bidder");
    /// Members of an evaluation committee.
    pub const EVALUATOR: Self = Self("evaluator");
    /// Discipline inspectors.
    pub const INSPECTOR: Self = Self("inspector");
    /// Administrators.
    pub const ADMIN: Self = Self("admin");
    /// The engine's own clock, which fires timers.
    pub const SYSTEM: Self = Self("system");
    /// The roles an account (a person or organisation) may have.
    pub const PEOPLE: [Self; 5] = [
        Self::STAFF,
        Self::BIDDER,
        Self::EVALUATOR,
        Self::INSPECTOR,
        Self::ADMIN,
    ];

    /// The role's name.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// Whether `name` is this role.
    pub fn is(self, name: &str) -> bool {
        self.0 == name
    }

    /// The known role called `name`, if it is one.
    pub fn known(name: &str) -> Option<Self> {
        Self::PEOPLE
            .into_iter()
            .chain([Self::SYSTEM])
            .find(|r| r.is(name))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// The role the engine's own timers act in.
pub const SYSTEM_ROLE: &str = Role::SYSTEM.as_str();

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
