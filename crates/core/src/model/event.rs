//! Events: the facts a command leaves, the storage format of the record.

use super::*;
use crate::canonical::Recipe;
use crate::definition::EventName;
use crate::numbers::{Money, Score};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A bid's place: lot and bidder.
#[derive(Debug, Clone, Eq, Serialize, Deserialize)]
pub struct BidKey {
    /// Lot.
    pub lot: Arc<str>,
    /// Bidder.
    pub bidder: ActorId,
}

impl std::hash::Hash for BidKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.lot.hash(state);
        self.bidder.hash(state);
    }
}

// Ordered by lot, then bidder; the lot is nearly always a clone of the tender's one lot id,
// which the pointer settles without reading the text (see `ActorId`).
impl Ord for BidKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let lot = if Arc::ptr_eq(&self.lot, &other.lot) {
            std::cmp::Ordering::Equal
        } else {
            self.lot.cmp(&other.lot)
        };
        lot.then_with(|| self.bidder.cmp(&other.bidder))
    }
}

impl PartialOrd for BidKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for BidKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
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
#[serde(rename_all = "camelCase")]
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
#[serde(rename_all = "camelCase")]
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
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
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
        /// How the content's bytes were made for its hash (left out: V1).
        #[serde(default, skip_serializing_if = "Recipe::is_v1")]
        content_recipe: Recipe,
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
        /// Documents published with it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<Document>,
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
        /// Documents published with it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<Document>,
    },
    /// A clarification question was asked (the asker is the event's actor, never shown to
    /// other bidders or the public).
    QuestionAsked {
        /// Question number.
        id: u32,
        /// The question.
        text: String,
    },
    /// A question's answer was published to every bidder.
    QuestionAnswered {
        /// Question number.
        id: u32,
        /// The answer.
        answer: String,
        /// Whether it affects bid preparation.
        affects_bids: bool,
        /// Deadline before.
        deadline_before: Timestamp,
        /// Deadline after (later when the rules forced an extension).
        deadline_after: Timestamp,
        /// Documents published with it.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<Document>,
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
        /// How the canonical JSON was made (left out: V1).
        #[serde(default, skip_serializing_if = "Recipe::is_v1")]
        commitment_recipe: Recipe,
        /// Price (minor units).
        price: Money,
        /// The bid's documents (sealed with it; the commitment covers them).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<Document>,
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
        /// How the canonical JSON was made (left out: V1).
        #[serde(default, skip_serializing_if = "Recipe::is_v1")]
        commitment_recipe: Recipe,
        /// New price.
        price: Money,
        /// The bid's documents (sealed with it; the commitment covers them).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        documents: Vec<Document>,
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
        /// The expert draw that chose the experts, if there was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        draw: Option<super::DrawRecord>,
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
        /// Why it corrects an earlier sheet of the same evaluator for the same bid.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        correction: Option<String>,
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
        /// The partner a per-partner gate concerns.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        partner: Option<ActorId>,
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
        code: RejectionCode,
        /// Explanation.
        reason: String,
    },
    /// The procedure was delegated by a higher-level body.
    Delegated {
        /// The body that delegates.
        delegated_by: Body,
        /// The body that runs the procedure.
        delegate: Body,
        /// What is delegated.
        scope: String,
        /// The delegating body's overseers.
        overseers: Vec<ActorId>,
    },
    /// A winner's agreement was drafted (a redraft replaces the last draft).
    AgreementDrafted {
        /// The winner.
        partner: ActorId,
        /// The lot it won.
        lot: Arc<str>,
        /// The terms.
        terms: Arc<Value>,
        /// Draft number (1 for the first).
        version: u32,
        /// Both sides sign by then (the definition's period after the award).
        sign_by: Timestamp,
    },
    /// One side signed an agreement.
    AgreementSigned {
        /// The partner.
        partner: ActorId,
        /// Which side signed.
        side: AgreementSide,
        /// Whether after the period to sign.
        late: bool,
    },
    /// The agreement is in force: both sides and any gate signed.
    AgreementInForce {
        /// The partner.
        partner: ActorId,
    },
    /// A partner reported a delivered activity.
    DeliveryReported {
        /// The partner.
        partner: ActorId,
        /// Report number (per partner, from 1).
        number: u32,
        /// The report.
        report: Arc<Value>,
    },
    /// Staff verified or queried a delivery report.
    DeliveryReviewed {
        /// The partner.
        partner: ActorId,
        /// Report number.
        number: u32,
        /// Verified (true) or queried (false).
        verified: bool,
        /// Staff's note.
        note: String,
    },
    /// A partner fell behind its promised share of free or discounted places.
    DeliveryShortfall {
        /// The partner.
        partner: ActorId,
        /// Places offered so far (reports not queried).
        offered: u64,
        /// Free or discounted places given so far.
        given: u64,
        /// The share delivered, percent.
        share: Score,
        /// The share promised, percent.
        promised: Score,
    },
    /// A partner that was behind is back at or above the alert threshold.
    DeliveryRecovered {
        /// The partner.
        partner: ActorId,
        /// The share delivered, percent.
        share: Score,
        /// The share promised, percent.
        promised: Score,
    },
    /// A partner's performance round.
    PerformanceEvaluated {
        /// The partner.
        partner: ActorId,
        /// Round number (from 1).
        round: u32,
        /// Score per criterion.
        scores: BTreeMap<String, Score>,
        /// Weighted total.
        total: Score,
        /// Whether the total is below the minimum (a warning).
        warning: bool,
        /// Remarks.
        note: String,
    },
    /// An agreement was terminated.
    AgreementTerminated {
        /// The partner.
        partner: ActorId,
        /// Why (public).
        reason: String,
    },
    /// The procedure entered a state.
    StateEntered {
        /// The state.
        state: String,
    },
}

impl EventBody {
    /// The documents this event references (tender documents or a bid's).
    pub fn documents(&self) -> &[Document] {
        match self {
            Self::AnnouncementPublished { documents, .. }
            | Self::AmendmentPublished { documents, .. }
            | Self::QuestionAnswered { documents, .. }
            | Self::BidSubmitted { documents, .. }
            | Self::BidReplaced { documents, .. } => documents,
            _ => &[],
        }
    }

    /// The name notification rules use (`None` for state changes).
    pub fn name(&self) -> Option<EventName> {
        use EventName as N;
        Some(match self {
            Self::DraftCreated { .. } => N::DraftCreated,
            Self::AnnouncementPublished { .. } => N::AnnouncementPublished,
            Self::AmendmentPublished { .. } => N::AmendmentPublished,
            Self::QuestionAsked { .. } => N::QuestionAsked,
            Self::QuestionAnswered { .. } => N::QuestionAnswered,
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
            Self::Delegated { .. } => N::Delegated,
            Self::AgreementDrafted { .. } => N::AgreementDrafted,
            Self::AgreementSigned { .. } => N::AgreementSigned,
            Self::AgreementInForce { .. } => N::AgreementInForce,
            Self::DeliveryReported { .. } => N::DeliveryReported,
            Self::DeliveryReviewed { .. } => N::DeliveryReviewed,
            Self::DeliveryShortfall { .. } => N::DeliveryShortfall,
            Self::DeliveryRecovered { .. } => N::DeliveryRecovered,
            Self::PerformanceEvaluated { .. } => N::PerformanceEvaluated,
            Self::AgreementTerminated { .. } => N::AgreementTerminated,
            Self::StateEntered { .. } => return None,
        })
    }

    /// The partner an event of the stage after the award concerns.
    pub fn partner(&self) -> Option<&ActorId> {
        match self {
            Self::AgreementDrafted { partner, .. }
            | Self::AgreementSigned { partner, .. }
            | Self::AgreementInForce { partner }
            | Self::DeliveryReported { partner, .. }
            | Self::DeliveryReviewed { partner, .. }
            | Self::DeliveryShortfall { partner, .. }
            | Self::DeliveryRecovered { partner, .. }
            | Self::PerformanceEvaluated { partner, .. }
            | Self::AgreementTerminated { partner, .. } => Some(partner),
            Self::SignedOff { partner, .. } => partner.as_ref(),
            _ => None,
        }
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
        self.name().is_some_and(EventName::is_sealed)
    }
}

/// A side of an agreement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementSide {
    /// The procuring body (its staff).
    Buyer,
    /// The partner.
    Partner,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_is_the_serialised_type_and_bids_are_the_sealed_events() {
        let bodies = [
            EventBody::StateEntered {
                state: "announced".into(),
            },
            EventBody::PublicityEnded,
        ];
        for b in &bodies {
            let v = serde_json::to_value(b).expect("serialise");
            assert_eq!(v["type"], b.kind(), "{v}");
            assert!(!b.is_sealed());
        }
        for name in crate::definition::EventName::ALL {
            assert_eq!(
                crate::definition::EventName::parse(name.as_str()),
                Some(*name)
            );
        }
    }

    #[test]
    fn a_failed_procedure_records_a_typed_code_stored_as_its_text() {
        for code in RejectionCode::ALL {
            let v = serde_json::to_value(code).expect("serialise");
            assert_eq!(v, code.as_str());
            let back: RejectionCode = serde_json::from_value(v).expect("parse");
            assert_eq!(back, *code);
        }
        let stored =
            serde_json::json!({"type": "procedure_failed", "code": "too_few_bids", "reason": "r"});
        let body: EventBody = serde_json::from_value(stored.clone()).expect("stored event");
        assert_eq!(serde_json::to_value(&body).expect("ser"), stored);
        let unknown =
            serde_json::json!({"type": "procedure_failed", "code": "nope", "reason": "r"});
        assert!(serde_json::from_value::<EventBody>(unknown).is_err());
    }

    #[test]
    fn roles_are_known_by_name() {
        for r in Role::PEOPLE.into_iter().chain([Role::SYSTEM]) {
            assert_eq!(Role::known(r.as_str()), Some(r));
        }
        assert_eq!(Role::known("auditor"), None);
        assert_eq!(SYSTEM_ROLE, "system");
    }
}
