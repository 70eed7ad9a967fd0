//! Supervision: sign-offs on gates, observations, and irregularities that halt the procedure.

use super::*;
use crate::model::{RaiseIrregularity, RecordObservation, ResolveIrregularity, SignOff};

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
