//! The stage after the award: each partner's agreement, its delivery reports and the
//! partner's performance evaluation, as the definition declares them.
//!
//! The commands of this stage (`draft_agreement`, `sign_agreement`, `report_delivery`,
//! `review_delivery`, `evaluate_performance`, `terminate_agreement`) are allowed by ordinary
//! transitions from the awarded state, with their roles, forms and gates (a per-partner gate
//! on `terminate_agreement` is signed for the partner concerned); this section says what the
//! engine checks on them.

use super::*;
use crate::numbers::{Score, Weight};
use serde::{Deserialize, Serialize};

/// The `contracts` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contracts {
    /// The agreement with each winner.
    pub agreement: AgreementRules,
    /// Delivery reports against the agreement's commitments.
    #[serde(default)]
    pub delivery: Option<DeliveryRules>,
    /// Performance evaluation at intervals.
    #[serde(default)]
    pub performance: Option<PerformanceRules>,
}

/// How an agreement is drafted and signed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgreementRules {
    /// The form the agreement's terms satisfy.
    pub form: String,
    /// Both sides sign within this period after the award (its `rule` cites the article).
    pub sign_within: TimeRule,
    /// A gate (signed per partner) the agreement needs before it is in force.
    #[serde(default)]
    pub gate: Option<String>,
    /// Terms that must follow the winning bid (PRC Bidding Law art. 46): an agreement that
    /// departs from them is refused.
    #[serde(default)]
    pub binding: Vec<Binding>,
    /// The term listing the service items (an array of objects with an `id`), which delivery
    /// reports name.
    #[serde(default)]
    pub items: Option<String>,
    /// Terms published on the notice board and in OCDS once the agreement is in force
    /// (service items, discounts, opening hours, how workers sign up).
    #[serde(default)]
    pub published: Vec<String>,
    /// The term naming the venue (or site) the agreement is carried out at, if any: the
    /// quarterly report groups by it.
    #[serde(default)]
    pub venue: Option<String>,
    /// The term holding the agreement's value in minor units, if any (OCDS `contracts.value`).
    #[serde(default)]
    pub value: Option<String>,
    /// The terms holding the agreement's period (`YYYY-MM-DD` start and end), if any.
    #[serde(default)]
    pub period: Option<TermPeriod>,
}

/// Where an agreement's period is written in its terms.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TermPeriod {
    /// The start date's term.
    pub start: String,
    /// The end date's term.
    pub end: String,
}

/// A term bound to the winning bid.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Binding {
    /// The agreement's term (a top-level field of the terms).
    pub term: String,
    /// The bid's field it follows (a top-level field of the bid).
    pub bid: String,
    /// How: the same value, or a number no lower / no higher than the bid's.
    pub rule: BindingRule,
}

/// How a term follows the bid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingRule {
    /// Equal to the bid's value.
    Equal,
    /// A number at least the bid's (a promise may be improved, never lowered).
    AtLeast,
    /// A number at most the bid's (a fee may be lowered, never raised).
    AtMost,
}

/// What a delivery report records and when a partner is behind.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryRules {
    /// The report's form.
    pub form: String,
    /// Field names in the report.
    pub fields: DeliveryFields,
    /// The agreement's term promising the share (percent) of places free or discounted.
    pub promised_share: String,
    /// A partner is behind when its delivered share falls below this percentage of its
    /// promise …
    pub alert_below: Weight,
    /// … once it has offered at least this many places.
    #[serde(default)]
    pub min_places: u32,
}

/// Field names of a delivery report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryFields {
    /// The activity's date (`YYYY-MM-DD`).
    pub date: String,
    /// The service item (an id among the agreement's items).
    pub item: String,
    /// Participants.
    pub participants: String,
    /// Places offered.
    pub places_offered: String,
    /// Places given free.
    pub free_places: String,
    /// Places given at a discount.
    pub discounted_places: String,
    /// Complaints received about the activity, if the form records them.
    #[serde(default)]
    pub complaints: Option<String>,
    /// Revenue received (minor units), if the form records it (OCDS transactions).
    #[serde(default)]
    pub revenue: Option<String>,
}

/// Performance evaluation rounds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerformanceRules {
    /// A round is due every period after the agreement is in force.
    pub every: TimeRule,
    /// Criteria, each scored 0–100; weights sum to 1.
    pub criteria: Vec<PerformanceCriterion>,
    /// A total below this gets a warning.
    pub minimum: Score,
    /// Warnings a partner must have had before it may be terminated.
    #[serde(default = "one")]
    pub warnings_before_termination: u32,
}

fn one() -> u32 {
    1
}

/// A performance criterion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceCriterion {
    /// Id (a key of the scores).
    pub id: String,
    /// Display name.
    pub title: Localized,
    /// Weight in [0, 1].
    pub weight: Weight,
}
