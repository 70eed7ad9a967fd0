//! The award: the proposal with its publicity period, and objections to it.

use super::*;
use crate::model::AnswerObjection;

pub(super) fn propose(cx: &mut Ctx<'_>, tr: &Transition) -> Decision<()> {
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

pub(super) fn objection(cx: &mut Ctx<'_>, content: &Arc<Value>) -> Decision<()> {
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

/// `award`: the proposed winners.
pub(super) fn award(cx: &mut Ctx<'_>) -> Decision<()> {
    let Some(winners) = cx.t.proposed.clone() else {
        return Err(Rejection::new(
            C::InvalidState,
            "no award has been proposed",
        ));
    };
    cx.emit(EventBody::Awarded { winners });
    Ok(())
}

/// `answer_objection`: each objection answered once.
pub(super) fn answer_objection(cx: &mut Ctx<'_>, a: &AnswerObjection) -> Decision<()> {
    let AnswerObjection {
        objection,
        answer,
        upheld,
    } = a;
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
    Ok(())
}
