//! What each actor may see of a tender.
//!
//! - Before opening nobody, staff included, sees a bid's content: only its receipt (bidder,
//!   time, commitment). A bidder sees its own bids' content, never another's before opening.
//! - After opening the opening record is public to all parties; staff, evaluators and
//!   inspectors see the bids' content, a bidder still only its own.
//! - Scores: until the report is final an evaluator sees only its own sheets; nobody else sees
//!   any. After that, staff, inspectors and evaluators see the report; a bidder sees its own
//!   row, and its rank and score only if the definition discloses them.
//! - The committee's names stay secret from bidders until the award is proposed.

use crate::definition::Workflow;
use crate::model::{Actor, Role, Tender};
use serde_json::{Value, json};

/// Which of the four kinds of party an actor is, by role id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Party {
    Staff,
    Bidder,
    Evaluator,
    Inspector,
    Other,
}

fn party(role: &str) -> Party {
    match Role::known(role) {
        Some(Role::STAFF | Role::ADMIN) => Party::Staff,
        Some(Role::BIDDER) => Party::Bidder,
        Some(Role::EVALUATOR) => Party::Evaluator,
        Some(Role::INSPECTOR) => Party::Inspector,
        _ => Party::Other,
    }
}

/// The tender as `actor` may see it.
pub fn view(wf: &Workflow, t: &Tender, actor: &Actor) -> Value {
    let p = party(&actor.role);
    let opened = t.opened();
    let officials = matches!(p, Party::Staff | Party::Evaluator | Party::Inspector);
    let bids: Vec<Value> = t
        .bids
        .iter()
        .filter(|(k, _)| p != Party::Bidder || k.bidder == actor.id || opened)
        .filter(|_| p != Party::Other)
        .map(|(k, b)| {
            let own = p == Party::Bidder && k.bidder == actor.id;
            let content = if own || (opened && officials) {
                Some(b.content.as_ref().clone())
            } else {
                None
            };
            // Before opening a bidder learns nothing that depends on other bids: no receipt
            // number (it counts them), only the receipt code.
            let number = (opened || officials).then_some(b.receipt);
            json!({
                "lot": k.lot, "bidder": k.bidder, "receipt": number,
                "receiptCode": k.receipt_code(&t.id, &b.commitment),
                "receivedAt": b.received_at, "commitment": b.commitment,
                "content": content,
                "documents": if own || (opened && officials) { Some(&b.documents) } else { None },
            })
        })
        .collect();
    let final_report = t.report.is_some();
    let scores: Vec<Value> = t
        .scores
        .iter()
        .filter(|((e, _), _)| {
            (*e == actor.id && p == Party::Evaluator) || (final_report && officials)
        })
        .map(|((e, k), s)| json!({ "evaluator": e, "lot": k.lot, "bidder": k.bidder, "scores": s }))
        .collect();
    let report = match (&t.report, p) {
        (Some(r), Party::Staff | Party::Evaluator | Party::Inspector) => {
            serde_json::to_value(r.as_ref()).unwrap_or(Value::Null)
        }
        (Some(r), Party::Bidder) if t.proposed.is_some() => {
            let disclose = wf.definition().evaluation.disclose_scores_to_bidders;
            let rows: Vec<Value> = r
                .rows
                .iter()
                .filter(|row| row.bidder == actor.id)
                .map(|row| {
                    if disclose {
                        json!({ "lot": row.lot, "rank": row.rank, "total": row.total, "qualifies": row.qualifies })
                    } else {
                        json!({ "lot": row.lot, "qualifies": row.qualifies })
                    }
                })
                .collect();
            json!({ "ownRows": rows })
        }
        _ => Value::Null,
    };
    let committee_visible = officials || t.proposed.is_some();
    let oversight_visible = matches!(p, Party::Staff | Party::Inspector);
    let objections: Vec<&crate::model::Objection> = t
        .objections
        .iter()
        .filter(|o| oversight_visible || o.by == actor.id)
        .collect();
    json!({
        "id": t.id,
        "definition": { "id": t.definition_id, "version": t.definition_version },
        "state": t.state,
        // The event count moves with every bid: hidden from the parties until the opening.
        "seq": (officials || opened).then_some(t.seq),
        "halted": t.halted(),
        "announcement": t.announcement,
        "documents": t.documents,
        "channels": t.channels,
        "deadline": t.deadline,
        "lots": t.lots,
        "bids": bids,
        "opening": if p == Party::Other { None } else { t.opening.as_deref() },
        "committee": if committee_visible { Some(&t.committee) } else { None },
        "scores": scores,
        "report": report,
        "proposed": t.proposed,
        "publicityEnds": t.publicity_ends,
        "awarded": t.awarded,
        "signoffs": t.signoffs,
        "observations": if oversight_visible { Some(&t.observations) } else { None },
        "objections": objections,
        // Questions and their answers are public; who asked is shown only to oversight.
        "questions": t.questions.iter().map(|q| json!({
            "id": q.id, "at": q.at, "text": q.text, "answer": q.answer,
            "by": oversight_visible.then_some(&q.by),
        })).collect::<Vec<_>>(),
        "irregularities": if oversight_visible { Some(&t.irregularities) } else { None },
        "cancellation": t.cancellation,
        "failure": t.failure,
        "agreements": agreements(wf, t, p, actor),
        // Who delegated the procedure to whom is public; the overseers are shown to
        // officials.
        "delegation": t.delegation.as_ref().map(|d| json!({
            "delegatedBy": d.delegated_by, "delegate": d.delegate, "scope": d.scope, "at": d.at,
            "overseers": officials.then_some(&d.overseers),
        })),
    })
}

/// The stage after the award as `actor` may see it: staff and inspectors see every agreement
/// whole, with each partner's standing; a partner its own; everyone the service list of the
/// agreements in force (the published terms) and terminations with their reasons.
fn agreements(wf: &Workflow, t: &Tender, p: Party, actor: &Actor) -> Vec<Value> {
    let Some(c) = wf.contracts() else {
        return Vec::new();
    };
    t.agreements
        .values()
        .filter_map(|a| {
            let whole = matches!(p, Party::Staff | Party::Inspector)
                || (p == Party::Bidder && a.partner == actor.id);
            if whole {
                let mut v = serde_json::to_value(a).unwrap_or(Value::Null);
                if let Some(d) = &c.delivery {
                    let (offered, given) = crate::decide::delivered(d, &a.deliveries);
                    v["standing"] = json!({
                        "offered": offered,
                        "given": given,
                        "share": crate::numbers::Score::ratio(given as i64, offered as i64),
                        "promised": crate::decide::promised_share(d, a),
                    });
                }
                v["warnings"] = json!(a.warnings());
                return Some(v);
            }
            a.in_force_at?;
            let published: serde_json::Map<String, Value> = c
                .agreement
                .published
                .iter()
                .filter_map(|k| a.terms.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            Some(json!({
                "partner": a.partner,
                "lot": a.lot,
                "inForceAt": a.in_force_at,
                "terms": published,
                "termination": a.termination,
            }))
        })
        .collect()
}

/// Whether `actor` may download document `id` of the tender, and its description. A tender
/// document is public once published (superseded ones too). A bid's document (of the bid
/// as it stands) is sealed until the opening, for everyone, its bidder included; after it,
/// staff, inspectors and the committee's members may read every bid's, and a bidder its own.
pub fn document_access<'t>(
    t: &'t Tender,
    actor: &Actor,
    id: &str,
) -> Result<&'t crate::model::Document, crate::model::Rejection> {
    use crate::model::{Rejection, RejectionCode as C};
    if let Some(p) = t.documents.iter().find(|p| p.document.id == id) {
        return Ok(&p.document);
    }
    let unknown = || {
        Rejection::new(
            C::UnknownDocument,
            format!("no document `{id}` you may read"),
        )
    };
    let Some((key, d)) = t
        .bids
        .iter()
        .find_map(|(k, b)| b.documents.iter().find(|d| d.id == id).map(|d| (k, d)))
    else {
        return Err(unknown());
    };
    let allowed = match party(&actor.role) {
        Party::Staff | Party::Inspector => true,
        Party::Evaluator => t.committee.iter().any(|m| m.id == actor.id),
        Party::Bidder => key.bidder == actor.id,
        Party::Other => false,
    };
    if !allowed {
        return Err(unknown());
    }
    if !t.opened() {
        return Err(Rejection::new(
            C::DocumentSealed,
            "a bid's documents stay sealed until the bids are opened",
        ));
    }
    Ok(d)
}

/// Whether the audit trail may show officials the payload of an event of `kind` now: a score
/// sheet stays with its evaluator until the evaluation report is final (staff must not see
/// scores while they can still steer the outcome). Every other payload is shown as stored
/// (sealed bids stay sealed).
pub fn audit_payload_visible(t: &Tender, kind: &str) -> bool {
    kind != crate::definition::EventName::ScoresSubmitted.as_str() || t.report.is_some()
}

/// The payload the audit trail shows for an event whose payload is withheld.
pub fn withheld_payload(kind: &str) -> Value {
    json!({ "type": kind, "withheld": "until the evaluation report is final" })
}

/// Whether events of this kind concern one bid (submitted, replaced, withdrawn, disqualified):
/// before the opening a bidder's timeline shows only its own.
pub fn is_bid_event(kind: &str) -> bool {
    use crate::definition::EventName as N;
    [
        N::BidSubmitted,
        N::BidReplaced,
        N::BidWithdrawn,
        N::BidDisqualified,
    ]
    .iter()
    .any(|n| n.as_str() == kind)
}

/// Whether `role` may see figures that depend on other bids (event counts, sequence numbers,
/// receipt numbers) in tender `t` now: officials always, everybody else from the opening on.
pub fn counts_visible(t: &Tender, role: &str) -> bool {
    matches!(
        party(role),
        Party::Staff | Party::Evaluator | Party::Inspector
    ) || t.opened()
}
