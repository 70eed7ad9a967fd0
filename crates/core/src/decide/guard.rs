//! The checks every command passes before it acts: the transition it takes from this state,
//! the actor's role, the definition's sign-off gates, its form, and its text and lot.

use super::*;
use crate::model::{
    Publish, RaiseIrregularity, RaiseObjection, RecordObservation, ReplaceBid, SignOff, SubmitBid,
    SubmitScores,
};

pub(super) fn has_role(list: &[String], role: &str) -> bool {
    list.iter().any(|r| r == role)
}

pub(super) fn wrong_role(role: &str, what: &str, allowed: &[String]) -> Rejection {
    Rejection::new(
        C::WrongRole,
        format!(
            "role `{role}` may not {what}; allowed: {}",
            allowed.join(", ")
        ),
    )
    .with(json!({ "role": role, "allowed": allowed }))
}

pub(super) fn find<'a>(cx: &Ctx<'a>, name: CommandName) -> Decision<&'a Transition> {
    // The index built at load time: the first transition for this command from this state.
    let Some(tr) = cx.wf.transition(&cx.t.state, name) else {
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
pub(super) fn halt_exempt(name: CommandName) -> bool {
    matches!(
        name,
        CommandName::RaiseIrregularity
            | CommandName::ResolveIrregularity
            | CommandName::RecordObservation
            | CommandName::Cancel
    )
}

pub(super) fn guard(
    cx: &Ctx<'_>,
    name: CommandName,
    tr: &Transition,
    body: &CommandBody,
) -> Decision<()> {
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
    check_gates(cx, tr, partner_of(body))
}

/// The partner a command of the stage after the award concerns.
pub(super) fn partner_of(body: &CommandBody) -> Option<&crate::model::ActorId> {
    match body {
        CommandBody::DraftAgreement(x) => Some(&x.partner),
        CommandBody::SignAgreement(x) => Some(&x.partner),
        CommandBody::ReportDelivery(x) => Some(&x.partner),
        CommandBody::ReviewDelivery(x) => Some(&x.partner),
        CommandBody::EvaluatePerformance(x) => Some(&x.partner),
        CommandBody::TerminateAgreement(x) => Some(&x.partner),
        CommandBody::SignOff(x) => x.partner.as_ref(),
        _ => None,
    }
}

/// Every gate the transition needs is signed (a per-partner gate, for the partner the
/// command concerns); otherwise one rejection naming every gate still open and, for
/// committee gates, the members who have not signed.
pub(super) fn check_gates(
    cx: &Ctx<'_>,
    tr: &Transition,
    partner: Option<&crate::model::ActorId>,
) -> Decision<()> {
    let mut open = Vec::new();
    let mut said = Vec::new();
    for gate in &tr.gates {
        let def = cx.wf.gate(gate);
        let need = def.map_or(1, |g| g.min_signatures) as usize;
        let for_partner = if def.is_some_and(|g| g.partner) {
            partner
        } else {
            None
        };
        let have = cx.t.signatures_for(gate, for_partner);
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

pub(super) fn payload(body: &CommandBody) -> Option<&Value> {
    match body {
        CommandBody::Publish(Publish { announcement, .. }) => Some(announcement),
        CommandBody::SubmitBid(SubmitBid { content, .. })
        | CommandBody::ReplaceBid(ReplaceBid { content, .. })
        | CommandBody::RaiseObjection(RaiseObjection { content })
        | CommandBody::SignOff(SignOff { content, .. })
        | CommandBody::RecordObservation(RecordObservation { content })
        | CommandBody::RaiseIrregularity(RaiseIrregularity { content }) => Some(content),
        CommandBody::SubmitScores(SubmitScores { sheet, .. }) => Some(sheet),
        CommandBody::DraftAgreement(d) => Some(&d.terms),
        CommandBody::ReportDelivery(r) => Some(&r.report),
        _ => None,
    }
}

pub(super) fn check_form(wf: &Workflow, form: &str, value: &Value) -> Decision<()> {
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

pub(super) fn required_text(text: &str, what: &str) -> Decision<()> {
    if text.trim().is_empty() {
        Err(Rejection::new(
            C::ReasonRequired,
            format!("{what} must not be empty"),
        ))
    } else {
        Ok(())
    }
}

pub(super) fn lot_of(t: &Tender, lot: Option<&String>) -> Decision<Arc<str>> {
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
