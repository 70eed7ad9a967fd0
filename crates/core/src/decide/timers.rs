//! Time: the next deadline of a tender's state, and what passing it does.

use super::*;

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

pub(super) fn advance_time(cx: &mut Ctx<'_>) -> Decision<()> {
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
