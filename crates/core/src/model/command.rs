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
pub struct Lot {
    /// Lot id.
    pub id: Arc<str>,
    /// Title.
    pub title: String,
}

/// The lot id used when an announcement declares no lots.
pub const DEFAULT_LOT: &str = "1";

/// A member of the evaluation committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The evaluator.
    pub id: ActorId,
    /// Whether an expert (as opposed to a representative of the procuring entity).
    #[serde(default)]
    pub expert: bool,
}

/// A request to remove a committee member who has scored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Removal {
    /// The member.
    pub member: ActorId,
    /// Why.
    pub reason: String,
}

/// A committee member removed after scoring: who, when, why and whose approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// What an actor asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommandBody {
    /// Create a tender in the definition's initial state.
    CreateDraft {
        /// The tender's id.
        tender_id: String,
    },
    /// Publish the announcement on its channels.
    Publish {
        /// Announcement content (validated against the transition's form).
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
    },
    /// Publish a clarification or amendment.
    Amend {
        /// What changes.
        text: String,
        /// Whether it affects the preparation of bids (moves the deadline when late).
        affects_bids: bool,
        /// A new deadline, if the procuring entity sets one.
        #[serde(default)]
        new_deadline: Option<Timestamp>,
    },
    /// Submit a sealed bid.
    SubmitBid {
        /// Lot (required when the tender has several).
        #[serde(default)]
        lot: Option<String>,
        /// The bid (validated against the bid form).
        content: Arc<Value>,
    },
    /// Replace one's bid.
    ReplaceBid {
        /// Lot.
        #[serde(default)]
        lot: Option<String>,
        /// The new bid.
        content: Arc<Value>,
    },
    /// Withdraw one's bid.
    WithdrawBid {
        /// Lot.
        #[serde(default)]
        lot: Option<String>,
    },
    /// Close submission (the deadline has passed).
    CloseSubmission,
    /// Open the bids.
    OpenBids,
    /// Appoint (or re-appoint) the committee.
    AppointCommittee {
        /// Members.
        members: Vec<Member>,
        /// Members who have submitted score sheets and leave the committee: each with the
        /// reason, and only with an inspector's approval (an observation whose content has
        /// `approveRemoval` naming the member, recorded after their last sheet).
        #[serde(default)]
        removals: Vec<Removal>,
    },
    /// Declare a conflict of interest and withdraw from the committee.
    DeclareConflict {
        /// The bidder the conflict concerns.
        bidder: ActorId,
        /// Why.
        reason: String,
    },
    /// Reject a bid at qualification or responsiveness.
    DisqualifyBid {
        /// Lot.
        #[serde(default)]
        lot: Option<String>,
        /// Bidder.
        bidder: ActorId,
        /// Why.
        reason: String,
    },
    /// Submit one's score sheet for one bid.
    SubmitScores {
        /// Lot.
        #[serde(default)]
        lot: Option<String>,
        /// Bidder scored.
        bidder: ActorId,
        /// The sheet: `{"scores": {criterion: 0–100}, …}` (validated against the form).
        sheet: Arc<Value>,
    },
    /// Finalize the report. Random tie-breaks are decided by a seed nobody chooses: derived
    /// from the bid commitments and, where an inspector committed to a value when signing
    /// off the opening (`drawCommitment` = SHA-256 of it), that value revealed now
    /// (see `scoring::draw_seed`).
    FinalizeEvaluation {
        /// The value the inspector committed to at opening, revealed.
        #[serde(default)]
        draw_reveal: Option<String>,
    },
    /// Propose the award and start publicity.
    ProposeAward,
    /// Award.
    Award,
    /// Raise an objection.
    RaiseObjection {
        /// The objection (validated against the form).
        content: Arc<Value>,
    },
    /// Answer an objection.
    AnswerObjection {
        /// Objection number.
        objection: u32,
        /// The answer.
        answer: String,
        /// Whether the objection is upheld.
        upheld: bool,
    },
    /// Sign off a gate.
    SignOff {
        /// Gate id.
        gate: String,
        /// The sign-off form.
        content: Arc<Value>,
    },
    /// Record an observation.
    RecordObservation {
        /// The observation form.
        content: Arc<Value>,
    },
    /// Raise an irregularity; the procedure halts.
    RaiseIrregularity {
        /// The irregularity form.
        content: Arc<Value>,
    },
    /// Resolve an irregularity.
    ResolveIrregularity {
        /// Irregularity number.
        irregularity: u32,
        /// How it was resolved.
        resolution: String,
    },
    /// Cancel with a reason.
    Cancel {
        /// Why.
        reason: String,
    },
    /// Fire whatever timer is due (the shell's clock calls this).
    AdvanceTime,
}

impl CommandBody {
    /// The definition's name for this command (`None` for draft creation and timers).
    pub fn name(&self) -> Option<CommandName> {
        use CommandName as N;
        Some(match self {
            Self::CreateDraft { .. } | Self::AdvanceTime => return None,
            Self::Publish { .. } => N::Publish,
            Self::Amend { .. } => N::Amend,
            Self::SubmitBid { .. } => N::SubmitBid,
            Self::ReplaceBid { .. } => N::ReplaceBid,
            Self::WithdrawBid { .. } => N::WithdrawBid,
            Self::CloseSubmission => N::CloseSubmission,
            Self::OpenBids => N::OpenBids,
            Self::AppointCommittee { .. } => N::AppointCommittee,
            Self::DeclareConflict { .. } => N::DeclareConflict,
            Self::DisqualifyBid { .. } => N::DisqualifyBid,
            Self::SubmitScores { .. } => N::SubmitScores,
            Self::FinalizeEvaluation { .. } => N::FinalizeEvaluation,
            Self::ProposeAward => N::ProposeAward,
            Self::Award => N::Award,
            Self::RaiseObjection { .. } => N::RaiseObjection,
            Self::AnswerObjection { .. } => N::AnswerObjection,
            Self::SignOff { .. } => N::SignOff,
            Self::RecordObservation { .. } => N::RecordObservation,
            Self::RaiseIrregularity { .. } => N::RaiseIrregularity,
            Self::ResolveIrregularity { .. } => N::ResolveIrregularity,
            Self::Cancel { .. } => N::Cancel,
        })
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
