//! Closed sets of names (commands, events, timers, messages) as enums with their text.

use serde::{Deserialize, Serialize};
use std::fmt;

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
            /// The value written `text`, if there is one.
            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
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
        /// A bidder asks a clarification question.
        AskQuestion = "ask_question",
        /// Staff answer a question; the answer is published to every bidder without naming
        /// who asked.
        AnswerQuestion = "answer_question",
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
        /// Record that the procedure is run by a lower-level body for the body that
        /// delegated it, whose named people read it and sign only where gates allow.
        Delegate = "delegate",
        /// Draft (or redraft, before anyone signs) a winner's agreement from the award and
        /// the winning bid.
        DraftAgreement = "draft_agreement",
        /// Sign an agreement: the buyer's staff or the partner.
        SignAgreement = "sign_agreement",
        /// A partner reports an activity delivered under its agreement.
        ReportDelivery = "report_delivery",
        /// Staff verify or query a delivery report.
        ReviewDelivery = "review_delivery",
        /// Staff score a partner's performance for a round.
        EvaluatePerformance = "evaluate_performance",
        /// End a partner's agreement, with a reason.
        TerminateAgreement = "terminate_agreement",
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
        /// A clarification question was asked.
        QuestionAsked = "question_asked",
        /// A question's answer was published.
        QuestionAnswered = "question_answered",
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
        /// The procedure was delegated to a lower-level body.
        Delegated = "delegated",
        /// A winner's agreement was drafted.
        AgreementDrafted = "agreement_drafted",
        /// One side signed an agreement.
        AgreementSigned = "agreement_signed",
        /// An agreement came into force (both sides and any gate signed).
        AgreementInForce = "agreement_in_force",
        /// A partner reported a delivered activity.
        DeliveryReported = "delivery_reported",
        /// Staff verified or queried a delivery report.
        DeliveryReviewed = "delivery_reviewed",
        /// A partner fell behind its promised share of free or discounted places.
        DeliveryShortfall = "delivery_shortfall",
        /// A partner behind its promise is back on track.
        DeliveryRecovered = "delivery_recovered",
        /// A partner's performance was evaluated (a total below the minimum is a warning).
        PerformanceEvaluated = "performance_evaluated",
        /// An agreement was terminated.
        AgreementTerminated = "agreement_terminated",
    }
);

impl CommandName {
    /// Commands of the stage after the award, and the supervision that goes on in it: the
    /// only ones a definition may allow from a terminal state with outcome `awarded`.
    pub fn after_award(self) -> bool {
        matches!(
            self,
            Self::DraftAgreement
                | Self::SignAgreement
                | Self::ReportDelivery
                | Self::ReviewDelivery
                | Self::EvaluatePerformance
                | Self::TerminateAgreement
                | Self::SignOff
                | Self::RecordObservation
        )
    }
}

impl EventName {
    /// Whether events of this kind are sealed until the bids are opened (bid submissions and
    /// replacements): the one place that says so.
    pub fn is_sealed(self) -> bool {
        matches!(self, Self::BidSubmitted | Self::BidReplaced)
    }
}

names!(
    /// Message templates the notify crate renders.
    MessageKind {
        /// Announcement of a tender.
        Announcement = "announcement",
        /// Clarification or amendment, with the new deadline.
        Amendment = "amendment",
        /// A clarification question's answer, to every bidder (never naming who asked).
        QuestionAnswered = "question_answered",
        /// Bid receipt with time and commitment.
        BidReceipt = "bid_receipt",
        /// Bid withdrawn.
        BidWithdrawn = "bid_withdrawn",
        /// Submission closed / opening notice with the opening record.
        OpeningNotice = "opening_notice",
        /// An evaluator's appointment to the committee (drawn or named), with its desk.
        CommitteeAppointment = "committee_appointment",
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
        /// An agreement is ready to sign.
        AgreementReady = "agreement_ready",
        /// An agreement is in force, with the published service list.
        AgreementInForce = "agreement_in_force",
        /// A partner is behind its promised share of free or discounted places.
        DeliveryShortfall = "delivery_shortfall",
        /// A performance round's result to the partner (with the warning, if below the minimum).
        PerformanceResult = "performance_result",
        /// An agreement was terminated.
        AgreementTerminated = "agreement_terminated",
    }
);
