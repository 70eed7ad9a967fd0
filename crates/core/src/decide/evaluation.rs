//! The committee and evaluation commands: appointing the committee (and removing a member
//! who has scored, only with an inspector's approval), score sheets, and finalising the
//! report with a tie-break draw fixed before the ranking.

use super::{C, Ctx, Decision, Rejection, fail, lot_of, required_text, too_few};
use crate::definition::{CriterionSource, Transition};
use crate::model::{BidKey, DeclareConflict, EventBody};
use crate::numbers::SCALE;
use crate::scoring;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

pub(super) fn appoint(
    cx: &mut Ctx<'_>,
    members: &[crate::model::Member],
    removals: &[crate::model::Removal],
    draw: Option<&crate::model::DrawRequest>,
) -> Decision<()> {
    // Drawn experts join the members named (the procuring entity's representatives).
    let mut record = None;
    let mut all: Vec<crate::model::Member> = members.to_vec();
    if let Some(req) = draw {
        let bidders: BTreeSet<String> =
            cx.t.bids
                .keys()
                .map(|k| k.bidder.as_str().to_owned())
                .collect();
        let commitments: Vec<&str> = cx.t.bids.values().map(|b| b.commitment.as_str()).collect();
        let seed = crate::draw::seed(&cx.t.id, &commitments);
        let pool: Vec<crate::draw::PoolEntry> = req
            .pool
            .iter()
            .filter(|e| !members.iter().any(|m| m.id == e.id))
            .cloned()
            .collect();
        let r = crate::draw::draw(&pool, req.size, &seed, &bidders);
        if (r.drawn.len() as u32) < req.size {
            return Err(Rejection::new(
                C::CommitteeInvalid,
                format!(
                    "the pool gives {} experts without ties to a bidder; {} asked for",
                    r.drawn.len(),
                    req.size
                ),
            )
            .with(json!({ "draw": r })));
        }
        all.extend(r.drawn.iter().map(|id| crate::model::Member {
            id: id.clone(),
            expert: true,
        }));
        record = Some(r);
    }
    let members = all.as_slice();
    let rules = &cx.wf.definition().evaluation.committee;
    let n = members.len() as u32;
    let ids: BTreeSet<&crate::model::ActorId> = members.iter().map(|m| &m.id).collect();
    let mut problems = Vec::new();
    if ids.len() != members.len() {
        problems.push("a member is listed twice".to_owned());
    }
    if n < rules.min_members {
        problems.push(format!(
            "{n} members; at least {} required",
            rules.min_members
        ));
    }
    if rules.odd && n % 2 == 0 {
        problems.push(format!("{n} members; an odd number is required"));
    }
    if let Some(share) = rules.min_expert_share {
        let experts = members.iter().filter(|m| m.expert).count() as i64;
        if experts * SCALE < i64::from(n) * share.raw() {
            problems.push(format!(
                "{experts} experts of {n}; at least a share of {share} required"
            ));
        }
    }
    if !problems.is_empty() {
        return Err(Rejection::new(C::CommitteeInvalid, problems.join("; "))
            .with(json!({ "problems": problems })));
    }
    for m in members {
        let is_bidder = cx.t.bids.keys().any(|k| k.bidder == m.id);
        let is_supervisor = cx.t.signoffs.iter().any(|s| s.by == m.id)
            || cx.t.observations.iter().any(|o| o.by == m.id)
            || cx.t.irregularities.iter().any(|i| i.by == m.id);
        let withdrew = cx.t.recused.contains_key(&m.id);
        if is_bidder || is_supervisor || withdrew {
            let why = if is_bidder {
                "is a bidder"
            } else if is_supervisor {
                "supervises this procedure; supervisors may not sit as evaluators"
            } else {
                "withdrew for a conflict of interest"
            };
            return Err(Rejection::new(
                C::ConflictOfInterest,
                format!("`{}` {why}", m.id),
            ));
        }
    }
    let removed = removed_members(cx, members, removals)?;
    cx.emit(EventBody::CommitteeAppointed {
        members: members.to_vec(),
        removed,
        draw: record,
    });
    Ok(())
}

/// The members with submitted sheets this appointment drops: each needs a removal with a
/// reason and an inspector's approval (an observation with `approveRemoval` naming them,
/// made after the opening). A member who declared a conflict has already withdrawn.
fn removed_members(
    cx: &Ctx<'_>,
    members: &[crate::model::Member],
    removals: &[crate::model::Removal],
) -> Decision<Vec<crate::model::RemovedMember>> {
    let opened_at = cx.t.opening.as_ref().map(|o| o.opened_at);
    let mut out = Vec::new();
    for m in cx.t.active_members() {
        let sheets = cx.t.scores.keys().filter(|(e, _)| *e == m.id).count();
        if sheets == 0 || members.iter().any(|n| n.id == m.id) {
            continue;
        }
        let Some(req) = removals.iter().find(|r| r.member == m.id) else {
            return Err(Rejection::new(
                C::MemberHasScored,
                format!(
                    "`{}` has submitted {sheets} score sheet(s): a member who scored leaves only by their own conflict declaration, or by a removal with a reason approved by an inspector",
                    m.id
                ),
            )
            .with(json!({ "member": m.id, "sheets": sheets })));
        };
        required_text(&req.reason, "the reason for the removal")?;
        let approval = cx.t.observations.iter().rev().find(|o| {
            opened_at.is_some_and(|t| o.at >= t)
                && o.content.get("approveRemoval").and_then(Value::as_str) == Some(m.id.as_str())
        });
        let Some(approval) = approval else {
            return Err(Rejection::new(
                C::MemberHasScored,
                format!(
                    "removing `{}` needs an inspector's approval: an observation with approveRemoval = \"{}\"",
                    m.id, m.id
                ),
            )
            .with(json!({ "member": m.id })));
        };
        out.push(crate::model::RemovedMember {
            member: m.id.clone(),
            reason: req.reason.clone(),
            at: cx.now,
            approved_by: approval.by.clone(),
        });
    }
    if let Some(extra) = removals
        .iter()
        .find(|r| !out.iter().any(|o| o.member == r.member))
    {
        return Err(Rejection::new(
            C::InvalidInput,
            format!(
                "`{}` is not a member with score sheets who leaves the committee; nothing to remove",
                extra.member
            ),
        ));
    }
    Ok(out)
}

pub(super) fn member(cx: &Ctx<'_>) -> Decision<()> {
    if !cx.t.committee.iter().any(|m| m.id == cx.actor.id) {
        return Err(Rejection::new(
            C::NotCommitteeMember,
            format!("`{}` is not on the committee", cx.actor.id),
        ));
    }
    if let Some((bidder, _)) = cx.t.recused.get(&cx.actor.id) {
        return Err(Rejection::new(
            C::ConflictOfInterest,
            format!(
                "`{}` withdrew for a conflict of interest concerning `{bidder}`",
                cx.actor.id
            ),
        ));
    }
    Ok(())
}

pub(super) fn score(
    cx: &mut Ctx<'_>,
    lot: Option<&String>,
    bidder: &crate::model::ActorId,
    sheet: &Arc<Value>,
    correction: Option<&str>,
) -> Decision<()> {
    member(cx)?;
    let key = BidKey {
        lot: lot_of(cx.t, lot)?,
        bidder: bidder.clone(),
    };
    if !cx.t.opened() || !cx.t.bids.contains_key(&key) {
        return Err(Rejection::new(
            C::UnknownBid,
            format!("no opened bid from `{bidder}` in lot `{}`", key.lot),
        ));
    }
    if let Some(reason) = cx.t.disqualified.get(&key) {
        return Err(Rejection::new(
            C::InvalidState,
            format!("the bid was rejected ({reason}); it is not scored"),
        ));
    }
    // A submitted sheet is final: another for the same bid is a correction, with its reason.
    let correction = correction.map(str::trim).filter(|c| !c.is_empty());
    let submitted =
        cx.t.scores
            .contains_key(&(cx.actor.id.clone(), key.clone()));
    if submitted && correction.is_none() {
        return Err(Rejection::new(
            C::ReasonRequired,
            "you have submitted a sheet for this bid; a correction needs its reason (both sheets stay in the record)",
        ));
    }
    let scores = scoring::read_sheet(cx.wf, sheet).map_err(|problems| {
        Rejection::new(
            C::FormInvalid,
            format!("the score sheet is invalid: {}", problems.join("; ")),
        )
        .with(json!({ "errors": problems }))
    })?;
    cx.emit(EventBody::ScoresSubmitted {
        evaluator: cx.actor.id.clone(),
        key,
        scores,
        sheet: sheet.clone(),
        correction: correction.filter(|_| submitted).map(str::to_owned),
    });
    Ok(())
}

pub(super) fn finalize(
    cx: &mut Ctx<'_>,
    tr: &Transition,
    draw_reveal: Option<&str>,
) -> Decision<()> {
    let rules = &cx.wf.definition().evaluation.committee;
    let active: Vec<&crate::model::Member> = cx.t.active_members().collect();
    let n = active.len() as u32;
    if n < rules.min_members || (rules.odd && n % 2 == 0) {
        return Err(Rejection::new(
            C::CommitteeInvalid,
            format!(
                "{n} active committee members; at least {}{} required",
                rules.min_members,
                if rules.odd { ", odd" } else { "" }
            ),
        ));
    }
    if let Some(reason) = too_few(cx, true) {
        let Some(fail_to) = &tr.fail_to else {
            return Err(Rejection::new(C::TooFewBids, reason));
        };
        fail(cx, fail_to, C::TooFewBids, reason);
        return Ok(());
    }
    let scored_by_members = cx
        .wf
        .definition()
        .evaluation
        .criteria
        .iter()
        .any(|c| matches!(c.source, CriterionSource::Evaluators));
    if scored_by_members {
        let mut missing = Vec::new();
        for m in &active {
            for key in
                cx.t.bids
                    .keys()
                    .filter(|k| !cx.t.disqualified.contains_key(*k))
            {
                if !cx.t.scores.contains_key(&(m.id.clone(), key.clone())) {
                    missing
                        .push(json!({ "evaluator": m.id, "lot": key.lot, "bidder": key.bidder }));
                }
            }
        }
        if !missing.is_empty() {
            return Err(Rejection::new(
                C::ScoresIncomplete,
                format!("{} score sheet(s) missing", missing.len()),
            )
            .with(json!({ "missing": missing })));
        }
    }
    let commitment = scoring::draw_commitment(cx.t);
    match (&commitment, draw_reveal) {
        (Some((by, c)), Some(reveal)) if crate::canonical::sha256_text(reveal) != *c => {
            return Err(Rejection::new(
                C::InvalidInput,
                format!("draw_reveal does not match the commitment {by} made at opening"),
            )
            .with(json!({ "commitment": c, "by": by })));
        }
        (Some((by, c)), None) => {
            return Err(Rejection::new(
                C::InvalidInput,
                format!(
                    "{by} committed to a draw value at opening; give its reveal as draw_reveal"
                ),
            )
            .with(json!({ "commitment": c, "by": by })));
        }
        (None, Some(_)) => {
            return Err(Rejection::new(
                C::InvalidInput,
                "no draw value was committed to at opening; finalise without draw_reveal",
            ));
        }
        _ => {}
    }
    let (draw_seed, draw) = scoring::draw_seed(cx.t, draw_reveal);
    let mut report = scoring::evaluate(cx.wf, cx.t, draw_seed);
    report.draw = Some(draw);
    cx.emit(EventBody::EvaluationFinalized {
        report: Arc::new(report),
    });
    if let Some(to) = &tr.to {
        cx.enter(to);
    }
    Ok(())
}

/// `declare_conflict`: a member withdraws over a conflict of interest.
pub(super) fn declare_conflict(cx: &mut Ctx<'_>, d: &DeclareConflict) -> Decision<()> {
    let DeclareConflict { bidder, reason } = d;
    member(cx)?;
    required_text(reason, "the reason")?;
    cx.emit(EventBody::ConflictDeclared {
        evaluator: cx.actor.id.clone(),
        bidder: bidder.clone(),
        reason: reason.clone(),
    });
    Ok(())
}
