//! After the award: agreements drafted from the award and the winning bid, signed by both
//! sides; delivery reports and the partner's standing against its promised share; performance
//! rounds; termination.

use super::*;
use crate::definition::{BindingRule, Contracts, DeliveryRules};
use crate::model::{
    ActorId, Agreement, AgreementSide, Delivery, DraftAgreement, EvaluatePerformance,
    ReportDelivery, ReviewDelivery, Role, SignAgreement, TerminateAgreement,
};
use crate::numbers::Score;
use crate::time::Period;

fn rules<'a>(cx: &Ctx<'a>) -> Decision<&'a Contracts> {
    cx.wf.contracts().ok_or_else(|| {
        Rejection::new(
            C::InvalidState,
            "the definition declares no stage after the award",
        )
    })
}

fn agreement<'a>(cx: &Ctx<'a>, partner: &ActorId) -> Decision<&'a Agreement> {
    cx.t.agreements.get(partner).ok_or_else(|| {
        Rejection::new(
            C::NoAgreement,
            format!("no agreement with `{partner}` has been drafted"),
        )
    })
}

/// The agreement in force and not terminated.
fn active<'a>(cx: &Ctx<'a>, partner: &ActorId) -> Decision<&'a Agreement> {
    let a = agreement(cx, partner)?;
    if let Some(t) = &a.termination {
        return Err(Rejection::new(
            C::AgreementTerminated,
            format!("the agreement with `{partner}` was terminated on {}", t.at),
        ));
    }
    if a.in_force_at.is_none() {
        return Err(Rejection::new(
            C::NoAgreement,
            format!("the agreement with `{partner}` is not in force yet"),
        ));
    }
    Ok(a)
}

/// The partner acting for itself: a bidder may act only on its own agreement.
fn own(cx: &Ctx<'_>, partner: &ActorId) -> Decision<()> {
    if *cx.actor.role == *Role::BIDDER.as_str() && cx.actor.id != *partner {
        return Err(Rejection::new(
            C::NotYourAgreement,
            format!("`{}` may not act on `{partner}`'s agreement", cx.actor.id),
        )
        .with(json!({ "actor": cx.actor.id, "partner": partner })));
    }
    Ok(())
}

/// `draft_agreement`: from the award and the winning bid; bound terms must follow the bid.
pub(super) fn draft_agreement(cx: &mut Ctx<'_>, d: &DraftAgreement) -> Decision<()> {
    let c = rules(cx)?;
    let DraftAgreement { partner, terms } = d;
    let Some(won) = cx.t.awarded.iter().flatten().find(|w| w.bidder == *partner) else {
        return Err(Rejection::new(
            C::NotAWinner,
            format!("`{partner}` is not among the winners of the award"),
        ));
    };
    let previous = cx.t.agreements.get(partner);
    if previous.is_some_and(Agreement::signed_by_anyone) {
        return Err(Rejection::new(
            C::AlreadySigned,
            format!("the agreement with `{partner}` is signed; its terms can no longer change"),
        ));
    }
    let key = BidKey {
        lot: won.lot.clone(),
        bidder: partner.clone(),
    };
    let bid = cx.t.bids.get(&key).map(|b| b.content.clone());
    let bid = bid.as_deref().unwrap_or(&Value::Null);
    let mut departures = Vec::new();
    for b in &c.agreement.binding {
        let term = terms.get(&b.term);
        let want = bid.get(&b.bid);
        let follows = match (term, want, b.rule) {
            (Some(t), Some(w), BindingRule::Equal) => same(t, w),
            (Some(t), Some(w), BindingRule::AtLeast) => cmp(t, w).is_some_and(|o| o.is_ge()),
            (Some(t), Some(w), BindingRule::AtMost) => cmp(t, w).is_some_and(|o| o.is_le()),
            // A bid without the field binds nothing.
            (_, None, _) => true,
            (None, Some(_), _) => false,
        };
        if !follows {
            departures.push(json!({
                "term": b.term, "agreement": term, "bid": b.bid, "bidValue": want,
                "rule": b.rule,
            }));
        }
    }
    if !departures.is_empty() {
        let first = &departures[0];
        return Err(Rejection::new(
            C::AgreementDepartsFromBid,
            format!(
                "the agreement departs from the winning bid: term `{}` is {} where the bid \
                 says {} ({} term(s) depart; the contract must follow the tender and the \
                 winning bid)",
                first["term"].as_str().unwrap_or_default(),
                first["agreement"],
                first["bidValue"],
                departures.len()
            ),
        )
        .with(json!({ "departures": departures })));
    }
    let awarded_at =
        cx.t.happened
            .get(&crate::definition::EventName::Awarded)
            .map_or(cx.now, |(first, _)| *first);
    let within = c.agreement.sign_within.period();
    let sign_by = cx
        .wf
        .definition()
        .calendar
        .add(awarded_at, within)
        .unwrap_or(awarded_at);
    cx.emit(EventBody::AgreementDrafted {
        partner: partner.clone(),
        lot: won.lot.clone(),
        terms: terms.clone(),
        version: previous.map_or(1, |a| a.version + 1),
        sign_by,
    });
    Ok(())
}

/// JSON equality that treats `20` and `20.0` as the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => cmp(a, b).is_some_and(|o| o.is_eq()),
        _ => a == b,
    }
}

fn cmp(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// `sign_agreement`: staff sign for the buyer, the partner for itself; once both (and any
/// gate) have signed, the agreement is in force.
pub(super) fn sign_agreement(cx: &mut Ctx<'_>, s: &SignAgreement) -> Decision<()> {
    let c = rules(cx)?;
    let partner = &s.partner;
    own(cx, partner)?;
    let a = agreement(cx, partner)?;
    if a.termination.is_some() {
        return Err(Rejection::new(
            C::AgreementTerminated,
            format!("the agreement with `{partner}` was terminated"),
        ));
    }
    let side = if *cx.actor.role == *Role::BIDDER.as_str() {
        AgreementSide::Partner
    } else {
        AgreementSide::Buyer
    };
    let signed = match side {
        AgreementSide::Buyer => a.buyer_signed.is_some(),
        AgreementSide::Partner => a.partner_signed.is_some(),
    };
    if signed {
        return Err(Rejection::new(
            C::AlreadySigned,
            format!("the {side:?} side already signed the agreement with `{partner}`"),
        ));
    }
    cx.emit(EventBody::AgreementSigned {
        partner: partner.clone(),
        side,
        late: cx.now > a.sign_by,
    });
    let gate_ok = c
        .agreement
        .gate
        .as_deref()
        .is_none_or(|g| gate_signed(cx, g, partner, 0));
    if a.buyer_signed.is_some() || a.partner_signed.is_some() {
        // The other side had signed: both have now.
        if gate_ok {
            cx.emit(EventBody::AgreementInForce {
                partner: partner.clone(),
            });
        }
    }
    Ok(())
}

/// Whether `gate` has its signatures for `partner`, counting `extra` more about to be made.
pub(super) fn gate_signed(cx: &Ctx<'_>, gate: &str, partner: &ActorId, extra: usize) -> bool {
    let need = cx.wf.gate(gate).map_or(1, |g| g.min_signatures) as usize;
    cx.t.signatures_for(gate, Some(partner)) + extra >= need
}

/// After a per-partner gate's signature: the agreement comes into force if this was the
/// signature it waited for.
pub(super) fn after_partner_signoff(cx: &mut Ctx<'_>, gate: &str, partner: &ActorId) {
    let Some(c) = cx.wf.contracts() else { return };
    if c.agreement.gate.as_deref() != Some(gate) {
        return;
    }
    let Some(a) = cx.t.agreements.get(partner) else {
        return;
    };
    if a.signed_by_both() && a.in_force_at.is_none() && gate_signed(cx, gate, partner, 1) {
        cx.emit(EventBody::AgreementInForce {
            partner: partner.clone(),
        });
    }
}

fn delivery_rules(c: &Contracts) -> Decision<&DeliveryRules> {
    c.delivery.as_ref().ok_or_else(|| {
        Rejection::new(
            C::InvalidState,
            "the definition declares no delivery reports",
        )
    })
}

fn count(report: &Value, field: &str) -> Decision<u64> {
    report.get(field).and_then(Value::as_u64).ok_or_else(|| {
        Rejection::new(
            C::InvalidInput,
            format!("`{field}` must be a whole number of at least 0"),
        )
    })
}

/// Places offered and places given free or discounted, over the reports that count.
pub fn delivered(d: &DeliveryRules, deliveries: &[Delivery]) -> (u64, u64) {
    let f = &d.fields;
    deliveries
        .iter()
        .filter(|x| x.counts())
        .fold((0, 0), |(offered, given), x| {
            let n = |k: &str| x.report.get(k).and_then(Value::as_u64).unwrap_or(0);
            (
                offered + n(&f.places_offered),
                given + n(&f.free_places) + n(&f.discounted_places),
            )
        })
}

/// The promised share (percent) in an agreement's terms.
pub fn promised_share(d: &DeliveryRules, a: &Agreement) -> Score {
    a.terms
        .get(&d.promised_share)
        .and_then(Score::from_json)
        .unwrap_or_default()
}

/// Emits a shortfall alert when `deliveries` leave the partner behind and it was not, and a
/// recovery when it was and no longer is.
fn standing(cx: &mut Ctx<'_>, d: &DeliveryRules, a: &Agreement, deliveries: &[Delivery]) {
    let (offered, given) = delivered(d, deliveries);
    let share = Score::ratio(given as i64, offered as i64);
    let promised = promised_share(d, a);
    let behind = offered >= u64::from(d.min_places) && share < promised.weighted(d.alert_below);
    let partner = a.partner.clone();
    if behind && !a.behind {
        cx.emit(EventBody::DeliveryShortfall {
            partner,
            offered,
            given,
            share,
            promised,
        });
    } else if !behind && a.behind {
        cx.emit(EventBody::DeliveryRecovered {
            partner,
            share,
            promised,
        });
    }
}

/// `report_delivery`: one activity; the partner's standing is recomputed with it.
pub(super) fn report_delivery(cx: &mut Ctx<'_>, r: &ReportDelivery) -> Decision<()> {
    let d = delivery_rules(rules(cx)?)?;
    let ReportDelivery { partner, report } = r;
    own(cx, partner)?;
    let a = active(cx, partner)?;
    let f = &d.fields;
    let offered = count(report, &f.places_offered)?;
    let given = count(report, &f.free_places)? + count(report, &f.discounted_places)?;
    count(report, &f.participants)?;
    if given > offered {
        return Err(Rejection::new(
            C::InvalidInput,
            format!("{given} free or discounted places given out of {offered} offered"),
        ));
    }
    let item = report.get(&f.item).and_then(Value::as_str).unwrap_or("");
    let items = agreement_items(cx, a);
    if !items.iter().any(|i| i == item) {
        return Err(Rejection::new(
            C::UnknownServiceItem,
            format!(
                "the agreement with `{partner}` lists no service item `{item}`; it lists {}",
                items.join(", ")
            ),
        )
        .with(json!({ "item": item, "items": items })));
    }
    let number = a.deliveries.len() as u32 + 1;
    cx.emit(EventBody::DeliveryReported {
        partner: partner.clone(),
        number,
        report: report.clone(),
    });
    let mut deliveries = a.deliveries.clone();
    deliveries.push(Delivery {
        number,
        at: cx.now,
        report: report.clone(),
        review: None,
    });
    standing(cx, d, a, &deliveries);
    Ok(())
}

/// The ids of the service items an agreement lists.
pub fn items_of(c: &Contracts, a: &Agreement) -> Vec<String> {
    c.agreement
        .items
        .as_deref()
        .and_then(|k| a.terms.get(k))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn agreement_items(cx: &Ctx<'_>, a: &Agreement) -> Vec<String> {
    cx.wf
        .contracts()
        .map(|c| items_of(c, a))
        .unwrap_or_default()
}

/// `review_delivery`: verified or queried (with what is asked); the standing follows.
pub(super) fn review_delivery(cx: &mut Ctx<'_>, r: &ReviewDelivery) -> Decision<()> {
    let d = delivery_rules(rules(cx)?)?;
    let a = agreement(cx, &r.partner)?;
    if !a.deliveries.iter().any(|x| x.number == r.report) {
        return Err(Rejection::new(
            C::UnknownReport,
            format!("`{}` has no delivery report {}", r.partner, r.report),
        ));
    }
    if !r.verified {
        required_text(&r.note, "what the query asks")?;
    }
    cx.emit(EventBody::DeliveryReviewed {
        partner: r.partner.clone(),
        number: r.report,
        verified: r.verified,
        note: r.note.clone(),
    });
    let mut deliveries = a.deliveries.clone();
    for x in deliveries.iter_mut().filter(|x| x.number == r.report) {
        x.review = Some((r.verified, r.note.clone(), cx.now));
    }
    standing(cx, d, a, &deliveries);
    Ok(())
}

/// When performance round `round` (from 1) of an agreement in force since `since` is due.
pub fn round_due(wf: &Workflow, since: Timestamp, round: u32) -> Option<Timestamp> {
    let p = wf.contracts()?.performance.as_ref()?;
    let every = p.every.period();
    let period = Period {
        amount: every.amount.checked_mul(round)?,
        unit: every.unit,
    };
    wf.definition().calendar.add(since, period)
}

/// `evaluate_performance`: the round that is due, scored on every criterion; a total below
/// the minimum is a warning.
pub(super) fn evaluate_performance(cx: &mut Ctx<'_>, e: &EvaluatePerformance) -> Decision<()> {
    let c = rules(cx)?;
    let Some(p) = &c.performance else {
        return Err(Rejection::new(
            C::InvalidState,
            "the definition declares no performance evaluation",
        ));
    };
    let a = active(cx, &e.partner)?;
    let missing: Vec<&str> = p
        .criteria
        .iter()
        .map(|c| c.id.as_str())
        .filter(|id| !e.scores.contains_key(*id))
        .collect();
    let unknown: Vec<&str> = e
        .scores
        .keys()
        .map(String::as_str)
        .filter(|k| !p.criteria.iter().any(|c| c.id == *k))
        .collect();
    if !missing.is_empty() || !unknown.is_empty() {
        return Err(Rejection::new(
            C::FormInvalid,
            format!("score every criterion once: missing {missing:?}, not criteria {unknown:?}"),
        )
        .with(json!({ "missing": missing, "unknown": unknown })));
    }
    if let Some((k, v)) = e
        .scores
        .iter()
        .find(|(_, v)| v.raw() < 0 || **v > Score::MAX)
    {
        return Err(Rejection::new(
            C::InvalidInput,
            format!("score {v} for `{k}` is outside 0–100"),
        ));
    }
    let round = a.rounds.len() as u32 + 1;
    let since = a.in_force_at.unwrap_or(cx.now);
    if let Some(due) = round_due(cx.wf, since, round).filter(|due| cx.now < *due) {
        return Err(Rejection::new(
            C::TooEarly,
            format!(
                "performance round {round} for `{}` is due on {due}",
                e.partner
            ),
        )
        .with(json!({ "round": round, "due": due })));
    }
    let total = p.criteria.iter().fold(Score::default(), |sum, c| {
        sum.plus(e.scores[&c.id].weighted(c.weight))
    });
    cx.emit(EventBody::PerformanceEvaluated {
        partner: e.partner.clone(),
        round,
        scores: e.scores.clone(),
        total,
        warning: total < p.minimum,
        note: e.note.clone(),
    });
    Ok(())
}

/// `terminate_agreement`: with a public reason, after the warnings the definition requires
/// (the transition's gates, signed for this partner, are checked before).
pub(super) fn terminate_agreement(cx: &mut Ctx<'_>, t: &TerminateAgreement) -> Decision<()> {
    let c = rules(cx)?;
    required_text(&t.reason, "the reason for terminating")?;
    let a = agreement(cx, &t.partner)?;
    if a.termination.is_some() {
        return Err(Rejection::new(
            C::AgreementTerminated,
            format!("the agreement with `{}` is already terminated", t.partner),
        ));
    }
    let need = c
        .performance
        .as_ref()
        .map_or(0, |p| p.warnings_before_termination) as usize;
    if a.warnings() < need {
        return Err(Rejection::new(
            C::NotWarned,
            format!(
                "`{}` has had {} warning(s); termination needs {need} first",
                t.partner,
                a.warnings()
            ),
        ));
    }
    cx.emit(EventBody::AgreementTerminated {
        partner: t.partner.clone(),
        reason: t.reason.clone(),
    });
    Ok(())
}
