//! Transitions, time rules, the schedule and staff obligations.

use super::*;
use crate::time::Period;
use serde::{Deserialize, Serialize};

/// A transition: a command or a timer moves the procedure from one of `from` to `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Transition {
    /// States it applies in; `"*"` means every non-terminal state.
    pub from: Vec<String>,
    /// The command, for command transitions.
    #[serde(default)]
    pub command: Option<CommandName>,
    /// The timer, for time-driven transitions.
    #[serde(default)]
    pub timer: Option<TimerName>,
    /// The next state; absent means the state does not change.
    #[serde(default)]
    pub to: Option<String>,
    /// Roles that may issue the command.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Gates that must be signed off first.
    #[serde(default)]
    pub gates: Vec<String>,
    /// The form the command's payload must satisfy.
    #[serde(default)]
    pub form: Option<String>,
    /// Where the procedure goes when the minimum number of bids is not met.
    #[serde(default)]
    pub fail_to: Option<String>,
}

/// A schedule constraint as written: a period and the rule it cites.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeRule {
    /// How many units.
    pub amount: u32,
    /// Which unit.
    pub unit: crate::time::PeriodUnit,
    /// The rule id this constraint encodes.
    #[serde(default)]
    pub rule: Option<String>,
}

impl TimeRule {
    /// The period.
    pub fn period(&self) -> Period {
        Period {
            amount: self.amount,
            unit: self.unit,
        }
    }
}

/// Time limits of the procedure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Schedule {
    /// Least time from publication to the bid deadline.
    pub min_bid_period: TimeRule,
    /// A clarification affecting bid preparation must come at least this long before the
    /// deadline; otherwise the deadline moves so that this much time remains.
    #[serde(default)]
    pub clarification_cutoff: Option<TimeRule>,
    /// Objections to the documents must be raised at least this long before the deadline.
    #[serde(default)]
    pub objection_cutoff: Option<TimeRule>,
    /// Objections must be answered within this period.
    #[serde(default)]
    pub objection_answer: Option<TimeRule>,
    /// Publicity (candidate publicity, result announcement or standstill) after the proposal.
    #[serde(default)]
    pub publicity: Option<TimeRule>,
    /// Time documents stay available after publication.
    #[serde(default)]
    pub documents_available: Option<TimeRule>,
    /// Deadlines on the procuring entity's own steps (report → decision → notice, answers to
    /// objections, …): shown with their due dates and flagged when overdue.
    #[serde(default)]
    pub obligations: Vec<Obligation>,
}

/// Something that must happen within a period after something else happened.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Obligation {
    /// Obligation id.
    pub id: String,
    /// What is due.
    pub title: Localized,
    /// The event that starts the clock (its first occurrence).
    pub after: EventName,
    /// The event that meets the obligation (its first occurrence after the start).
    pub until: EventName,
    /// How long it may take (its `rule` cites the article).
    pub within: TimeRule,
}
