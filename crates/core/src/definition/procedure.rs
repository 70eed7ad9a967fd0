//! The procedure and its states: kind, rule pack, roles, states and outcomes.

use serde::{Deserialize, Serialize};

/// Text in both languages Tenderflow ships.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    /// Simplified Chinese.
    #[serde(rename = "zh-CN")]
    pub zh_cn: String,
    /// English.
    pub en: String,
}

/// The legal regime a definition follows; its statutory floors are checked at load time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RulePack {
    /// PRC Bidding Law and its Implementing Regulations.
    PrcBiddingLaw,
    /// PRC Government Procurement Law, its regulation and MOF Order 87.
    PrcGovProcurement,
    /// EU Directive 2014/24/EU, open procedure.
    #[serde(rename = "eu-2014-24")]
    Eu201424,
    /// No statute applies; the organisation adopts tender rules by reference.
    Adopted,
}

/// Whether a rule is required by law or chosen by the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleBasis {
    /// The law requires it.
    Statutory,
    /// The organisation chose to follow it.
    Adopted,
}

/// One rule a definition follows, cited by the constraints that encode it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuleDecl {
    /// Stable id, referenced as `rule` elsewhere in the definition.
    pub id: String,
    /// Statutory or adopted.
    pub basis: RuleBasis,
    /// Article cited in error messages, e.g. "BL 24".
    #[serde(default)]
    pub article: Option<String>,
    /// What the rule says.
    pub summary: Localized,
}

/// How bidders come to the procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProcedureKind {
    /// Anyone may bid.
    #[default]
    Open,
    /// Only the organisations the announcement invites may bid (邀请招标).
    Invited,
}

/// The procedure type and, for invited procedures, the least number of invitees.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Procedure {
    /// Open or invited.
    pub kind: ProcedureKind,
    /// Fewest invitees an invited procedure's announcement must name.
    #[serde(default)]
    pub min_invitees: u32,
    /// Rule cited.
    #[serde(default)]
    pub rule: Option<String>,
}

/// A role people act in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDecl {
    /// Role id, e.g. `inspector`.
    pub id: String,
    /// Display name.
    pub title: Localized,
}

/// How a procedure ended, for terminal states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Award made.
    Awarded,
    /// Cancelled by the procuring entity.
    Cancelled,
    /// Failed (too few bids, no qualifying bid): re-tender.
    Unsuccessful,
}

/// A state of the procedure.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateDecl {
    /// State id.
    pub id: String,
    /// Display name.
    pub title: Localized,
    /// Whether the procedure ends here.
    #[serde(default)]
    pub terminal: bool,
    /// How it ended, for terminal states.
    #[serde(default)]
    pub outcome: Option<Outcome>,
}

/// Who may create a tender and which state it starts in.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Initial {
    /// The first state.
    pub state: String,
    /// Roles that may create a draft.
    pub roles: Vec<String>,
}
