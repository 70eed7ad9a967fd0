//! The workflow definition format: what a JSON file in `workflows/` declares.
//!
//! These types mirror `workflows/schema/workflow.schema.json`; the schema checks the shape,
//! [`crate::validate`] checks the meaning, and only a [`Workflow`] that passed both reaches the
//! engine.

use crate::time::Calendar;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

mod contracts;
mod documents;
mod evaluation;
mod names;
mod notifications;
mod procedure;
mod transitions;

pub use contracts::*;
pub use documents::*;
pub use evaluation::*;
pub use names::*;
pub use notifications::*;
pub use procedure::*;
pub use transitions::*;

/// A definition as written in its file (shape checked, meaning not yet).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Definition {
    /// The JSON Schema the file declares (for editors).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Definition id.
    pub id: String,
    /// Version; a tender pins the version it started with.
    pub version: String,
    /// Title.
    pub title: Localized,
    /// Rule pack.
    pub rule_pack: RulePack,
    /// Rules followed, statutory or adopted.
    pub rules: Vec<RuleDecl>,
    /// Open (anyone may bid) or invited (only the invitees the announcement names).
    #[serde(default)]
    pub procedure: Procedure,
    /// Working-day calendar.
    #[serde(default)]
    pub calendar: Calendar,
    /// Roles.
    pub roles: Vec<RoleDecl>,
    /// States.
    pub states: Vec<StateDecl>,
    /// Start.
    pub initial: Initial,
    /// Transitions.
    pub transitions: Vec<Transition>,
    /// Time limits.
    pub schedule: Schedule,
    /// Forms (JSON Schemas) by name.
    pub forms: BTreeMap<String, serde_json::Value>,
    /// Evaluation rules.
    pub evaluation: Evaluation,
    /// Award rules.
    pub award: AwardRules,
    /// Sign-off gates.
    #[serde(default)]
    pub gates: Vec<Gate>,
    /// Notification rules.
    #[serde(default)]
    pub notifications: Vec<NotificationRule>,
    /// How tenders are published (OCDS buyer, currency, category).
    #[serde(default)]
    pub publication: Publication,
    /// Tender documents and bid dossiers: limits, media types, the bid's document slots.
    #[serde(default)]
    pub documents: Documents,
    /// The stage after the award: agreements, delivery reports, performance evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contracts: Option<Contracts>,
}

/// How tenders of a definition are published; each field falls back to the server's
/// configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    /// The buyer (procuring entity).
    #[serde(default)]
    pub buyer: Option<PublicationParty>,
    /// ISO 4217 currency of prices.
    #[serde(default)]
    pub currency: Option<String>,
    /// `goods`, `works` or `services`.
    #[serde(default)]
    pub category: Option<String>,
}

/// An organisation as published.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicationParty {
    /// Identifier (scheme-prefixed, e.g. `CN-USCC-…`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Where bidders write to it: mail about its tenders answers there (`Reply-To`).
    #[serde(default)]
    pub email: Option<String>,
}

/// A validated definition with its forms compiled, ready for the engine.
pub struct Workflow {
    pub(crate) def: Definition,
    pub(crate) forms: HashMap<String, jsonschema::Validator>,
    pub(crate) terminal: HashMap<String, Option<Outcome>>,
    pub(crate) sha256: String,
    /// Transition index by (state, command), with `*` expanded, for `decide`'s hot path.
    pub(crate) by_command: HashMap<String, HashMap<CommandName, usize>>,
}

impl fmt::Debug for Workflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workflow")
            .field("id", &self.def.id)
            .field("version", &self.def.version)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

impl Workflow {
    /// The definition as written.
    pub fn definition(&self) -> &Definition {
        &self.def
    }
    /// SHA-256 (hex) of the file's bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
    /// Whether `state` ends the procedure.
    pub fn is_terminal(&self, state: &str) -> bool {
        self.terminal.contains_key(state)
    }
    /// The outcome of a terminal state.
    pub fn outcome(&self, state: &str) -> Option<Outcome> {
        self.terminal.get(state).copied().flatten()
    }
    pub(crate) fn form(&self, name: &str) -> Option<&jsonschema::Validator> {
        self.forms.get(name)
    }
    /// The stage after the award, if the definition declares one.
    pub fn contracts(&self) -> Option<&Contracts> {
        self.def.contracts.as_ref()
    }
    /// Transitions applying in `state`.
    pub fn transitions_from<'a>(&'a self, state: &'a str) -> impl Iterator<Item = &'a Transition> {
        let terminal = self.is_terminal(state);
        self.def
            .transitions
            .iter()
            .filter(move |t| t.from.iter().any(|f| f == state || (f == "*" && !terminal)))
    }
    /// The transition for `command` in `state`, if the definition has one.
    pub fn transition(&self, state: &str, command: CommandName) -> Option<&Transition> {
        let i = *self.by_command.get(state)?.get(&command)?;
        self.def.transitions.get(i)
    }

    /// The gate with this id.
    pub fn gate(&self, id: &str) -> Option<&Gate> {
        self.def.gates.iter().find(|g| g.id == id)
    }
}
