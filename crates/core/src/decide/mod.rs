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
use std::fmt;
use std::sync::Arc;

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

mod evaluation;
use evaluation::{appoint, finalize, member, score};

type R<T> = Result<T, Rejection>;
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
pub fn decide(wf: &Workflow, t: &Tender, command: &Command, now: Timestamp) -> R<Vec<Event>> {
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
    run(&mut cx, &command.body, transition)?;
    Ok(cx.events)
}

fn create(cx: &mut Ctx<'_>, tender_id: &str) -> R<()> {
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

fn has_role(list: &[String], role: &str) -> bool {
    list.iter().any(|r| r == role)
}

fn wrong_role(role: &str, what: &str, allowed: &[String]) -> Rejection {
    Rejection::new(
        C::WrongRole,
        format!(
            "role `{role}` may not {what}; allowed: {}",
            allowed.join(", ")
        ),
    )
    .with(json!({ "role": role, "allowed": allowed }))
}

fn find<'a>(cx: &Ctx<'a>, name: CommandName) -> R<&'a Transition> {
    let candidates: Vec<&Transition> = cx
        .wf
        .transitions_from(&cx.t.state)
        .filter(|t| t.command == Some(name))
        .collect();
    let Some(tr) = candidates.first() else {
        // A bid after the deadline is late, whether or not the deadline's timer has fired
        // and moved the tender on.
        if matches!(
            name,
            CommandName::SubmitBid | CommandName::ReplaceBid | CommandName::WithdrawBid
        ) {
            if let Some(d) = cx.t.deadline.filter(|d| cx.now >= *d) {
                return Err(
                    Rejection::new(C::LateBid, format!("the bid deadline {d} has passed"))
                        .with(json!({ "deadline": d, "now": cx.now, "state": cx.t.state })),
                );
            }
        }
        let allowed: BTreeSet<&str> = cx
            .wf
            .transitions_from(&cx.t.state)
            .filter_map(|t| t.command.map(CommandName::as_str))
            .collect();
        return Err(Rejection::new(
            C::InvalidState,
            format!("`{name}` is not allowed in state `{}`", cx.t.state),
        )
        .with(json!({ "state": cx.t.state, "allowed": allowed })));
    };
    if !has_role(&tr.roles, &cx.actor.role) {
        return Err(wrong_role(
            &cx.actor.role,
            &format!("`{name}` in state `{}`", cx.t.state),
            &tr.roles,
        ));
    }
    Ok(tr)
}

/// Commands that stay possible while the procedure is halted by an irregularity.
fn halt_exempt(name: CommandName) -> bool {
    matches!(
        name,
        CommandName::RaiseIrregularity
            | CommandName::ResolveIrregularity
            | CommandName::RecordObservation
            | CommandName::Cancel
    )
}

fn guard(cx: &Ctx<'_>, name: CommandName, tr: &Transition) -> R<()> {
    if cx.t.halted() && !halt_exempt(name) {
        return Err(Rejection::new(
            C::Halted,
            "an irregularity is open; the procedure is halted until an inspector resolves it",
        ));
    }
    let moves = tr.to.as_ref().is_some_and(|to| *to != cx.t.state);
    if moves && name != CommandName::Cancel && cx.t.objection_pending() {
        return Err(Rejection::new(
            C::ObjectionPending,
            "an objection awaits its answer; the procedure is suspended until it is answered",
        ));
    }
    check_gates(cx, tr)
}

/// Every gate the transition needs is signed; otherwise one rejection naming every gate
/// still open and, for committee gates, the members who have not signed.
fn check_gates(cx: &Ctx<'_>, tr: &Transition) -> R<()> {
    let mut open = Vec::new();
    let mut said = Vec::new();
    for gate in &tr.gates {
        let def = cx.wf.gate(gate);
        let need = def.map_or(1, |g| g.min_signatures) as usize;
        let have = cx.t.signatures(gate);
        let missing: Vec<&crate::model::ActorId> = if def.is_some_and(|g| g.committee) {
            cx.t.active_members()
                .map(|m| &m.id)
                .filter(|id| {
                    !cx.t
                        .signoffs
                        .iter()
                        .any(|s| s.gate == *gate && s.by == **id)
                })
                .collect()
        } else {
            Vec::new()
        };
        if have < need || !missing.is_empty() {
            let signers = def.map(|g| g.signers.join(", ")).unwrap_or_default();
            said.push(if missing.is_empty() {
                format!("gate `{gate}` needs {need} sign-off(s) by {signers}; it has {have}")
            } else {
                format!(
                    "gate `{gate}` needs every committee member's signature; {} missing",
                    missing.len()
                )
            });
            open.push(json!({ "gate": gate, "needed": need, "signed": have, "missing": missing }));
        }
    }
    if open.is_empty() {
        Ok(())
    } else {
        Err(Rejection::new(C::MissingSignoff, said.join("; ")).with(json!({ "gates": open })))
    }
}

fn payload(body: &CommandBody) -> Option<&Value> {
    match body {
        CommandBody::Publish { announcement, .. } => Some(announcement),
        CommandBody::SubmitBid { content, .. }
        | CommandBody::ReplaceBid { content, .. }
        | CommandBody::RaiseObjection { content }
        | CommandBody::SignOff { content, .. }
        | CommandBody::RecordObservation { content }
        | CommandBody::RaiseIrregularity { content } => Some(content),
        CommandBody::SubmitScores { sheet, .. } => Some(sheet),
        _ => None,
    }
}

fn check_form(wf: &Workflow, form: &str, value: &Value) -> R<()> {
    let Some(v) = wf.form(form) else {
        return Err(Rejection::new(
            C::FormInvalid,
            format!("form `{form}` is not declared"),
        ));
    };
    if v.is_valid(value) {
        return Ok(());
    }
    let errors: Vec<Value> = v
        .iter_errors(value)
        .map(|e| json!({ "pointer": e.instance_path().to_string(), "message": e.to_string() }))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        let first = errors[0]["message"].as_str().unwrap_or_default().to_owned();
        Err(Rejection::new(
            C::FormInvalid,
            format!(
                "the {form} form is not satisfied ({} problem(s)); first: {first}",
                errors.len()
            ),
        )
        .with(json!({ "form": form, "errors": errors })))
    }
}

fn required_text(text: &str, what: &str) -> R<()> {
    if text.trim().is_empty() {
        Err(Rejection::new(
            C::ReasonRequired,
            format!("{what} must not be empty"),
        ))
    } else {
        Ok(())
    }
}

fn lot_of(t: &Tender, lot: Option<&String>) -> R<Arc<str>> {
    match lot {
        Some(l) => match t.lots.iter().find(|x| *x.id == **l) {
            Some(x) => Ok(x.id.clone()),
            None => Err(Rejection::new(
                C::UnknownLot,
                format!("the tender has no lot `{l}`"),
            )),
        },
        None if t.lots.len() == 1 => Ok(t.lots[0].id.clone()),
        None => Err(Rejection::new(
            C::UnknownLot,
            "the tender has several lots; name one",
        )),
    }
}

fn run(cx: &mut Ctx<'_>, body: &CommandBody, tr: &Transition) -> R<()> {
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

fn publish(cx: &mut Ctx<'_>, body: &CommandBody) -> R<()> {
    let CommandBody::Publish {
        announcement,
        channels,
        deadline,
        lots,
        estimated_price,
        bid_security,
        invitees,
    } = body
    else {
        return Ok(());
    };
    let (deadline, estimated_price, bid_security) = (*deadline, *estimated_price, *bid_security);
    let d = cx.wf.definition();
    let mut seen = BTreeSet::new();
    if channels.is_empty()
        || channels
            .iter()
            .any(|c| c.trim().is_empty() || !seen.insert(c))
    {
        return Err(Rejection::new(
            C::InvalidInput,
            "name at least one channel, each once",
        ));
    }
    let proc = &d.procedure;
    let unique: BTreeSet<&crate::model::ActorId> = invitees.iter().collect();
    match proc.kind {
        ProcedureKind::Invited if (unique.len() as u32) < proc.min_invitees.max(1) => {
            return Err(Rejection::new(
                C::TooFewInvitees,
                format!(
                    "an invited procedure invites at least {} organisations{}; {} named",
                    proc.min_invitees.max(1),
                    cite(cx.wf, proc.rule.as_deref()),
                    unique.len()
                ),
            ));
        }
        ProcedureKind::Open if !invitees.is_empty() => {
            return Err(Rejection::new(
                C::InvalidInput,
                "an open procedure invites nobody in particular; leave out invitees",
            ));
        }
        _ => {}
    }
    let earliest = d
        .calendar
        .add(cx.now, d.schedule.min_bid_period.period())
        .ok_or_else(|| Rejection::new(C::ScheduleViolation, "the bid period cannot be computed"))?;
    if deadline < earliest {
        return Err(Rejection::new(
            C::ScheduleViolation,
            format!(
                "the deadline {deadline} is earlier than {earliest}: at least {} must pass from publication{}",
                d.schedule.min_bid_period.period(),
                cite(cx.wf, d.schedule.min_bid_period.rule.as_deref()),
            ),
        )
        .with(json!({ "deadline": deadline, "earliest": earliest })));
    }
    let lots: Vec<Lot> = if lots.is_empty() {
        vec![Lot {
            id: DEFAULT_LOT.into(),
            title: String::new(),
        }]
    } else {
        lots.to_vec()
    };
    let ids: BTreeSet<&str> = lots.iter().map(|l| &*l.id).collect();
    if ids.len() != lots.len() || ids.iter().any(|i| i.is_empty()) {
        return Err(Rejection::new(
            C::InvalidInput,
            "lot ids must be non-empty and distinct",
        ));
    }
    if lots.len() > d.award.max_lots as usize {
        return Err(Rejection::new(
            C::InvalidInput,
            format!(
                "{} lots declared; the definition allows at most {}",
                lots.len(),
                d.award.max_lots
            ),
        ));
    }
    if let (Some(share), Some(est), Some(sec)) = (
        d.award.max_bid_security_share,
        estimated_price,
        bid_security,
    ) {
        if i128::from(sec.minor()) * i128::from(SCALE)
            > i128::from(est.minor()) * i128::from(share.raw())
        {
            return Err(Rejection::new(
                C::BidSecurityTooHigh,
                format!("a bid security of {sec} exceeds {share} of the estimated price {est}"),
            ));
        }
    }
    cx.emit(EventBody::AnnouncementPublished {
        announcement: announcement.clone(),
        content_sha256: sha256_hex(announcement),
        channels: channels.to_vec(),
        deadline,
        lots,
        estimated_price,
        bid_security,
        invitees: invitees.clone(),
    });
    Ok(())
}

fn cite(wf: &Workflow, rule: Option<&str>) -> String {
    let Some(rule) = rule else {
        return String::new();
    };
    let d = wf.definition();
    match d.rules.iter().find(|r| r.id == rule) {
        Some(r) => {
            let basis = match r.basis {
                crate::definition::RuleBasis::Statutory => "statutory",
                crate::definition::RuleBasis::Adopted => "adopted",
            };
            format!(" ({basis}: {})", r.article.as_deref().unwrap_or(&r.id))
        }
        None => String::new(),
    }
}

fn before_deadline(cx: &Ctx<'_>) -> R<()> {
    match cx.t.deadline {
        Some(d) if cx.now < d => Ok(()),
        Some(d) => Err(
            Rejection::new(C::LateBid, format!("the bid deadline {d} has passed"))
                .with(json!({ "deadline": d, "now": cx.now })),
        ),
        None => Err(Rejection::new(
            C::InvalidState,
            "the tender has no deadline yet",
        )),
    }
}

fn amend(
    cx: &mut Ctx<'_>,
    text: &str,
    affects_bids: bool,
    new_deadline: Option<Timestamp>,
) -> R<()> {
    required_text(text, "the amendment text")?;
    let d = cx.wf.definition();
    let current =
        cx.t.deadline
            .ok_or_else(|| Rejection::new(C::InvalidState, "nothing published yet"))?;
    if cx.now >= current {
        return Err(Rejection::new(
            C::TooEarly,
            "the deadline has passed; amendments are closed",
        ));
    }
    let mut after = new_deadline.unwrap_or(current);
    if let Some(published) = cx.t.published_at {
        let earliest = d
            .calendar
            .add(published, d.schedule.min_bid_period.period())
            .unwrap_or(current);
        if after < earliest || after <= cx.now {
            return Err(Rejection::new(
                C::ScheduleViolation,
                format!(
                    "a deadline of {after} is earlier than {earliest}, the minimum bid period after publication"
                ),
            ));
        }
    }
    if affects_bids {
        if let Some(cut) = &d.schedule.clarification_cutoff {
            let needed = d.calendar.add(cx.now, cut.period()).unwrap_or(after);
            if after < needed {
                after = needed;
            }
        }
    }
    cx.emit(EventBody::AmendmentPublished {
        number: cx.t.amendments + 1,
        text: text.to_owned(),
        affects_bids,
        deadline_before: current,
        deadline_after: after,
    });
    Ok(())
}

fn submit(cx: &mut Ctx<'_>, lot: Option<&String>, content: &Arc<Value>, replace: bool) -> R<()> {
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
    let receipt = cx.t.receipts + 1;
    let commitment = sha256_hex(content);
    let content = content.clone();
    cx.emit(if replace {
        EventBody::BidReplaced {
            key,
            receipt,
            content,
            commitment,
            price,
        }
    } else {
        EventBody::BidSubmitted {
            key,
            receipt,
            content,
            commitment,
            price,
        }
    });
    Ok(())
}

fn per_lot_counts(t: &Tender, valid_only: bool) -> BTreeMap<&str, u32> {
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
fn too_few(cx: &Ctx<'_>, valid_only: bool) -> Option<String> {
    let min = cx.wf.definition().award.min_valid_bids;
    let short: Vec<String> = per_lot_counts(cx.t, valid_only)
        .into_iter()
        .filter(|(_, n)| *n < min)
        .map(|(lot, n)| format!("lot {lot}: {n}"))
        .collect();
    (!short.is_empty()).then(|| format!("fewer than {min} valid bids ({})", short.join(", ")))
}

fn fail(cx: &mut Ctx<'_>, to: &str, code: RejectionCode, reason: String) {
    cx.emit(EventBody::ProcedureFailed {
        code: code.as_str().into(),
        reason,
    });
    cx.enter(to);
}

fn close(cx: &mut Ctx<'_>, tr: &Transition) {
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

fn open(cx: &mut Ctx<'_>, tr: &Transition) -> R<()> {
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

fn propose(cx: &mut Ctx<'_>, tr: &Transition) -> R<()> {
    let Some(report) = &cx.t.report else {
        return Err(Rejection::new(
            C::InvalidState,
            "the evaluation report is not final",
        ));
    };
    let d = cx.wf.definition();
    let winners = report.candidates(d.award.winners_per_lot);
    if winners.is_empty() {
        let reason = "no bid reaches the minimum total".to_owned();
        let Some(fail_to) = &tr.fail_to else {
            return Err(Rejection::new(C::NoQualifyingBid, reason));
        };
        fail(cx, fail_to, C::NoQualifyingBid, reason);
        return Ok(());
    }
    let publicity_ends = match &d.schedule.publicity {
        Some(p) => d.calendar.add(cx.now, p.period()).ok_or_else(|| {
            Rejection::new(
                C::ScheduleViolation,
                "the publicity period cannot be computed",
            )
        })?,
        None => cx.now,
    };
    cx.emit(EventBody::AwardProposed {
        winners,
        publicity_ends,
    });
    if let Some(to) = &tr.to {
        cx.enter(to);
    }
    Ok(())
}

fn objection(cx: &mut Ctx<'_>, content: &Arc<Value>) -> R<()> {
    let d = cx.wf.definition();
    if let Some(ends) = cx.t.publicity_ends.filter(|_| cx.t.proposed.is_some()) {
        if cx.now >= ends {
            return Err(Rejection::new(
                C::ObjectionTooLate,
                format!("the publicity period ended at {ends}"),
            ));
        }
    } else if let (Some(deadline), Some(cut)) = (cx.t.deadline, &d.schedule.objection_cutoff) {
        if !cx.t.submission_closed {
            let latest_ok = d
                .calendar
                .add(cx.now, cut.period())
                .is_some_and(|t| t <= deadline);
            if !latest_ok {
                return Err(Rejection::new(
                    C::ObjectionTooLate,
                    format!(
                        "objections to the documents must come at least {} before the deadline {deadline}{}",
                        cut.period(),
                        cite(cx.wf, cut.rule.as_deref())
                    ),
                ));
            }
        }
    }
    let answer_due = d
        .schedule
        .objection_answer
        .as_ref()
        .and_then(|p| d.calendar.add(cx.now, p.period()));
    cx.emit(EventBody::ObjectionRaised {
        id: cx.t.objections.len() as u32 + 1,
        stage: cx.t.state.clone(),
        content: content.clone(),
        answer_due,
    });
    Ok(())
}

/// When the timer of the current state falls due, if it has one.
pub fn next_timer(wf: &Workflow, t: &Tender) -> Option<(TimerName, Timestamp)> {
    if t.state.is_empty() || wf.is_terminal(&t.state) {
        return None;
    }
    wf.transitions_from(&t.state).find_map(|tr| {
        let timer = tr.timer?;
        let due = match timer {
            TimerName::BidDeadline => t.deadline?,
            TimerName::PublicityEnd => t.publicity_ends?,
        };
        Some((timer, due))
    })
}

fn advance_time(cx: &mut Ctx<'_>) -> R<()> {
    if &*cx.actor.role != SYSTEM_ROLE {
        return Err(Rejection::new(
            C::WrongRole,
            "only the system clock advances time",
        ));
    }
    let Some((timer, due)) = next_timer(cx.wf, cx.t) else {
        return Err(Rejection::new(
            C::TooEarly,
            format!("no timer in state `{}`", cx.t.state),
        ));
    };
    if cx.now < due {
        return Err(Rejection::new(
            C::TooEarly,
            format!("the `{timer}` timer is due at {due}"),
        ));
    }
    if cx.t.halted() {
        return Err(Rejection::new(
            C::Halted,
            "the procedure is halted; timers wait",
        ));
    }
    if cx.t.objection_pending() {
        return Err(Rejection::new(
            C::ObjectionPending,
            "an objection awaits its answer; timers wait",
        ));
    }
    let Some(tr) = cx
        .wf
        .transitions_from(&cx.t.state)
        .find(|t| t.timer == Some(timer))
    else {
        return Err(Rejection::new(C::TooEarly, "no timer"));
    };
    match timer {
        TimerName::BidDeadline => close(cx, tr),
        TimerName::PublicityEnd => {
            cx.emit(EventBody::PublicityEnded);
            if let Some(to) = &tr.to {
                cx.enter(to);
            }
        }
    }
    Ok(())
}
