//! After the award: each partner's agreement, its delivery reports and performance rounds,
//! as `apply` folds them from the events.

use super::*;
use crate::numbers::Score;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A winner's agreement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agreement {
    /// The partner.
    pub partner: ActorId,
    /// The lot it won.
    pub lot: Arc<str>,
    /// The terms of the latest draft.
    pub terms: Arc<Value>,
    /// Draft number.
    pub version: u32,
    /// When the latest draft was made.
    pub drafted_at: Timestamp,
    /// Both sides sign by then.
    pub sign_by: Timestamp,
    /// The buyer's signature: who and when, and whether late.
    pub buyer_signed: Option<(ActorId, Timestamp, bool)>,
    /// The partner's signature: when, and whether late.
    pub partner_signed: Option<(Timestamp, bool)>,
    /// When it came into force.
    pub in_force_at: Option<Timestamp>,
    /// Delivery reports, in order.
    pub deliveries: Vec<Delivery>,
    /// Whether the partner is behind its promised share (an alert raised, not yet recovered).
    pub behind: bool,
    /// Shortfall alerts raised: when, share delivered and promised.
    pub shortfalls: Vec<(Timestamp, Score, Score)>,
    /// Performance rounds.
    pub rounds: Vec<PerformanceRound>,
    /// The termination, if any.
    pub termination: Option<Termination>,
}

impl Agreement {
    /// Whether any side has signed (the draft can no longer change).
    pub fn signed_by_anyone(&self) -> bool {
        self.buyer_signed.is_some() || self.partner_signed.is_some()
    }
    /// Whether both sides have signed.
    pub fn signed_by_both(&self) -> bool {
        self.buyer_signed.is_some() && self.partner_signed.is_some()
    }
    /// Warnings given (performance rounds below the minimum).
    pub fn warnings(&self) -> usize {
        self.rounds.iter().filter(|r| r.warning).count()
    }
    /// Whether it is in force and not terminated.
    pub fn active(&self) -> bool {
        self.in_force_at.is_some() && self.termination.is_none()
    }
}

/// A delivery report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Number (per partner, from 1).
    pub number: u32,
    /// When reported.
    pub at: Timestamp,
    /// The report as sent.
    pub report: Arc<Value>,
    /// Staff's review: verified or queried, the note, when.
    pub review: Option<(bool, String, Timestamp)>,
}

impl Delivery {
    /// Whether it counts towards the delivered share: not queried (a queried report counts
    /// again once verified).
    pub fn counts(&self) -> bool {
        !matches!(self.review, Some((false, _, _)))
    }
}

/// A performance round.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceRound {
    /// Round number.
    pub round: u32,
    /// When.
    pub at: Timestamp,
    /// Scores per criterion.
    pub scores: BTreeMap<String, Score>,
    /// Weighted total.
    pub total: Score,
    /// Below the minimum.
    pub warning: bool,
    /// Remarks.
    pub note: String,
}

/// A termination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Termination {
    /// When.
    pub at: Timestamp,
    /// Who.
    pub by: ActorId,
    /// Why (public).
    pub reason: String,
}

/// Folds an event of the stage after the award into the agreements; other events leave
/// them as they are.
pub(super) fn apply_agreement(t: &mut Tender, event: &Event) {
    let at = event.at;
    match &event.body {
        EventBody::AgreementDrafted {
            partner,
            lot,
            terms,
            version,
            sign_by,
        } => {
            let a = Agreement {
                partner: partner.clone(),
                lot: lot.clone(),
                terms: terms.clone(),
                version: *version,
                drafted_at: at,
                sign_by: *sign_by,
                buyer_signed: None,
                partner_signed: None,
                in_force_at: None,
                deliveries: Vec::new(),
                behind: false,
                shortfalls: Vec::new(),
                rounds: Vec::new(),
                termination: None,
            };
            t.agreements.insert(partner.clone(), a);
        }
        EventBody::AgreementSigned {
            partner,
            side,
            late,
        } => {
            if let Some(a) = t.agreements.get_mut(partner) {
                match side {
                    AgreementSide::Buyer => {
                        a.buyer_signed = Some((event.actor.id.clone(), at, *late));
                    }
                    AgreementSide::Partner => a.partner_signed = Some((at, *late)),
                }
            }
        }
        EventBody::AgreementInForce { partner } => {
            if let Some(a) = t.agreements.get_mut(partner) {
                a.in_force_at = Some(at);
            }
        }
        EventBody::DeliveryReported {
            partner,
            number,
            report,
        } => {
            if let Some(a) = t.agreements.get_mut(partner) {
                a.deliveries.push(Delivery {
                    number: *number,
                    at,
                    report: report.clone(),
                    review: None,
                });
            }
        }
        EventBody::DeliveryReviewed {
            partner,
            number,
            verified,
            note,
        } => {
            if let Some(d) = t
                .agreements
                .get_mut(partner)
                .and_then(|a| a.deliveries.iter_mut().find(|d| d.number == *number))
            {
                d.review = Some((*verified, note.clone(), at));
            }
        }
        EventBody::DeliveryShortfall {
            partner,
            share,
            promised,
            ..
        } => {
            if let Some(a) = t.agreements.get_mut(partner) {
                a.behind = true;
                a.shortfalls.push((at, *share, *promised));
            }
        }
        EventBody::DeliveryRecovered { partner, .. } => {
            if let Some(a) = t.agreements.get_mut(partner) {
                a.behind = false;
            }
        }
        EventBody::PerformanceEvaluated {
            partner,
            round,
            scores,
            total,
            warning,
            note,
        } => {
            if let Some(a) = t.agreements.get_mut(partner) {
                a.rounds.push(PerformanceRound {
                    round: *round,
                    at,
                    scores: scores.clone(),
                    total: *total,
                    warning: *warning,
                    note: note.clone(),
                });
            }
        }
        EventBody::AgreementTerminated { partner, reason } => {
            if let Some(a) = t.agreements.get_mut(partner) {
                a.termination = Some(Termination {
                    at,
                    by: event.actor.id.clone(),
                    reason: reason.clone(),
                });
            }
        }
        _ => {}
    }
}
