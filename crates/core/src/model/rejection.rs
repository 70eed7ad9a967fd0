//! Why a command may not happen: a stable code, a message and details. The codes are part of
//! the model: a failed procedure records its code in its `procedure_failed` event.

use serde_json::Value;
use std::fmt;

macro_rules! rejection_codes {
    ($($(#[$m:meta])* $variant:ident = $text:literal),* $(,)?) => {
        /// Stable codes of business rejections.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum RejectionCode { $($(#[$m])* $variant,)* }
        impl RejectionCode {
            /// Every code.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];
            /// The code as text.
            pub fn as_str(self) -> &'static str { match self { $(Self::$variant => $text),* } }
            /// The code written `text`, if there is one.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|c| c.as_str() == text)
            }
        }
        impl serde::Serialize for RejectionCode {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for RejectionCode {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown rejection code `{text}`"))
                })
            }
        }
    };
}

rejection_codes! {
    /// The actor's role may not issue this command here.
    WrongRole = "wrong_role",
    /// The command is not allowed in the tender's current state.
    InvalidState = "invalid_state",
    /// The tender does not exist yet, or already exists.
    NotCreated = "not_created",
    /// The tender was already created.
    AlreadyExists = "already_exists",
    /// A bid after the deadline.
    LateBid = "late_bid",
    /// Too early: the deadline or period has not passed.
    TooEarly = "too_early",
    /// A required sign-off is missing.
    MissingSignoff = "missing_signoff",
    /// The payload breaks its form.
    FormInvalid = "form_invalid",
    /// A conflict of interest.
    ConflictOfInterest = "conflict_of_interest",
    /// Fewer bids than the minimum.
    TooFewBids = "too_few_bids",
    /// An irregularity is open: the procedure is halted.
    Halted = "halted",
    /// An objection awaits its answer: the procedure is suspended.
    ObjectionPending = "objection_pending",
    /// The actor is not on the committee.
    NotCommitteeMember = "not_committee_member",
    /// The committee breaks the definition's rules.
    CommitteeInvalid = "committee_invalid",
    /// Not every member has scored every valid bid.
    ScoresIncomplete = "scores_incomplete",
    /// A date breaks a schedule constraint.
    ScheduleViolation = "schedule_violation",
    /// No such bid.
    UnknownBid = "unknown_bid",
    /// The bidder already has a bid in this lot.
    DuplicateBid = "duplicate_bid",
    /// No such lot.
    UnknownLot = "unknown_lot",
    /// No such objection.
    UnknownObjection = "unknown_objection",
    /// No such question.
    UnknownQuestion = "unknown_question",
    /// A question asked too late to be answered before the clarification cut-off.
    QuestionTooLate = "question_too_late",
    /// No such irregularity.
    UnknownIrregularity = "unknown_irregularity",
    /// No such gate, or not signed in this state.
    UnknownGate = "unknown_gate",
    /// The actor already signed this gate.
    AlreadySigned = "already_signed",
    /// The objection or irregularity was already dealt with.
    AlreadyAnswered = "already_answered",
    /// A reason or text is required.
    ReasonRequired = "reason_required",
    /// An objection outside its window.
    ObjectionTooLate = "objection_too_late",
    /// A bid security above the allowed share of the estimate.
    BidSecurityTooHigh = "bid_security_too_high",
    /// No qualifying bid to award.
    NoQualifyingBid = "no_qualifying_bid",
    /// `now` is before the tender's last event.
    ClockRegression = "clock_regression",
    /// An invited procedure names too few invitees.
    TooFewInvitees = "too_few_invitees",
    /// The bidder was not invited to this (invited) procedure.
    NotInvited = "not_invited",
    /// Malformed input the form does not cover (empty channel list, duplicate lots, …).
    InvalidInput = "invalid_input",
    /// A committee member who has scored may leave only by their own conflict declaration
    /// or by a removal with a reason and an inspector's approval.
    MemberHasScored = "member_has_scored",
    /// A document's description is malformed (name, hash, size) or names one twice.
    DocumentInvalid = "document_invalid",
    /// A document's media type is not one the definition accepts there.
    DocumentTypeNotAllowed = "document_type_not_allowed",
    /// A document is larger than the definition allows.
    DocumentTooLarge = "document_too_large",
    /// A bid lacks a document its form requires.
    DocumentMissing = "document_missing",
    /// No such document (or its stored file does not match its description).
    UnknownDocument = "unknown_document",
    /// A bid's document cannot be read before the bids are opened.
    DocumentSealed = "document_sealed",
    /// The partner named is not among the winners of the award.
    NotAWinner = "not_a_winner",
    /// No agreement with this partner (or not yet in force for what was asked).
    NoAgreement = "no_agreement",
    /// An agreement departs from the winning bid's substantive terms (PRC Bidding Law
    /// art. 46).
    AgreementDepartsFromBid = "agreement_departs_from_bid",
    /// The actor acts for an agreement that is not theirs.
    NotYourAgreement = "not_your_agreement",
    /// The agreement was terminated.
    AgreementTerminated = "agreement_terminated",
    /// A delivery report names a service item the agreement does not list.
    UnknownServiceItem = "unknown_service_item",
    /// No such delivery report.
    UnknownReport = "unknown_report",
    /// A termination without the warnings the definition requires first.
    NotWarned = "not_warned",
    /// The delegating body's people read a delegated procedure; they act only where a gate
    /// lets them sign, and observe.
    ReadOnly = "read_only",
}

impl fmt::Display for RejectionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a command was refused: a stable code, a sentence for people, and details as data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// Stable code.
    pub code: RejectionCode,
    /// What went wrong, for people.
    pub message: String,
    /// Structured details.
    pub details: Value,
}

impl Rejection {
    /// A rejection without details.
    pub fn new(code: RejectionCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Value::Null,
        }
    }
    /// With details.
    pub fn with(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}
