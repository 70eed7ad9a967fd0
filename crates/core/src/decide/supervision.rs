//! Supervision: sign-offs on gates, observations, and irregularities that halt the procedure.

use super::*;
use crate::model::{Delegate, RaiseIrregularity, RecordObservation, ResolveIrregularity, SignOff};

/// The delegating body's overseers read a delegated procedure and act on nothing but their
/// observations and the gates that allow overseers to sign.
pub(super) fn overseer(cx: &Ctx<'_>, body: &CommandBody) -> Decision<()> {
    let Some(d) =
        cx.t.delegation
            .as_ref()
            .filter(|d| d.oversees(&cx.actor.id))
    else {
        return Ok(());
    };
    let allowed = match body {
        CommandBody::RecordObservation(_) => true,
        CommandBody::SignOff(s) => cx.wf.gate(&s.gate).is_some_and(|g| g.overseers),
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Rejection::new(
            C::ReadOnly,
            format!(
                "{} delegated this procedure to {}; its overseers read it and sign only the \
                 gates that allow them",
                d.delegated_by.name, d.delegate.name
            ),
        )
        .with(json!({ "delegatedBy": d.delegated_by.id, "delegate": d.delegate.id })))
    }
}

/// `delegate`: once, naming both bodies, what is delegated and at least one overseer (never
/// the actor recording it).
pub(super) fn delegate(cx: &mut Ctx<'_>, d: &Delegate) -> Decision<()> {
    if cx.t.delegation.is_some() {
        return Err(Rejection::new(
            C::InvalidState,
            "the procedure is already delegated",
        ));
    }
    for (what, text) in [
        ("the delegating body's id", &d.delegated_by.id),
        ("the delegating body's name", &d.delegated_by.name),
        ("the delegate's id", &d.delegate.id),
        ("the delegate's name", &d.delegate.name),
        ("what is delegated", &d.scope),
    ] {
        required_text(text, what)?;
    }
    if d.delegated_by.id == d.delegate.id {
        return Err(Rejection::new(
            C::InvalidInput,
            "a body does not delegate to itself",
        ));
    }
    if d.overseers.is_empty() || d.overseers.contains(&cx.actor.id) {
        return Err(Rejection::new(
            C::InvalidInput,
            "name the delegating body's overseers (at least one, never yourself)",
        ));
    }
    cx.emit(EventBody::Delegated {
        delegated_by: d.delegated_by.clone(),
        delegate: d.delegate.clone(),
        scope: d.scope.clone(),
        overseers: d.overseers.clone(),
    });
    Ok(())
}

/// `sign_off`: a gate signed in its state, by its signers, once each.
pub(super) fn sign_off(cx: &mut Ctx<'_>, s: &SignOff) -> Decision<()> {
    let SignOff {
        gate,
        partner,
        content,
    } = s;
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
    match (g.partner, partner) {
        (true, None) => {
            return Err(Rejection::new(
                C::InvalidInput,
                format!("gate `{gate}` is signed for one partner's agreement: name the partner"),
            ));
        }
        (false, Some(p)) => {
            return Err(Rejection::new(
                C::InvalidInput,
                format!("gate `{gate}` is the tender's, not `{p}`'s: name no partner"),
            ));
        }
        (true, Some(p)) if !cx.t.agreements.contains_key(p) => {
            return Err(Rejection::new(
                C::NoAgreement,
                format!("no agreement with `{p}` has been drafted"),
            ));
        }
        _ => {}
    }
    if cx
        .t
        .signoffs
        .iter()
        .any(|s| s.gate == *gate && s.by == cx.actor.id && s.partner == *partner)
    {
        return Err(Rejection::new(
            C::AlreadySigned,
            format!("you already signed gate `{gate}`"),
        ));
    }
    cx.emit(EventBody::SignedOff {
        gate: gate.clone(),
        partner: partner.clone(),
        content: content.clone(),
    });
    if let Some(p) = partner {
        after_partner_signoff(cx, gate, p);
    }
    Ok(())
}

/// `record_observation`: what the inspector saw, at the current stage.
pub(super) fn observe(cx: &mut Ctx<'_>, o: &RecordObservation) {
    let content = &o.content;
    let stage = cx.t.state.clone();
    cx.emit(EventBody::ObservationRecorded {
        stage,
        content: content.clone(),
    });
}

/// `raise_irregularity`: numbered in order; it halts the procedure until resolved.
pub(super) fn raise_irregularity(cx: &mut Ctx<'_>, i: &RaiseIrregularity) {
    let content = &i.content;
    let id = cx.t.irregularities.len() as u32 + 1;
    let stage = cx.t.state.clone();
    cx.emit(EventBody::IrregularityRaised {
        id,
        stage,
        content: content.clone(),
    });
}

/// `resolve_irregularity`: each irregularity resolved once.
pub(super) fn resolve_irregularity(cx: &mut Ctx<'_>, r: &ResolveIrregularity) -> Decision<()> {
    let ResolveIrregularity {
        irregularity,
        resolution,
    } = r;
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
    Ok(())
}
