//! Commands, events and the tender state they build, with `apply`.

use crate::definition::{CommandName, EventName};
use crate::numbers::{Money, Score};
use crate::scoring::{Candidate, EvaluationReport};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// A bid's place: lot and bidder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BidKey {
    /// Lot.
    pub lot: Arc<str>,
    /// Bidder.
    pub bidder: ActorId,
}

impl BidKey {
    /// The receipt code a bidder is given for a bid: derived from the tender, the lot, the
    /// bidder and the bid's commitment only, so it reveals nothing about other bids (the
    /// receipt *number* counts the bids received and is shown only from the opening on).
    pub fn receipt_code(&self, tender_id: &str, commitment: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [tender_id, &self.lot, self.bidder.as_str(), commitment] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        let digest = h.finalize();
        format!("R-{}", hex::encode_upper(&digest[..6]))
    }
}

/// One line of the opening record (开标记录), read out at opening.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeningEntry {
    /// Receipt number.
    pub receipt: u32,
    /// Lot.
    pub lot: Arc<str>,
    /// Bidder.
    pub bidder: ActorId,
    /// When it was received.
    pub received_at: Timestamp,
    /// SHA-256 of the bid's canonical JSON, as on the receipt.
    pub commitment: String,
    /// Price read out.
    pub price: Money,
    /// Other figures read out (the bid-ratio fields, e.g. the share of free places).
    pub read_out: BTreeMap<String, Value>,
}

/// The opening record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeningRecord {
    /// When bids were opened.
    pub opened_at: Timestamp,
    /// Who opened them.
    pub opened_by: ActorId,
    /// Bids in receipt order.
    pub entries: Vec<OpeningEntry>,
}

/// What happened. Events are facts: `apply` never fails on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// Draft created.
    DraftCreated {
        /// Tender id.
        tender_id: String,
        /// Definition id.
        definition_id: String,
        /// Definition version.
        definition_version: String,
        /// Definition SHA-256.
        definition_sha256: String,
    },
    /// Announcement published.
    AnnouncementPublished {
        /// Content.
        announcement: Arc<Value>,
        /// SHA-256 of the content: the same announcement on every channel.
        content_sha256: String,
        /// Channels.
        channels: Vec<String>,
        /// Bid deadline.
        deadline: Timestamp,
        /// Lots (at least one).
        lots: Vec<Lot>,
        /// Estimated price.
        estimated_price: Option<Money>,
        /// Bid security.
        bid_security: Option<Money>,
        /// Invitees of an invited procedure (empty for an open one).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        invitees: Vec<ActorId>,
    },
    /// Clarification or amendment published.
    AmendmentPublished {
        /// Sequence number of the amendment.
        number: u32,
        /// Text.
        text: String,
        /// Whether it affects bid preparation.
        affects_bids: bool,
        /// Deadline before.
        deadline_before: Timestamp,
        /// Deadline after (later when the rules forced an extension).
        deadline_after: Timestamp,
    },
    /// Bid received.
    BidSubmitted {
        /// Where.
        key: BidKey,
        /// Receipt number.
        receipt: u32,
        /// The sealed content.
        content: Arc<Value>,
        /// SHA-256 of its canonical JSON.
        commitment: String,
        /// Price (minor units).
        price: Money,
    },
    /// Bid replaced.
    BidReplaced {
        /// Where.
        key: BidKey,
        /// New receipt number.
        receipt: u32,
        /// New content.
        content: Arc<Value>,
        /// New commitment.
        commitment: String,
        /// New price.
        price: Money,
    },
    /// Bid withdrawn.
    BidWithdrawn {
        /// Where.
        key: BidKey,
    },
    /// Submission closed.
    SubmissionClosed {
        /// The deadline.
        deadline: Timestamp,
        /// Bids received and not withdrawn.
        bids: u32,
    },
    /// Bids opened.
    BidsOpened {
        /// The opening record.
        record: Arc<OpeningRecord>,
    },
    /// Committee appointed.
    CommitteeAppointed {
        /// Members.
        members: Vec<Member>,
        /// Members with submitted sheets removed by this appointment.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<RemovedMember>,
    },
    /// Conflict declared; the evaluator withdraws.
    ConflictDeclared {
        /// Evaluator.
        evaluator: ActorId,
        /// Bidder concerned.
        bidder: ActorId,
        /// Why.
        reason: String,
    },
    /// Bid disqualified.
    BidDisqualified {
        /// Which bid.
        key: BidKey,
        /// Why.
        reason: String,
    },
    /// Scores submitted.
    ScoresSubmitted {
        /// Evaluator.
        evaluator: ActorId,
        /// Which bid.
        key: BidKey,
        /// Scores by criterion.
        scores: Sheet,
        /// The sheet as submitted.
        sheet: Arc<Value>,
    },
    /// Evaluation report final.
    EvaluationFinalized {
        /// The report.
        report: Arc<EvaluationReport>,
    },
    /// Award proposed; publicity started.
    AwardProposed {
        /// Candidates to award.
        winners: Vec<Candidate>,
        /// When publicity ends.
        publicity_ends: Timestamp,
    },
    /// Publicity over.
    PublicityEnded,
    /// Award final.
    Awarded {
        /// Winners.
        winners: Vec<Candidate>,
    },
    /// Objection raised.
    ObjectionRaised {
        /// Number.
        id: u32,
        /// In which state.
        stage: String,
        /// Content.
        content: Arc<Value>,
        /// Answer due by.
        answer_due: Option<Timestamp>,
    },
    /// Objection answered.
    ObjectionAnswered {
        /// Number.
        id: u32,
        /// Who raised it.
        objector: ActorId,
        /// Answer.
        answer: String,
        /// Upheld?
        upheld: bool,
    },
    /// Gate signed off.
    SignedOff {
        /// Gate.
        gate: String,
        /// Sign-off form.
        content: Arc<Value>,
    },
    /// Observation recorded.
    ObservationRecorded {
        /// In which state.
        stage: String,
        /// Content.
        content: Arc<Value>,
    },
    /// Irregularity raised: halted.
    IrregularityRaised {
        /// Number.
        id: u32,
        /// In which state.
        stage: String,
        /// Content.
        content: Arc<Value>,
    },
    /// Irregularity resolved.
    IrregularityResolved {
        /// Number.
        id: u32,
        /// Resolution.
        resolution: String,
    },
    /// Cancelled.
    Cancelled {
        /// Why.
        reason: String,
    },
    /// Procedure failed.
    ProcedureFailed {
        /// Stable code (`too_few_bids`, `no_qualifying_bid`).
        code: String,
        /// Explanation.
        reason: String,
    },
    /// The procedure entered a state.
    StateEntered {
        /// The state.
        state: String,
    },
}

impl EventBody {
    /// The name notification rules use (`None` for state changes).
    pub fn name(&self) -> Option<EventName> {
        use EventName as N;
        Some(match self {
            Self::DraftCreated { .. } => N::DraftCreated,
            Self::AnnouncementPublished { .. } => N::AnnouncementPublished,
            Self::AmendmentPublished { .. } => N::AmendmentPublished,
            Self::BidSubmitted { .. } => N::BidSubmitted,
            Self::BidReplaced { .. } => N::BidReplaced,
            Self::BidWithdrawn { .. } => N::BidWithdrawn,
            Self::SubmissionClosed { .. } => N::SubmissionClosed,
            Self::BidsOpened { .. } => N::BidsOpened,
            Self::CommitteeAppointed { .. } => N::CommitteeAppointed,
            Self::ConflictDeclared { .. } => N::ConflictDeclared,
            Self::BidDisqualified { .. } => N::BidDisqualified,
            Self::ScoresSubmitted { .. } => N::ScoresSubmitted,
            Self::EvaluationFinalized { .. } => N::EvaluationFinalized,
            Self::AwardProposed { .. } => N::AwardProposed,
            Self::PublicityEnded => N::PublicityEnded,
            Self::Awarded { .. } => N::Awarded,
            Self::ObjectionRaised { .. } => N::ObjectionRaised,
            Self::ObjectionAnswered { .. } => N::ObjectionAnswered,
            Self::SignedOff { .. } => N::SignedOff,
            Self::ObservationRecorded { .. } => N::ObservationRecorded,
            Self::IrregularityRaised { .. } => N::IrregularityRaised,
            Self::IrregularityResolved { .. } => N::IrregularityResolved,
            Self::Cancelled { .. } => N::Cancelled,
            Self::ProcedureFailed { .. } => N::ProcedureFailed,
            Self::StateEntered { .. } => return None,
        })
    }

    /// The event's kind as stored and serialised (its `type` tag).
    pub fn kind(&self) -> &'static str {
        match self.name() {
            Some(name) => name.as_str(),
            None => "state_entered",
        }
    }

    /// Whether the event's content is sealed until the bids are opened (the bid submissions):
    /// the store encrypts it, and only the bidder and, after opening, the committee see it.
    pub fn is_sealed(&self) -> bool {
        matches!(self, Self::BidSubmitted { .. } | Self::BidReplaced { .. })
    }
}

/// An event with its time and actor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub actor: Actor,
    /// What.
    #[serde(flatten)]
    pub body: EventBody,
}

/// A sealed bid as held in the state. Views decide who sees `content`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bid {
    /// Receipt number of the latest version.
    pub receipt: u32,
    /// When the latest version arrived.
    pub received_at: Timestamp,
    /// Content.
    pub content: Arc<Value>,
    /// SHA-256 commitment.
    pub commitment: String,
    /// Price.
    pub price: Money,
}

/// A signature on a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignOff {
    /// Gate.
    pub gate: String,
    /// Signer.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// The form.
    pub content: Arc<Value>,
}

/// An oversight observation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// Inspector.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// State.
    pub stage: String,
    /// The form.
    pub content: Arc<Value>,
}

/// An objection and its answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Objection {
    /// Number.
    pub id: u32,
    /// Who raised it.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// State.
    pub stage: String,
    /// Content.
    pub content: Arc<Value>,
    /// Answer due.
    pub answer_due: Option<Timestamp>,
    /// Answer: text, upheld, when.
    pub answer: Option<(String, bool, Timestamp)>,
}

/// An irregularity and its resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Irregularity {
    /// Number.
    pub id: u32,
    /// Inspector.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// State.
    pub stage: String,
    /// Content.
    pub content: Arc<Value>,
    /// Resolution and when.
    pub resolution: Option<(String, Timestamp)>,
}

/// The state of one tender: everything `apply` has folded from its events. It is not
/// serialised: the events are the record, and [`crate::view`] is its JSON form.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tender {
    /// Tender id (empty before creation).
    pub id: String,
    /// Definition id.
    pub definition_id: String,
    /// Definition version.
    pub definition_version: String,
    /// Current state (empty before creation).
    pub state: String,
    /// Events applied.
    pub seq: u64,
    /// Time of the last event.
    pub last_at: Option<Timestamp>,
    /// Announcement.
    pub announcement: Option<Arc<Value>>,
    /// Announcement hash.
    pub announcement_sha256: Option<String>,
    /// Channels.
    pub channels: Vec<String>,
    /// When published.
    pub published_at: Option<Timestamp>,
    /// Bid deadline.
    pub deadline: Option<Timestamp>,
    /// Lots.
    pub lots: Vec<Lot>,
    /// Estimated price.
    pub estimated_price: Option<Money>,
    /// Bid security.
    pub bid_security: Option<Money>,
    /// Invitees (invited procedures); empty when anyone may bid.
    pub invitees: Vec<ActorId>,
    /// Amendments published.
    pub amendments: u32,
    /// Current bids.
    pub bids: BTreeMap<BidKey, Bid>,
    /// Receipts issued (including replaced and withdrawn bids).
    pub receipts: u32,
    /// Whether submission closed.
    pub submission_closed: bool,
    /// The opening record.
    pub opening: Option<Arc<OpeningRecord>>,
    /// Committee.
    pub committee: Vec<Member>,
    /// Evaluators who withdrew: the bidder concerned and why.
    pub recused: BTreeMap<ActorId, (ActorId, String)>,
    /// Rejected bids and why.
    pub disqualified: BTreeMap<BidKey, String>,
    /// Committee members removed after they scored (with reason and approval).
    pub removed_members: Vec<RemovedMember>,
    /// Scores by evaluator and bid.
    pub scores: BTreeMap<(ActorId, BidKey), Sheet>,
    /// Evaluation report.
    pub report: Option<Arc<EvaluationReport>>,
    /// Proposed winners.
    pub proposed: Option<Vec<Candidate>>,
    /// End of publicity.
    pub publicity_ends: Option<Timestamp>,
    /// Whether publicity is over.
    pub publicity_over: bool,
    /// Final winners.
    pub awarded: Option<Vec<Candidate>>,
    /// Sign-offs.
    pub signoffs: Vec<SignOff>,
    /// Observations.
    pub observations: Vec<Observation>,
    /// Objections.
    pub objections: Vec<Objection>,
    /// Irregularities.
    pub irregularities: Vec<Irregularity>,
    /// Why it was cancelled.
    pub cancellation: Option<String>,
    /// Why it failed: code and reason.
    pub failure: Option<(String, String)>,
    /// When each kind of event first and last happened (obligations are timed from them).
    pub happened: BTreeMap<EventName, (Timestamp, Timestamp)>,
}

impl Tender {
    /// Whether an irregularity is open (the procedure is halted).
    pub fn halted(&self) -> bool {
        self.irregularities.iter().any(|i| i.resolution.is_none())
    }
    /// Whether an objection awaits its answer (the procedure is suspended).
    pub fn objection_pending(&self) -> bool {
        self.objections.iter().any(|o| o.answer.is_none())
    }
    /// Distinct signers of a gate.
    pub fn signatures(&self, gate: &str) -> usize {
        let mut who: Vec<&ActorId> = self
            .signoffs
            .iter()
            .filter(|s| s.gate == gate)
            .map(|s| &s.by)
            .collect();
        who.sort();
        who.dedup();
        who.len()
    }
    /// Committee members who have not withdrawn.
    pub fn active_members(&self) -> impl Iterator<Item = &Member> {
        self.committee
            .iter()
            .filter(|m| !self.recused.contains_key(&m.id))
    }
    /// Whether the bids have been opened.
    pub fn opened(&self) -> bool {
        self.opening.is_some()
    }
}

/// Folds one event into the state. Total: any event on any state gives a state.
pub fn apply(mut t: Tender, event: &Event) -> Tender {
    t.seq += 1;
    t.last_at = Some(event.at);
    if let Some(name) = event.body.name() {
        t.happened
            .entry(name)
            .and_modify(|(_, last)| *last = event.at)
            .or_insert((event.at, event.at));
    }
    let at = event.at;
    let by = &event.actor.id;
    match &event.body {
        EventBody::DraftCreated {
            tender_id,
            definition_id,
            definition_version,
            ..
        } => {
            t.id.clone_from(tender_id);
            t.definition_id.clone_from(definition_id);
            t.definition_version.clone_from(definition_version);
        }
        EventBody::AnnouncementPublished {
            announcement,
            content_sha256,
            channels,
            deadline,
            lots,
            estimated_price,
            bid_security,
            invitees,
        } => {
            t.invitees.clone_from(invitees);
            t.announcement = Some(announcement.clone());
            t.announcement_sha256 = Some(content_sha256.clone());
            t.channels.clone_from(channels);
            t.deadline = Some(*deadline);
            t.published_at = Some(at);
            t.lots.clone_from(lots);
            t.estimated_price = *estimated_price;
            t.bid_security = *bid_security;
        }
        EventBody::AmendmentPublished {
            number,
            deadline_after,
            ..
        } => {
            t.amendments = *number;
            t.deadline = Some(*deadline_after);
        }
        EventBody::BidSubmitted {
            key,
            receipt,
            content,
            commitment,
            price,
        }
        | EventBody::BidReplaced {
            key,
            receipt,
            content,
            commitment,
            price,
        } => {
            t.receipts = t.receipts.max(*receipt);
            t.bids.insert(
                key.clone(),
                Bid {
                    receipt: *receipt,
                    received_at: at,
                    content: content.clone(),
                    commitment: commitment.clone(),
                    price: *price,
                },
            );
        }
        EventBody::BidWithdrawn { key } => {
            t.bids.remove(key);
        }
        EventBody::SubmissionClosed { .. } => t.submission_closed = true,
        EventBody::BidsOpened { record } => {
            t.submission_closed = true;
            t.opening = Some(record.clone());
        }
        EventBody::CommitteeAppointed { members, removed } => {
            t.committee.clone_from(members);
            t.removed_members.extend(removed.iter().cloned());
        }
        EventBody::ConflictDeclared {
            evaluator,
            bidder,
            reason,
        } => {
            t.recused
                .insert(evaluator.clone(), (bidder.clone(), reason.clone()));
        }
        EventBody::BidDisqualified { key, reason } => {
            t.disqualified.insert(key.clone(), reason.clone());
        }
        EventBody::ScoresSubmitted {
            evaluator,
            key,
            scores,
            ..
        } => {
            t.scores
                .insert((evaluator.clone(), key.clone()), scores.clone());
        }
        EventBody::EvaluationFinalized { report } => t.report = Some(report.clone()),
        EventBody::AwardProposed {
            winners,
            publicity_ends,
        } => {
            t.proposed = Some(winners.clone());
            t.publicity_ends = Some(*publicity_ends);
        }
        EventBody::PublicityEnded => t.publicity_over = true,
        EventBody::Awarded { winners } => t.awarded = Some(winners.clone()),
        EventBody::ObjectionRaised {
            id,
            stage,
            content,
            answer_due,
        } => {
            t.objections.push(Objection {
                id: *id,
                by: by.clone(),
                at,
                stage: stage.clone(),
                content: content.clone(),
                answer_due: *answer_due,
                answer: None,
            });
        }
        EventBody::ObjectionAnswered {
            id, answer, upheld, ..
        } => {
            if let Some(o) = t.objections.iter_mut().find(|o| o.id == *id) {
                o.answer = Some((answer.clone(), *upheld, at));
            }
        }
        EventBody::SignedOff { gate, content } => t.signoffs.push(SignOff {
            gate: gate.clone(),
            by: by.clone(),
            at,
            content: content.clone(),
        }),
        EventBody::ObservationRecorded { stage, content } => t.observations.push(Observation {
            by: by.clone(),
            at,
            stage: stage.clone(),
            content: content.clone(),
        }),
        EventBody::IrregularityRaised { id, stage, content } => {
            t.irregularities.push(Irregularity {
                id: *id,
                by: by.clone(),
                at,
                stage: stage.clone(),
                content: content.clone(),
                resolution: None,
            });
        }
        EventBody::IrregularityResolved { id, resolution } => {
            if let Some(i) = t.irregularities.iter_mut().find(|i| i.id == *id) {
                i.resolution = Some((resolution.clone(), at));
            }
        }
        EventBody::Cancelled { reason } => t.cancellation = Some(reason.clone()),
        EventBody::ProcedureFailed { code, reason } => {
            t.failure = Some((code.clone(), reason.clone()));
        }
        EventBody::StateEntered { state } => t.state.clone_from(state),
    }
    t
}

/// Folds a whole history.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Tender {
    events.into_iter().fold(Tender::default(), apply)
}
