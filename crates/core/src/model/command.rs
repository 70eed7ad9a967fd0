//! Commands: what people ask the engine to do, with their payloads.

use super::*;
use crate::definition::CommandName;
use crate::numbers::Money;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;

/// A lot of a tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Lot {
    /// Lot id.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub id: Arc<str>,
    /// Title.
    pub title: String,
}

/// The lot id used when an announcement declares no lots.
pub const DEFAULT_LOT: &str = "1";

/// A member of the evaluation committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    /// The evaluator.
    pub id: ActorId,
    /// Whether an expert (as opposed to a representative of the procuring entity).
    #[serde(default)]
    pub expert: bool,
}

/// A request to remove a committee member who has scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Removal {
    /// The member.
    pub member: ActorId,
    /// Why.
    pub reason: String,
}

/// A committee member removed after scoring: who, when, why and whose approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RemovedMember {
    /// The member.
    pub member: ActorId,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
    /// The inspector who approved the removal.
    pub approved_by: ActorId,
}

/// What an actor asks for: one variant per command, each with its payload struct. In JSON
/// the command's name is the `command` tag and the payload's fields (camelCase) sit beside
/// it: `{"command": "submit_bid", "content": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// The commands without fields are empty struct variants (`Award {}`), not unit variants:
// with `deny_unknown_fields` they refuse extra fields beside the tag, which serde lets a
// unit variant of an internally tagged enum ignore. The payload structs refuse their own.
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommandBody {
    /// Publish the announcement on its channels.
    Publish(Publish),
    /// Publish a clarification or amendment.
    Amend(Amend),
    /// Ask a clarification question (a bidder).
    AskQuestion(AskQuestion),
    /// Answer a question, published to every bidder without naming who asked (staff).
    AnswerQuestion(AnswerQuestion),
    /// Submit a sealed bid.
    SubmitBid(SubmitBid),
    /// Replace one's bid.
    ReplaceBid(ReplaceBid),
    /// Withdraw one's bid.
    WithdrawBid(WithdrawBid),
    /// Close submission (the deadline has passed).
    CloseSubmission {},
    /// Open the bids.
    OpenBids {},
    /// Appoint (or re-appoint) the committee.
    AppointCommittee(AppointCommittee),
    /// Declare a conflict of interest and withdraw from the committee.
    DeclareConflict(DeclareConflict),
    /// Reject a bid at qualification or responsiveness.
    DisqualifyBid(DisqualifyBid),
    /// Submit one's score sheet for one bid.
    SubmitScores(SubmitScores),
    /// Finalize the report.
    FinalizeEvaluation(FinalizeEvaluation),
    /// Propose the award and start publicity.
    ProposeAward {},
    /// Award.
    Award {},
    /// Raise an objection.
    RaiseObjection(RaiseObjection),
    /// Answer an objection.
    AnswerObjection(AnswerObjection),
    /// Sign off a gate.
    SignOff(SignOff),
    /// Record an observation.
    RecordObservation(RecordObservation),
    /// Raise an irregularity; the procedure halts.
    RaiseIrregularity(RaiseIrregularity),
    /// Resolve an irregularity.
    ResolveIrregularity(ResolveIrregularity),
    /// Cancel with a reason.
    Cancel(Cancel),
    /// Draft a winner's agreement (terms validated and bound to the winning bid).
    DraftAgreement(DraftAgreement),
    /// Sign an agreement (the buyer's staff, or the partner).
    SignAgreement(SignAgreement),
    /// Report an activity delivered under one's agreement (a partner).
    ReportDelivery(ReportDelivery),
    /// Verify or query a delivery report (staff).
    ReviewDelivery(ReviewDelivery),
    /// Score a partner's performance for the round that is due (staff).
    EvaluatePerformance(EvaluatePerformance),
    /// Terminate a partner's agreement with a reason (staff, after the warnings and the
    /// gate the definition requires).
    TerminateAgreement(TerminateAgreement),
    /// Record the delegation of the procedure by a higher-level body (staff, before it is
    /// published).
    Delegate(Delegate),
}

/// Declares a command's payload struct: camelCase fields, unknown fields refused.
macro_rules! payload {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty),*
        }
    };
}

payload! {
    /// `publish`: the announcement, validated against the transition's form.
    Publish {
/// Announcement content (validated against the transition's form).
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        announcement: Arc<Value>,
        /// Channels it is published on (identical content on each).
        channels: Vec<String>,
        /// Bid deadline (and opening time).
        deadline: Timestamp,
        /// Lots; none means one lot.
        #[serde(default)]
        lots: Vec<Lot>,
        /// Estimated price.
        #[serde(default)]
        estimated_price: Option<Money>,
        /// Bid security required.
        #[serde(default)]
        bid_security: Option<Money>,
        /// For an invited procedure: the organisations invited (only they may bid).
        #[serde(default)]
        invitees: Vec<ActorId>,
        /// Documents published with it (described as the upload answered them).
        #[serde(default)]
        documents: Vec<Document>,
    }
}

payload! {
    /// `amend`: a clarification or amendment.
    Amend {
        /// What changes.
        text: String,
        /// Whether it affects the preparation of bids (moves the deadline when late).
        affects_bids: bool,
        /// A new deadline, if the procuring entity sets one.
        #[serde(default)]
        new_deadline: Option<Timestamp>,
        /// Documents published with it (described as the upload answered them).
        #[serde(default)]
        documents: Vec<Document>,
    }
}

payload! {
    /// `ask_question`: a bidder's clarification question, before the clarification cut-off.
    AskQuestion {
        /// The question.
        text: String,
    }
}

payload! {
    /// `answer_question`: the answer, published to every bidder and on the notice board
    /// without naming who asked; one that affects bid preparation extends the deadline as
    /// the rule pack requires.
    AnswerQuestion {
        /// Question number.
        question: u32,
        /// The answer.
        answer: String,
        /// Whether it affects the preparation of bids.
        affects_bids: bool,
        /// Documents published with it (described as the upload answered them).
        #[serde(default)]
        documents: Vec<Document>,
    }
}

payload! {
    /// `submit_bid` (and `replace_bid`): a sealed bid for a lot.
    SubmitBid {
        /// Lot (required when the tender has several).
        #[serde(default)]
        lot: Option<String>,
/// The bid (validated against the bid form).
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        content: Arc<Value>,        /// The bid's documents, each in a slot of the bid form; sealed with the bid.
        #[serde(default)]
        documents: Vec<Document>,
    }
}

/// `replace_bid`: the new bid, shaped like a submission.
pub type ReplaceBid = SubmitBid;

payload! {
    /// `withdraw_bid`: the lot whose bid is withdrawn.
    WithdrawBid {
        /// Lot.
        #[serde(default)]
        lot: Option<String>,
    }
}

payload! {
    /// `appoint_committee`: the members, and any who leave after scoring.
    AppointCommittee {
        /// Members.
        members: Vec<Member>,
        /// Members who have submitted score sheets and leave the committee: each with the
        /// reason, and only with an inspector's approval (an observation whose content has
        /// `approveRemoval` naming the member, recorded after their last sheet).
        #[serde(default)]
        removals: Vec<Removal>,
        /// Experts to draw at random from a pool (see [`crate::draw`]): they join `members`
        /// as experts; the draw is recorded and anyone can verify it.
        #[serde(default)]
        draw: Option<DrawRequest>,
    }
}

/// An expert draw asked for with a committee appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DrawRequest {
    /// How many experts to draw.
    pub size: u32,
    /// The pool (each expert with its fields and declared ties).
    pub pool: Vec<super::PoolEntry>,
}

payload! {
    /// `declare_conflict`: an evaluator's conflict of interest.
    DeclareConflict {
        /// The bidder the conflict concerns.
        bidder: ActorId,
        /// Why.
        reason: String,
    }
}

payload! {
    /// `disqualify_bid`: a bid rejected at qualification or responsiveness.
    DisqualifyBid {
        /// Lot.
        #[serde(default)]
        lot: Option<String>,
        /// Bidder.
        bidder: ActorId,
        /// Why.
        reason: String,
    }
}

payload! {
    /// `submit_scores`: one evaluator's sheet for one bid.
    SubmitScores {
        /// Lot.
        #[serde(default)]
        lot: Option<String>,
        /// Bidder scored.
        bidder: ActorId,
/// The sheet: `{"scores": {criterion: 0–100}, …}` (validated against the form).
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        sheet: Arc<Value>,
        /// Why an evaluator's submitted sheet for this bid is corrected: required for a
        /// second sheet (both stay in the record).
        #[serde(default)]
        correction: Option<String>,
    }
}

payload! {
    /// `finalize_evaluation`. Random tie-breaks are decided by a seed nobody chooses: derived
    /// from the bid commitments and, where an inspector committed to a value when signing
    /// off the opening (`drawCommitment` = SHA-256 of it), that value revealed now
    /// (see `scoring::draw_seed`).
    FinalizeEvaluation {
        /// The value the inspector committed to at opening, revealed.
        #[serde(default)]
        draw_reveal: Option<String>,
    }
}

payload! {
    /// `raise_objection`: a bidder's objection (validated against the form).
    RaiseObjection {
/// The objection.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        content: Arc<Value>,
    }
}

payload! {
    /// `answer_objection`: the answer to one objection.
    AnswerObjection {
        /// Objection number.
        objection: u32,
        /// The answer.
        answer: String,
        /// Whether the objection is upheld.
        upheld: bool,
    }
}

payload! {
    /// `sign_off`: a signature on a gate.
    SignOff {
        /// Gate id.
        gate: String,
        /// The partner whose agreement a per-partner gate concerns (agreement, termination).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner: Option<ActorId>,
/// The sign-off form.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        content: Arc<Value>,
    }
}

payload! {
    /// `record_observation`: an inspector's observation.
    RecordObservation {
/// The observation form.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        content: Arc<Value>,
    }
}

payload! {
    /// `raise_irregularity`: halts the procedure until resolved.
    RaiseIrregularity {
/// The irregularity form.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        content: Arc<Value>,
    }
}

payload! {
    /// `resolve_irregularity`: how one irregularity was resolved.
    ResolveIrregularity {
        /// Irregularity number.
        irregularity: u32,
        /// How it was resolved.
        resolution: String,
    }
}

payload! {
    /// `cancel`: the reason.
    Cancel {
        /// Why.
        reason: String,
    }
}

impl CommandBody {
    /// The definition's name for this command.
    pub fn name(&self) -> CommandName {
        use CommandName as N;
        match self {
            Self::Publish { .. } => N::Publish,
            Self::Amend { .. } => N::Amend,
            Self::AskQuestion { .. } => N::AskQuestion,
            Self::AnswerQuestion { .. } => N::AnswerQuestion,
            Self::SubmitBid { .. } => N::SubmitBid,
            Self::ReplaceBid { .. } => N::ReplaceBid,
            Self::WithdrawBid { .. } => N::WithdrawBid,
            Self::CloseSubmission {} => N::CloseSubmission,
            Self::OpenBids {} => N::OpenBids,
            Self::AppointCommittee { .. } => N::AppointCommittee,
            Self::DeclareConflict { .. } => N::DeclareConflict,
            Self::DisqualifyBid { .. } => N::DisqualifyBid,
            Self::SubmitScores { .. } => N::SubmitScores,
            Self::FinalizeEvaluation { .. } => N::FinalizeEvaluation,
            Self::ProposeAward {} => N::ProposeAward,
            Self::Award {} => N::Award,
            Self::RaiseObjection { .. } => N::RaiseObjection,
            Self::AnswerObjection { .. } => N::AnswerObjection,
            Self::SignOff { .. } => N::SignOff,
            Self::RecordObservation { .. } => N::RecordObservation,
            Self::RaiseIrregularity { .. } => N::RaiseIrregularity,
            Self::ResolveIrregularity { .. } => N::ResolveIrregularity,
            Self::Cancel { .. } => N::Cancel,
            Self::DraftAgreement { .. } => N::DraftAgreement,
            Self::SignAgreement { .. } => N::SignAgreement,
            Self::ReportDelivery { .. } => N::ReportDelivery,
            Self::ReviewDelivery { .. } => N::ReviewDelivery,
            Self::EvaluatePerformance { .. } => N::EvaluatePerformance,
            Self::TerminateAgreement { .. } => N::TerminateAgreement,
            Self::Delegate { .. } => N::Delegate,
        }
    }
}

payload! {
    /// `draft_agreement`: a winner's agreement, drafted from the award and the winning bid;
    /// a new draft replaces the last until someone signs.
    DraftAgreement {
        /// The winner.
        partner: ActorId,
        /// The agreement's terms (validated against the definition's agreement form).
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        terms: Arc<Value>,
    }
}

payload! {
    /// `sign_agreement`: one side's signature (staff sign for the buyer; the partner for
    /// itself).
    SignAgreement {
        /// The partner whose agreement is signed.
        partner: ActorId,
    }
}

payload! {
    /// `report_delivery`: one activity delivered under the partner's agreement.
    ReportDelivery {
        /// The partner (the one reporting).
        partner: ActorId,
        /// The report (validated against the definition's delivery form).
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        report: Arc<Value>,
    }
}

payload! {
    /// `review_delivery`: staff verify a delivery report, or query it (a queried report
    /// does not count until verified).
    ReviewDelivery {
        /// The partner.
        partner: ActorId,
        /// The report's number.
        report: u32,
        /// Verified (true) or queried (false).
        verified: bool,
        /// What staff found or ask.
        #[serde(default)]
        note: String,
    }
}

payload! {
    /// `evaluate_performance`: scores 0–100 per criterion for the round that is due.
    EvaluatePerformance {
        /// The partner.
        partner: ActorId,
        /// Score per criterion id.
        #[cfg_attr(feature = "openapi", schema(value_type = Object))]
        scores: std::collections::BTreeMap<String, crate::numbers::Score>,
        /// The evaluators' remarks.
        #[serde(default)]
        note: String,
    }
}

payload! {
    /// `terminate_agreement`: ends a partner's agreement; the reason is public.
    TerminateAgreement {
        /// The partner.
        partner: ActorId,
        /// Why.
        reason: String,
    }
}

/// A body (an organisation) as named in a delegation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// Identifier (scheme-prefixed, e.g. `CN-USCC-…`).
    pub id: String,
    /// Name.
    pub name: String,
}

payload! {
    /// `delegate`: a higher-level body delegates this procedure (e.g. a venue's recruitment
    /// and supervision) to the body running it; the delegating body's people named as
    /// overseers read everything, act on nothing, and their inspectors sign the gates that
    /// allow overseers.
    Delegate {
        /// The body that delegates.
        delegated_by: Body,
        /// The body that runs the procedure.
        delegate: Body,
        /// What is delegated.
        scope: String,
        /// The delegating body's accounts that oversee it.
        overseers: Vec<ActorId>,
    }
}

/// A command: who asks, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Command {
    /// Who.
    pub actor: Actor,
    /// What.
    #[serde(flatten)]
    pub body: CommandBody,
}
