//! The workflow definition format: what a JSON file in `workflows/` declares.
//!
//! These types mirror `workflows/schema/workflow.schema.json`; the schema checks the shape,
//! [`crate::validate`] checks the meaning, and only a [`Workflow`] that passed both reaches the
//! engine.

use crate::numbers::{Score, Weight};
use crate::time::{Calendar, Period};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

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

macro_rules! names {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vm])* #[serde(rename = $text)] $variant,)*
        }
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];
            /// The name as written in definitions and events.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(
    /// The commands the engine understands; a definition says where and by whom each is allowed.
    CommandName {
        /// Publish the announcement.
        Publish = "publish",
        /// Publish a clarification or amendment.
        Amend = "amend",
        /// Submit a sealed bid.
        SubmitBid = "submit_bid",
        /// Replace one's bid before the deadline.
        ReplaceBid = "replace_bid",
        /// Withdraw one's bid before the deadline.
        WithdrawBid = "withdraw_bid",
        /// Close submission once the deadline has passed (the deadline timer does the same).
        CloseSubmission = "close_submission",
        /// Open the bids.
        OpenBids = "open_bids",
        /// Appoint the evaluation committee.
        AppointCommittee = "appoint_committee",
        /// An evaluator declares a conflict of interest and withdraws.
        DeclareConflict = "declare_conflict",
        /// The committee rejects a bid (qualification or responsiveness).
        DisqualifyBid = "disqualify_bid",
        /// An evaluator submits a score sheet.
        SubmitScores = "submit_scores",
        /// Finalize the evaluation report.
        FinalizeEvaluation = "finalize_evaluation",
        /// Propose the award (ranked candidates) and start publicity.
        ProposeAward = "propose_award",
        /// Award the contract(s).
        Award = "award",
        /// Raise an objection.
        RaiseObjection = "raise_objection",
        /// Answer an objection.
        AnswerObjection = "answer_objection",
        /// Sign off a gate.
        SignOff = "sign_off",
        /// Record an oversight observation.
        RecordObservation = "record_observation",
        /// Raise an irregularity: the procedure halts.
        RaiseIrregularity = "raise_irregularity",
        /// Resolve an irregularity: the procedure resumes.
        ResolveIrregularity = "resolve_irregularity",
        /// Cancel the procedure.
        Cancel = "cancel",
    }
);

names!(
    /// Time-driven transitions.
    TimerName {
        /// The bid deadline is reached.
        BidDeadline = "bid_deadline",
        /// The publicity (or standstill) period is over.
        PublicityEnd = "publicity_end",
    }
);

names!(
    /// Kinds of events, named in notification rules.
    EventName {
        /// A draft was created.
        DraftCreated = "draft_created",
        /// The announcement was published.
        AnnouncementPublished = "announcement_published",
        /// A clarification or amendment was published.
        AmendmentPublished = "amendment_published",
        /// A bid was received.
        BidSubmitted = "bid_submitted",
        /// A bid was replaced.
        BidReplaced = "bid_replaced",
        /// A bid was withdrawn.
        BidWithdrawn = "bid_withdrawn",
        /// Submission closed at the deadline.
        SubmissionClosed = "submission_closed",
        /// Bids were opened.
        BidsOpened = "bids_opened",
        /// The committee was appointed.
        CommitteeAppointed = "committee_appointed",
        /// An evaluator withdrew for a conflict of interest.
        ConflictDeclared = "conflict_declared",
        /// A bid was rejected by the committee.
        BidDisqualified = "bid_disqualified",
        /// An evaluator submitted scores.
        ScoresSubmitted = "scores_submitted",
        /// The evaluation report is final.
        EvaluationFinalized = "evaluation_finalized",
        /// The award was proposed; publicity started.
        AwardProposed = "award_proposed",
        /// The publicity period ended.
        PublicityEnded = "publicity_ended",
        /// The award is final.
        Awarded = "awarded",
        /// An objection was raised.
        ObjectionRaised = "objection_raised",
        /// An objection was answered.
        ObjectionAnswered = "objection_answered",
        /// A gate was signed off.
        SignedOff = "signed_off",
        /// An observation was recorded.
        ObservationRecorded = "observation_recorded",
        /// An irregularity was raised.
        IrregularityRaised = "irregularity_raised",
        /// An irregularity was resolved.
        IrregularityResolved = "irregularity_resolved",
        /// The procedure was cancelled.
        Cancelled = "cancelled",
        /// The procedure failed (too few bids or no qualifying bid).
        ProcedureFailed = "procedure_failed",
    }
);

names!(
    /// Message templates the notify crate renders.
    MessageKind {
        /// Announcement of a tender.
        Announcement = "announcement",
        /// Clarification or amendment, with the new deadline.
        Amendment = "amendment",
        /// Bid receipt with time and commitment.
        BidReceipt = "bid_receipt",
        /// Bid withdrawn.
        BidWithdrawn = "bid_withdrawn",
        /// Submission closed / opening notice with the opening record.
        OpeningNotice = "opening_notice",
        /// The evaluation report is ready.
        EvaluationReportReady = "evaluation_report_ready",
        /// Award notice to a winner.
        AwardNotice = "award_notice",
        /// Regret notice to an unsuccessful bidder.
        RegretNotice = "regret_notice",
        /// Objection received.
        ObjectionReceived = "objection_received",
        /// Objection answered.
        ObjectionAnswered = "objection_answered",
        /// Irregularity raised.
        IrregularityRaised = "irregularity_raised",
        /// Cancellation.
        Cancellation = "cancellation",
        /// Procedure failed.
        ProcedureFailed = "procedure_failed",
    }
);

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

/// How a criterion's score is obtained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CriterionSource {
    /// Each evaluator scores 0–100; the committee aggregates.
    Evaluators,
    /// lowest qualifying price ÷ bid price × 100.
    Price,
    /// A number from the bid (JSON Pointer `field`) ÷ the highest among qualifying bids × 100.
    BidRatio {
        /// JSON Pointer into the bid content.
        field: String,
    },
}

/// An award criterion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Criterion id (shared, not copied, into every score map).
    pub id: std::sync::Arc<str>,
    /// Display name.
    pub title: Localized,
    /// Weight in [0, 1]; all weights sum to 1.
    pub weight: Weight,
    /// How it is scored.
    pub source: CriterionSource,
}

/// Evaluation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 综合评分法 / most economically advantageous tender: weighted criteria.
    Comprehensive,
    /// Lowest evaluated price wins.
    LowestPrice,
}

/// How members' scores combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The mean of all members' scores.
    Mean,
    /// The mean without one highest and one lowest score.
    TrimmedMean,
}

/// Committee composition rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommitteeRules {
    /// Fewest members.
    pub min_members: u32,
    /// Whether the number of members must be odd.
    #[serde(default)]
    pub odd: bool,
    /// Least share of experts among members (e.g. 0.6667 for two thirds).
    #[serde(default)]
    pub min_expert_share: Option<Weight>,
    /// Rule cited.
    #[serde(default)]
    pub rule: Option<String>,
}

/// One step of the tie-break chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum TieBreak {
    /// Higher total first.
    Total,
    /// Lower price first.
    Price,
    /// Higher score in a criterion first.
    Criterion {
        /// Criterion id.
        criterion: String,
    },
    /// Earlier receipt first.
    ReceivedAt,
    /// A random draw from the seed given when the report is finalized (recorded in the audit
    /// trail).
    Random,
}

/// Evaluation rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evaluation {
    /// Method.
    pub method: Method,
    /// JSON Pointer to the bid's price in integer minor units.
    pub price_field: String,
    /// Criteria with weights (comprehensive method).
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// Committee rules.
    pub committee: CommitteeRules,
    /// Aggregation across evaluators.
    pub aggregation: Aggregation,
    /// Bids below this total are not candidates.
    #[serde(default)]
    pub min_total: Option<Score>,
    /// Tie-break chain after the method's own order.
    pub tie_break: Vec<TieBreak>,
    /// Whether an unsuccessful bidder learns its rank and score.
    #[serde(default)]
    pub disclose_scores_to_bidders: bool,
}

/// How winners are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardMode {
    /// One winner per lot.
    Single,
    /// The top N per lot (multi-award).
    TopN,
    /// The top N per lot join a framework agreement.
    Framework,
}

/// Award rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwardRules {
    /// Single, multi-award or framework.
    pub mode: AwardMode,
    /// Winners per lot.
    pub winners_per_lot: u32,
    /// Most ranked candidates per lot the law allows (Reg 53: 3).
    #[serde(default)]
    pub max_candidates_per_lot: Option<u32>,
    /// Fewer valid bids in a lot than this: the procedure fails.
    pub min_valid_bids: u32,
    /// Most lots an announcement may declare.
    #[serde(default = "one")]
    pub max_lots: u32,
    /// Most bids expected (invited procedures); a top-N above it is impossible.
    #[serde(default)]
    pub max_bidders: Option<u32>,
    /// Largest bid security as a share of the estimated price (e.g. 0.02).
    #[serde(default)]
    pub max_bid_security_share: Option<Weight>,
    /// Rule cited.
    #[serde(default)]
    pub rule: Option<String>,
}

fn one() -> u32 {
    1
}

/// A sign-off gate.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Gate {
    /// Gate id.
    pub id: String,
    /// Display name.
    pub title: Localized,
    /// The state in which it is signed.
    pub state: String,
    /// Roles whose signature counts.
    pub signers: Vec<String>,
    /// Signatures needed.
    #[serde(default = "one")]
    pub min_signatures: u32,
    /// Every active member of the evaluation committee must sign (the evaluation report,
    /// "signed by all members"; a dissent goes into the sign-off form).
    #[serde(default)]
    pub committee: bool,
}

/// Who receives a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every bidder with a bid on the tender.
    AllBidders,
    /// The bidder who caused the event.
    TheBidder,
    /// The winners.
    Winners,
    /// Bidders who did not win.
    UnsuccessfulBidders,
    /// The organisations an invited procedure invites.
    Invitees,
    /// Members of the evaluation committee.
    Committee,
    /// The person who raised the objection being answered.
    Objector,
    /// Everyone holding a role (staff, inspector, registered bidders); the shell resolves it.
    #[serde(untagged)]
    Role(RoleAudience),
}

/// `role:<id>` in a notification rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoleAudience(pub String);

impl Serialize for RoleAudience {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("role:{}", self.0))
    }
}

impl<'de> Deserialize<'de> for RoleAudience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.strip_prefix("role:")
            .map(|r| Self(r.to_owned()))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown audience `{s}`")))
    }
}

/// A notification rule: when `on` happens, send `message` to `to`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationRule {
    /// The event.
    pub on: EventName,
    /// The template.
    pub message: MessageKind,
    /// The recipients.
    pub to: Vec<Audience>,
}

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
