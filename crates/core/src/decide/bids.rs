//! Bids: submission and replacement before the deadline, closing at the deadline, opening
//! (the opening record and the tie-break commitment), and failure for too few bids.

use super::*;
use crate::model::{DisqualifyBid, SubmitBid, WithdrawBid};

pub(super) fn submit(cx: &mut Ctx<'_>, bid: &SubmitBid, replace: bool) -> Decision<()> {
    let (lot, content) = (bid.lot.as_ref(), &bid.content);
    before_deadline(cx)?;
    if !cx.t.invitees.is_empty() && !cx.t.invitees.contains(&cx.actor.id) {
        return Err(Rejection::new(
            C::NotInvited,
            format!("`{}` was not invited to this procedure", cx.actor.id),
        ));
    }
    let key = BidKey {
        lot: lot_of(cx.t, lot)?,
        bidder: cx.actor.id.clone(),
    };
    match (replace, cx.t.bids.contains_key(&key)) {
        (false, true) => {
            return Err(Rejection::new(
                C::DuplicateBid,
                "you already have a bid in this lot; replace or withdraw it",
            ));
        }
        (true, false) => {
            return Err(Rejection::new(
                C::UnknownBid,
                "you have no bid in this lot to replace",
            ));
        }
        _ => {}
    }
    let field = &cx.wf.definition().evaluation.price_field;
    let price = crate::canonical::pointer(content, field)
        .and_then(Value::as_i64)
        .filter(|p| *p > 0)
        .and_then(Money::from_minor)
        .ok_or_else(|| {
            Rejection::new(
                C::FormInvalid,
                format!("{field}: expected the price as a positive integer in minor units"),
            )
        })?;
    // Whatever the form accepts, scoring uses exactly: every bid figure a criterion reads
    // must be a number with at most four decimals, or the bid is refused now (not scored as
    // 0 later).
    for c in &cx.wf.definition().evaluation.criteria {
        if let crate::definition::CriterionSource::BidRatio { field } = &c.source {
            let v = crate::canonical::pointer(content, field);
            let exact = v.and_then(crate::numbers::Score::from_json);
            if exact.is_none_or(|s| s.raw() < 0) {
                return Err(Rejection::new(
                    C::FormInvalid,
                    format!(
                        "{field}: found {}; expected a number ≥ 0 with at most 4 decimals (criterion `{}` scores it exactly)",
                        v.map_or_else(|| "nothing".to_owned(), Value::to_string),
                        c.id
                    ),
                )
                .with(json!({ "pointer": field })));
            }
        }
    }
    bid_documents(cx, &bid.documents)?;
    let receipt = cx.t.receipts + 1;
    let commitment_recipe = crate::canonical::Recipe::CURRENT;
    let commitment = bid_commitment(content, &bid.documents, commitment_recipe);
    let content = content.clone();
    let documents = bid.documents.clone();
    cx.emit(if replace {
        EventBody::BidReplaced {
            key,
            receipt,
            content,
            commitment,
            commitment_recipe,
            price,
            documents,
        }
    } else {
        EventBody::BidSubmitted {
            key,
            receipt,
            content,
            commitment,
            commitment_recipe,
            price,
            documents,
        }
    });
    Ok(())
}

pub(super) fn per_lot_counts(t: &Tender, valid_only: bool) -> BTreeMap<&str, u32> {
    let mut counts: BTreeMap<&str, u32> = t.lots.iter().map(|l| (&*l.id, 0)).collect();
    for key in t.bids.keys() {
        if valid_only && t.disqualified.contains_key(key) {
            continue;
        }
        *counts.entry(&*key.lot).or_default() += 1;
    }
    counts
}

/// The lots below the minimum number of bids, as a message; `None` when all are fine.
pub(super) fn too_few(cx: &Ctx<'_>, valid_only: bool) -> Option<String> {
    let min = cx.wf.definition().award.min_valid_bids;
    let short: Vec<String> = per_lot_counts(cx.t, valid_only)
        .into_iter()
        .filter(|(_, n)| *n < min)
        .map(|(lot, n)| format!("lot {lot}: {n}"))
        .collect();
    (!short.is_empty()).then(|| format!("fewer than {min} valid bids ({})", short.join(", ")))
}

pub(super) fn fail(cx: &mut Ctx<'_>, to: &str, code: RejectionCode, reason: String) {
    cx.emit(EventBody::ProcedureFailed { code, reason });
    cx.enter(to);
}

pub(super) fn close(cx: &mut Ctx<'_>, tr: &Transition) {
    let deadline = cx.t.deadline.unwrap_or(cx.now);
    cx.emit(EventBody::SubmissionClosed {
        deadline,
        bids: cx.t.bids.len() as u32,
    });
    if let (Some(fail_to), Some(reason)) = (&tr.fail_to, too_few(cx, false)) {
        fail(cx, fail_to, C::TooFewBids, reason);
    } else if let Some(to) = &tr.to {
        cx.enter(to);
    }
}

pub(super) fn open(cx: &mut Ctx<'_>, tr: &Transition) -> Decision<()> {
    let deadline = cx.t.deadline.unwrap_or(cx.now);
    if cx.now < deadline {
        return Err(Rejection::new(
            C::TooEarly,
            format!("bids open at the deadline, {deadline}"),
        ));
    }
    if let Some(reason) = too_few(cx, false) {
        let Some(fail_to) = &tr.fail_to else {
            return Err(Rejection::new(C::TooFewBids, reason));
        };
        fail(cx, fail_to, C::TooFewBids, reason);
        return Ok(());
    }
    let ratio_fields: Vec<&String> = cx
        .wf
        .definition()
        .evaluation
        .criteria
        .iter()
        .filter_map(|c| match &c.source {
            CriterionSource::BidRatio { field } => Some(field),
            _ => None,
        })
        .collect();
    let mut entries: Vec<OpeningEntry> = cx
        .t
        .bids
        .iter()
        .map(|(key, bid)| OpeningEntry {
            receipt: bid.receipt,
            lot: key.lot.clone(),
            bidder: key.bidder.clone(),
            received_at: bid.received_at,
            commitment: bid.commitment.clone(),
            price: bid.price,
            read_out: ratio_fields
                .iter()
                .filter_map(|f| {
                    crate::canonical::pointer(&bid.content, f).map(|v| ((*f).clone(), v.clone()))
                })
                .collect(),
        })
        .collect();
    entries.sort_by_key(|e| e.receipt);
    let record = OpeningRecord {
        opened_at: cx.now,
        opened_by: cx.actor.id.clone(),
        entries,
    };
    cx.emit(EventBody::BidsOpened {
        record: Arc::new(record),
    });
    if let Some(to) = &tr.to {
        cx.enter(to);
    }
    Ok(())
}

/// `withdraw_bid`: the bidder's own bid in a lot, before the deadline.
pub(super) fn withdraw(cx: &mut Ctx<'_>, w: &WithdrawBid) -> Decision<()> {
    let lot = &w.lot;
    before_deadline(cx)?;
    let key = BidKey {
        lot: lot_of(cx.t, lot.as_ref())?,
        bidder: cx.actor.id.clone(),
    };
    if !cx.t.bids.contains_key(&key) {
        return Err(Rejection::new(
            C::UnknownBid,
            "you have no bid in this lot to withdraw",
        ));
    }
    cx.emit(EventBody::BidWithdrawn { key });
    Ok(())
}

/// `close_submission` by hand, once the deadline has passed.
pub(super) fn close_submission(cx: &mut Ctx<'_>, tr: &Transition) -> Decision<()> {
    let due = cx.t.deadline.unwrap_or(cx.now);
    if cx.now < due {
        return Err(Rejection::new(
            C::TooEarly,
            format!("submission closes at the deadline, {due}"),
        ));
    }
    close(cx, tr);
    Ok(())
}

/// `disqualify_bid`: an opened bid rejected at qualification or responsiveness.
pub(super) fn disqualify(cx: &mut Ctx<'_>, d: &DisqualifyBid) -> Decision<()> {
    let DisqualifyBid {
        lot,
        bidder,
        reason,
    } = d;
    required_text(reason, "the reason")?;
    let key = BidKey {
        lot: lot_of(cx.t, lot.as_ref())?,
        bidder: bidder.clone(),
    };
    if !cx.t.bids.contains_key(&key) || !cx.t.opened() {
        return Err(Rejection::new(
            C::UnknownBid,
            format!("no opened bid from `{bidder}` in lot `{}`", key.lot),
        ));
    }
    cx.emit(EventBody::BidDisqualified {
        key,
        reason: reason.clone(),
    });
    Ok(())
}
