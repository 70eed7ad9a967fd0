//! `decide`: the pure decision of what a command does to a tender, or why it may not.

use crate::canonical::sha256_hex;
use crate::definition::CriterionSource;
use crate::definition::{CommandName, ProcedureKind, TimerName, Transition, Workflow};
use crate::model::Command;
use crate::model::{
    Actor, BidKey, CommandBody, DEFAULT_LOT, Event, EventBody, Lot, OpeningEntry, OpeningRecord,
    SYSTEM_ROLE, Tender,
};
use crate::numbers::{Money, SCALE};
use crate::time::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod award;
mod bids;
mod evaluation;
mod guard;
mod publication;
mod timers;

pub use crate::model::{Rejection, RejectionCode};
use award::*;
use bids::*;
use evaluation::{appoint, finalize, member, score};
use guard::*;
use publication::*;
pub use timers::next_timer;
use timers::*;

/// What deciding a command yields: its events (or a step of it), or why not.
type Decision<T> = Result<T, Rejection>;
use RejectionCode as C;

struct Ctx<'a> {
    wf: &'a Workflow,
    t: &'a Tender,
    actor: &'a Actor,
    now: Timestamp,
    events: Vec<Event>,
}

impl Ctx<'_> {
    fn emit(&mut self, body: EventBody) {
        self.events.push(Event {
            at: self.now,
            actor: self.actor.clone(),
            body,
        });
    }
    fn enter(&mut self, state: &str) {
        if state != self.t.state {
            self.emit(EventBody::StateEntered {
                state: state.to_owned(),
            });
        }
    }
}

/// Decides what `command` does to tender `t` at `now` under workflow `wf`: the events to
/// append, or why not. Pure and total: it never panics and reads no clock.
pub fn decide(
    wf: &Workflow,
    t: &Tender,
    command: &Command,
    now: Timestamp,
) -> Decision<Vec<Event>> {
    let mut cx = Ctx {
        wf,
        t,
        actor: &command.actor,
        now,
        events: Vec::new(),
    };
    if t.last_at.is_some_and(|last| now < last) {
        return Err(Rejection::new(
            C::ClockRegression,
            format!("the time given ({now}) is before the tender's last event"),
        ));
    }
    if let CommandBody::CreateDraft { tender_id } = &command.body {
        return create(&mut cx, tender_id).map(|()| cx.events);
    }
    if t.state.is_empty() {
        return Err(Rejection::new(
            C::NotCreated,
            "the tender has not been created",
        ));
    }
    if wf.is_terminal(&t.state) {
        return Err(Rejection::new(
            C::InvalidState,
            format!(
                "the procedure has ended in state `{}`; nothing more can happen",
                t.state
            ),
        ));
    }
    let Some(name) = command.body.name() else {
        return advance_time(&mut cx).map(|()| cx.events);
    };
    let transition = find(&cx, name)?;
    guard(&cx, name, transition)?;
    if let Some(form) = &transition.form {
        if let Some(payload) = payload(&command.body) {
            check_form(wf, form, payload)?;
        }
    }
    act(&mut cx, &command.body, transition)?;
    Ok(cx.events)
}

fn create(cx: &mut Ctx<'_>, tender_id: &str) -> Decision<()> {
    if !cx.t.state.is_empty() {
        return Err(Rejection::new(
            C::AlreadyExists,
            format!("tender `{}` already exists", cx.t.id),
        ));
    }
    let init = &cx.wf.definition().initial;
    if !has_role(&init.roles, &cx.actor.role) {
        return Err(wrong_role(&cx.actor.role, "create a tender", &init.roles));
    }
    if !crate::ids::is_valid(tender_id) || tender_id.len() > crate::ids::MAX_TENDER_ID {
        return Err(Rejection::new(
            C::InvalidInput,
            format!(
                "a tender id is 1–{} characters matching {}",
                crate::ids::MAX_TENDER_ID,
                crate::ids::ID_PATTERN
            ),
        ));
    }
    let d = cx.wf.definition();
    cx.emit(EventBody::DraftCreated {
        tender_id: tender_id.to_owned(),
        definition_id: d.id.clone(),
        definition_version: d.version.clone(),
        definition_sha256: cx.wf.sha256().to_owned(),
    });
    cx.emit(EventBody::StateEntered {
        state: init.state.clone(),
    });
    Ok(())
}

fn act(cx: &mut Ctx<'_>, body: &CommandBody, tr: &Transition) -> Decision<()> {
    let to = tr.to.as_deref();
    match body {
        CommandBody::Publish { .. } => publish(cx, body)?,
        CommandBody::Amend {
            text,
            affects_bids,
            new_deadline,
        } => {
            amend(cx, text, *affects_bids, *new_deadline)?;
        }
        CommandBody::SubmitBid { lot, content } | CommandBody::ReplaceBid { lot, content } => {
            let replace = matches!(body, CommandBody::ReplaceBid { .. });
            submit(cx, lot.as_ref(), content, replace)?;
        }
        CommandBody::WithdrawBid { lot } => {
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
        }
        CommandBody::CloseSubmission => {
            let due = cx.t.deadline.unwrap_or(cx.now);
            if cx.now < due {
                return Err(Rejection::new(
                    C::TooEarly,
                    format!("submission closes at the deadline, {due}"),
                ));
            }
            close(cx, tr);
            return Ok(());
        }
        CommandBody::OpenBids => return open(cx, tr),
        CommandBody::AppointCommittee { members, removals } => appoint(cx, members, removals)?,
        CommandBody::DeclareConflict { bidder, reason } => {
            member(cx)?;
            required_text(reason, "the reason")?;
            cx.emit(EventBody::ConflictDeclared {
                evaluator: cx.actor.id.clone(),
                bidder: bidder.clone(),
                reason: reason.clone(),
            });
        }
        CommandBody::DisqualifyBid {
            lot,
            bidder,
            reason,
        } => {
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
        }
        CommandBody::SubmitScores { lot, bidder, sheet } => score(cx, lot.as_ref(), bidder, sheet)?,
        CommandBody::FinalizeEvaluation { draw_reveal } => {
            return finalize(cx, tr, draw_reveal.as_deref());
        }
        CommandBody::ProposeAward => return propose(cx, tr),
        CommandBody::Award => {
            let Some(winners) = cx.t.proposed.clone() else {
                return Err(Rejection::new(
                    C::InvalidState,
                    "no award has been proposed",
                ));
            };
            cx.emit(EventBody::Awarded { winners });
        }
        CommandBody::RaiseObjection { content } => objection(cx, content)?,
        CommandBody::AnswerObjection {
            objection,
            answer,
            upheld,
        } => {
            required_text(answer, "the answer")?;
            let Some(o) = cx.t.objections.iter().find(|o| o.id == *objection) else {
                return Err(Rejection::new(
                    C::UnknownObjection,
                    format!("no objection #{objection}"),
                ));
            };
            if o.answer.is_some() {
                return Err(Rejection::new(
                    C::AlreadyAnswered,
                    format!("objection #{objection} was already answered"),
                ));
            }
            cx.emit(EventBody::ObjectionAnswered {
                id: *objection,
                objector: o.by.clone(),
                answer: answer.clone(),
                upheld: *upheld,
            });
        }
        CommandBody::SignOff { gate, content } => {
            let Some(g) = cx.wf.gate(gate) else {
                return Err(Rejection::new(C::UnknownGate, format!("no gate `{gate}`")));
            };
            if g.state != cx.t.state {
                return Err(Rejection::new(
                    C::InvalidState,
                    format!(
                        "gate `{gate}` is signed in state `{}`, not `{}`",
                        g.state, cx.t.state
                    ),
                ));
            }
            if !has_role(&g.signers, &cx.actor.role) {
                return Err(wrong_role(
                    &cx.actor.role,
                    &format!("sign gate `{gate}`"),
                    &g.signers,
                ));
            }
            if g.committee {
                member(cx)?;
            }
            if cx
                .t
                .signoffs
                .iter()
                .any(|s| s.gate == *gate && s.by == cx.actor.id)
            {
                return Err(Rejection::new(
                    C::AlreadySigned,
                    format!("you already signed gate `{gate}`"),
                ));
            }
            cx.emit(EventBody::SignedOff {
                gate: gate.clone(),
                content: content.clone(),
            });
        }
        CommandBody::RecordObservation { content } => {
            let stage = cx.t.state.clone();
            cx.emit(EventBody::ObservationRecorded {
                stage,
                content: content.clone(),
            });
        }
        CommandBody::RaiseIrregularity { content } => {
            let id = cx.t.irregularities.len() as u32 + 1;
            let stage = cx.t.state.clone();
            cx.emit(EventBody::IrregularityRaised {
                id,
                stage,
                content: content.clone(),
            });
        }
        CommandBody::ResolveIrregularity {
            irregularity,
            resolution,
        } => {
            required_text(resolution, "the resolution")?;
            let Some(i) = cx.t.irregularities.iter().find(|i| i.id == *irregularity) else {
                return Err(Rejection::new(
                    C::UnknownIrregularity,
                    format!("no irregularity #{irregularity}"),
                ));
            };
            if i.resolution.is_some() {
                return Err(Rejection::new(
                    C::AlreadyAnswered,
                    format!("irregularity #{irregularity} was already resolved"),
                ));
            }
            cx.emit(EventBody::IrregularityResolved {
                id: *irregularity,
                resolution: resolution.clone(),
            });
        }
        CommandBody::Cancel { reason } => {
            required_text(reason, "the reason for cancelling")?;
            cx.emit(EventBody::Cancelled {
                reason: reason.clone(),
            });
        }
        CommandBody::CreateDraft { .. } | CommandBody::AdvanceTime => {}
    }
    if let Some(to) = to {
        cx.enter(to);
    }
    Ok(())
}
