//! `decide`: the pure decision of what a command does to a tender, or why it may not.

use crate::definition::CriterionSource;
use crate::definition::{CommandName, ProcedureKind, TimerName, Transition, Workflow};
use crate::model::Cancel;
use crate::model::Command;
use crate::model::{
    Actor, BidKey, CommandBody, DEFAULT_LOT, Event, EventBody, Lot, OpeningEntry, OpeningRecord,
    Tender,
};
use crate::numbers::{Money, SCALE};
use crate::time::Timestamp;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod award;
mod bids;
mod contracts;
mod documents;
mod evaluation;
mod guard;
mod publication;
mod supervision;
mod timers;

pub use crate::model::{Rejection, RejectionCode};
use award::*;
use bids::*;
use contracts::*;
pub use contracts::{delivered, items_of, promised_share, round_due};
pub use documents::bid_commitment;
use documents::{bid_documents, tender_documents};
use evaluation::{appoint, declare_conflict, finalize, member, score};
use guard::*;
use publication::*;
use supervision::*;
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
    let name = command.body.name();
    let mut cx = running(wf, t, &command.actor, now, Some(name))?;
    overseer(&cx, &command.body)?;
    let transition = find(&cx, name)?;
    guard(&cx, name, transition, &command.body)?;
    if let Some(form) = &transition.form {
        if let Some(payload) = payload(&command.body) {
            check_form(wf, form, payload)?;
        }
    }
    act(&mut cx, &command.body, transition)?;
    Ok(cx.events)
}

/// Fires the timer of `t`'s state if it is due at `now` (the bid deadline, the end of
/// publicity): the events it causes, or why not yet. The shell calls this from its clock;
/// the events carry the system actor.
pub fn fire_timer(wf: &Workflow, t: &Tender, now: Timestamp) -> Decision<Vec<Event>> {
    let system = Actor::system();
    let mut cx = running(wf, t, &system, now, None)?;
    advance_time(&mut cx)?;
    Ok(cx.events)
}

/// Creates tender `tender_id` under `wf` at `now` for `actor` (who must hold a role of the
/// definition's initial state): the events that bring `t`, an empty tender, to life.
pub fn create(
    wf: &Workflow,
    t: &Tender,
    actor: &Actor,
    tender_id: &str,
    now: Timestamp,
) -> Decision<Vec<Event>> {
    let mut cx = Ctx {
        wf,
        t,
        actor,
        now,
        events: Vec::new(),
    };
    in_order(t, now)?;
    if !t.state.is_empty() {
        return Err(Rejection::new(
            C::AlreadyExists,
            format!("tender `{}` already exists", t.id),
        ));
    }
    let init = &wf.definition().initial;
    if !has_role(&init.roles, &actor.role) {
        return Err(wrong_role(&actor.role, "create a tender", &init.roles));
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
    let d = wf.definition();
    cx.emit(EventBody::DraftCreated {
        tender_id: tender_id.to_owned(),
        definition_id: d.id.clone(),
        definition_version: d.version.clone(),
        definition_sha256: wf.sha256().to_owned(),
    });
    cx.emit(EventBody::StateEntered {
        state: init.state.clone(),
    });
    Ok(cx.events)
}

/// Refuses a time before the tender's last event.
fn in_order(t: &Tender, now: Timestamp) -> Decision<()> {
    if t.last_at.is_some_and(|last| now < last) {
        return Err(Rejection::new(
            C::ClockRegression,
            format!("the time given ({now}) is before the tender's last event"),
        ));
    }
    Ok(())
}

/// The context of a command or timer on a tender that exists and has not ended (or, for the
/// commands of the stage after the award, ended with an award whose state allows them).
fn running<'a>(
    wf: &'a Workflow,
    t: &'a Tender,
    actor: &'a Actor,
    now: Timestamp,
    command: Option<CommandName>,
) -> Decision<Ctx<'a>> {
    in_order(t, now)?;
    if t.state.is_empty() {
        return Err(Rejection::new(
            C::NotCreated,
            "the tender has not been created",
        ));
    }
    let after_award =
        command.is_some_and(|c| c.after_award() && wf.transition(&t.state, c).is_some());
    if wf.is_terminal(&t.state) && !after_award {
        return Err(Rejection::new(
            C::InvalidState,
            format!(
                "the procedure has ended in state `{}`; nothing more can happen",
                t.state
            ),
        ));
    }
    Ok(Ctx {
        wf,
        t,
        actor,
        now,
        events: Vec::new(),
    })
}

fn act(cx: &mut Ctx<'_>, body: &CommandBody, tr: &Transition) -> Decision<()> {
    // Commands that choose their own next state return; the rest enter the transition's.
    match body {
        CommandBody::Publish(p) => publish(cx, p)?,
        CommandBody::Amend(a) => amend(cx, a)?,
        CommandBody::AskQuestion(q) => ask_question(cx, q)?,
        CommandBody::AnswerQuestion(a) => answer_question(cx, a)?,
        CommandBody::SubmitBid(b) => submit(cx, b, false)?,
        CommandBody::ReplaceBid(b) => submit(cx, b, true)?,
        CommandBody::WithdrawBid(w) => withdraw(cx, w)?,
        CommandBody::CloseSubmission {} => return close_submission(cx, tr),
        CommandBody::OpenBids {} => return open(cx, tr),
        CommandBody::AppointCommittee(a) => appoint(cx, &a.members, &a.removals, a.draw.as_ref())?,
        CommandBody::DeclareConflict(d) => declare_conflict(cx, d)?,
        CommandBody::DisqualifyBid(d) => disqualify(cx, d)?,
        CommandBody::SubmitScores(s) => score(
            cx,
            s.lot.as_ref(),
            &s.bidder,
            &s.sheet,
            s.correction.as_deref(),
        )?,
        CommandBody::FinalizeEvaluation(f) => return finalize(cx, tr, f.draw_reveal.as_deref()),
        CommandBody::ProposeAward {} => return propose(cx, tr),
        CommandBody::Award {} => award(cx)?,
        CommandBody::RaiseObjection(o) => objection(cx, &o.content)?,
        CommandBody::AnswerObjection(a) => answer_objection(cx, a)?,
        CommandBody::SignOff(s) => sign_off(cx, s)?,
        CommandBody::RecordObservation(o) => observe(cx, o),
        CommandBody::RaiseIrregularity(i) => raise_irregularity(cx, i),
        CommandBody::ResolveIrregularity(r) => resolve_irregularity(cx, r)?,
        CommandBody::Cancel(c) => cancel(cx, c)?,
        CommandBody::DraftAgreement(d) => draft_agreement(cx, d)?,
        CommandBody::SignAgreement(s) => sign_agreement(cx, s)?,
        CommandBody::ReportDelivery(r) => report_delivery(cx, r)?,
        CommandBody::ReviewDelivery(r) => review_delivery(cx, r)?,
        CommandBody::EvaluatePerformance(e) => evaluate_performance(cx, e)?,
        CommandBody::TerminateAgreement(t) => terminate_agreement(cx, t)?,
        CommandBody::Delegate(d) => delegate(cx, d)?,
    }
    if let Some(to) = tr.to.as_deref() {
        cx.enter(to);
    }
    Ok(())
}

/// `cancel`: ends the procedure with a reason.
fn cancel(cx: &mut Ctx<'_>, c: &Cancel) -> Decision<()> {
    let reason = &c.reason;
    required_text(reason, "the reason for cancelling")?;
    cx.emit(EventBody::Cancelled {
        reason: reason.clone(),
    });
    Ok(())
}
