//! The tender's state, and `apply`/`replay`, which build it from events and never fail.

use super::*;
use crate::canonical::Recipe;
use crate::definition::EventName;
use crate::numbers::Money;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A procedure delegated by a higher-level body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delegation {
    /// The body that delegates.
    pub delegated_by: Body,
    /// The body that runs the procedure.
    pub delegate: Body,
    /// What is delegated.
    pub scope: String,
    /// The delegating body's overseers (read everything; sign where gates allow).
    pub overseers: Vec<ActorId>,
    /// When.
    pub at: Timestamp,
}

impl Delegation {
    /// Whether `id` is one of the delegating body's overseers.
    pub fn oversees(&self, id: &ActorId) -> bool {
        self.overseers.contains(id)
    }
}

/// Why a procedure failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// Stable code (`too_few_bids`, `no_qualifying_bid`).
    pub code: RejectionCode,
    /// Explanation.
    pub reason: String,
}

/// A sealed bid as held in the state. Views decide who sees `content`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bid {
    /// Receipt number of the latest version.
    pub receipt: u32,
    /// When the latest version arrived.
    pub received_at: Timestamp,
    /// Content.
    pub content: Arc<Value>,
    /// SHA-256 commitment.
    pub commitment: String,
    /// How the commitment's canonical JSON was made (left out: V1).
    #[serde(default, skip_serializing_if = "Recipe::is_v1")]
    pub commitment_recipe: Recipe,
    /// Price.
    pub price: Money,
    /// The bid's documents (sealed with it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
}

/// A score sheet corrected after submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScoreCorrection {
    /// The evaluator.
    pub evaluator: ActorId,
    /// The lot.
    pub lot: Arc<str>,
    /// The bidder whose bid was scored.
    pub bidder: ActorId,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// A signature on a gate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signature {
    /// Gate.
    pub gate: String,
    /// The partner a per-partner gate concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partner: Option<ActorId>,
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
#[serde(rename_all = "camelCase")]
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
    /// The answer, once given.
    pub answer: Option<ObjectionAnswer>,
}

/// A clarification question and its published answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Question {
    /// Number.
    pub id: u32,
    /// Who asked (shown only to officials).
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// The question.
    pub text: String,
    /// The answer, once published.
    pub answer: Option<QuestionAnswer>,
}

/// The published answer to a question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuestionAnswer {
    /// The answer.
    pub text: String,
    /// When.
    pub at: Timestamp,
    /// Whether it affects bid preparation.
    pub affects_bids: bool,
}

/// The answer to an objection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectionAnswer {
    /// What the procuring entity answered.
    pub text: String,
    /// Whether the objection was upheld.
    pub upheld: bool,
    /// When.
    pub at: Timestamp,
}

/// How an irregularity was resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolution {
    /// How.
    pub text: String,
    /// When.
    pub at: Timestamp,
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
    /// The resolution, once resolved.
    pub resolution: Option<Resolution>,
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
    /// Tender documents published (superseded ones stay, marked).
    pub documents: Vec<PublishedDocument>,
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
    /// Corrected score sheets: who, which bid, why, when (the sheets themselves stay in the
    /// event log).
    pub score_corrections: Vec<ScoreCorrection>,
    /// The expert draw of the committee, if its experts were drawn.
    pub committee_draw: Option<super::DrawRecord>,
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
    pub signoffs: Vec<Signature>,
    /// Observations.
    pub observations: Vec<Observation>,
    /// Objections.
    pub objections: Vec<Objection>,
    /// Clarification questions, in order.
    pub questions: Vec<Question>,
    /// Irregularities.
    pub irregularities: Vec<Irregularity>,
    /// Why it was cancelled.
    pub cancellation: Option<String>,
    /// Why it failed: code and reason.
    pub failure: Option<Failure>,
    /// The delegation, when a higher-level body delegated the procedure.
    pub delegation: Option<Delegation>,
    /// Agreements with the winners, by partner (the stage after the award).
    pub agreements: BTreeMap<ActorId, Agreement>,
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
        self.signatures_for(gate, None)
    }
    /// Distinct signers of a gate for one partner (`None`: the tender's own gate).
    pub fn signatures_for(&self, gate: &str, partner: Option<&ActorId>) -> usize {
        let mut who: Vec<&ActorId> = self
            .signoffs
            .iter()
            .filter(|s| s.gate == gate && s.partner.as_ref() == partner)
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
            documents,
            content_recipe: _,
        } => {
            publish_documents(&mut t, documents, at, "announcement".into());
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
            documents,
            ..
        } => {
            publish_documents(&mut t, documents, at, format!("amendment:{number}"));
            t.amendments = *number;
            t.deadline = Some(*deadline_after);
        }
        EventBody::QuestionAsked { id, text } => t.questions.push(Question {
            id: *id,
            by: event.actor.id.clone(),
            at,
            text: text.clone(),
            answer: None,
        }),
        EventBody::QuestionAnswered {
            id,
            answer,
            affects_bids,
            deadline_after,
            documents,
            ..
        } => {
            publish_documents(&mut t, documents, at, format!("answer:{id}"));
            if let Some(q) = t.questions.iter_mut().find(|q| q.id == *id) {
                q.answer = Some(QuestionAnswer {
                    text: answer.clone(),
                    at,
                    affects_bids: *affects_bids,
                });
            }
            t.deadline = Some(*deadline_after);
        }
        EventBody::BidSubmitted {
            key,
            receipt,
            content,
            commitment,
            commitment_recipe,
            price,
            documents,
        }
        | EventBody::BidReplaced {
            key,
            receipt,
            content,
            commitment,
            commitment_recipe,
            price,
            documents,
        } => {
            t.receipts = t.receipts.max(*receipt);
            t.bids.insert(
                key.clone(),
                Bid {
                    receipt: *receipt,
                    received_at: at,
                    content: content.clone(),
                    commitment: commitment.clone(),
                    commitment_recipe: *commitment_recipe,
                    price: *price,
                    documents: documents.clone(),
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
        EventBody::CommitteeAppointed {
            members,
            removed,
            draw,
        } => {
            t.committee.clone_from(members);
            t.removed_members.extend(removed.iter().cloned());
            if draw.is_some() {
                t.committee_draw.clone_from(draw);
            }
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
            correction,
            ..
        } => {
            t.scores
                .insert((evaluator.clone(), key.clone()), scores.clone());
            if let Some(reason) = correction {
                t.score_corrections.push(ScoreCorrection {
                    evaluator: evaluator.clone(),
                    lot: key.lot.clone(),
                    bidder: key.bidder.clone(),
                    reason: reason.clone(),
                    at: event.at,
                });
            }
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
                o.answer = Some(ObjectionAnswer {
                    text: answer.clone(),
                    upheld: *upheld,
                    at,
                });
            }
        }
        EventBody::SignedOff {
            gate,
            partner,
            content,
        } => t.signoffs.push(Signature {
            gate: gate.clone(),
            partner: partner.clone(),
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
                i.resolution = Some(Resolution {
                    text: resolution.clone(),
                    at,
                });
            }
        }
        EventBody::Cancelled { reason } => t.cancellation = Some(reason.clone()),
        EventBody::ProcedureFailed { code, reason } => {
            t.failure = Some(Failure {
                code: *code,
                reason: reason.clone(),
            });
        }
        EventBody::StateEntered { state } => t.state.clone_from(state),
        EventBody::Delegated {
            delegated_by,
            delegate,
            scope,
            overseers,
        } => {
            t.delegation = Some(Delegation {
                delegated_by: delegated_by.clone(),
                delegate: delegate.clone(),
                scope: scope.clone(),
                overseers: overseers.clone(),
                at,
            });
        }
        _ => super::agreement::apply_agreement(&mut t, event),
    }
    t
}

/// Folds a whole history.
pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Tender {
    events.into_iter().fold(Tender::default(), apply)
}

/// Adds published tender documents, marking those they replace as superseded.
fn publish_documents(t: &mut Tender, documents: &[Document], at: Timestamp, source: String) {
    for d in documents {
        if let Some(old) = d
            .replaces
            .as_deref()
            .and_then(|r| t.documents.iter_mut().find(|p| p.document.id == r))
        {
            old.superseded_at = Some(at);
            old.superseded_by = Some(d.id.clone());
        }
        t.documents.push(PublishedDocument {
            document: d.clone(),
            published_at: at,
            source: source.clone(),
            superseded_at: None,
            superseded_by: None,
        });
    }
}
