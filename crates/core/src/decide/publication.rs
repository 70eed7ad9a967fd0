//! Publishing the announcement (checked against the definition's rule pack and minimum
//! periods) and amendments to it.

use super::*;
use crate::model::{Amend, AnswerQuestion, AskQuestion, Publish};

pub(super) fn publish(cx: &mut Ctx<'_>, p: &Publish) -> Decision<()> {
    let Publish {
        announcement,
        channels,
        deadline,
        lots,
        estimated_price,
        bid_security,
        invitees,
        documents,
    } = p;
    tender_documents(cx, documents)?;
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
        content_sha256: crate::canonical::Recipe::CURRENT.sha256_hex(announcement),
        content_recipe: crate::canonical::Recipe::CURRENT,
        channels: channels.to_vec(),
        deadline,
        lots,
        estimated_price,
        bid_security,
        invitees: invitees.clone(),
        documents: documents.clone(),
    });
    Ok(())
}

pub(super) fn cite(wf: &Workflow, rule: Option<&str>) -> String {
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

pub(super) fn before_deadline(cx: &Ctx<'_>) -> Decision<()> {
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

pub(super) fn amend(cx: &mut Ctx<'_>, a: &Amend) -> Decision<()> {
    let (text, affects_bids) = (&a.text, a.affects_bids);
    required_text(text, "the amendment text")?;
    tender_documents(cx, &a.documents)?;
    let (current, after) = deadline_after(cx, affects_bids, a.new_deadline)?;
    cx.emit(EventBody::AmendmentPublished {
        number: cx.t.amendments + 1,
        text: text.to_owned(),
        affects_bids,
        deadline_before: current,
        deadline_after: after,
        documents: a.documents.clone(),
    });
    Ok(())
}

/// `ask_question`: before the deadline and, where the rule pack sets a clarification
/// cut-off, early enough that an answer can still come that long before the deadline.
pub(super) fn ask_question(cx: &mut Ctx<'_>, q: &AskQuestion) -> Decision<()> {
    required_text(&q.text, "the question")?;
    let d = cx.wf.definition();
    let deadline =
        cx.t.deadline
            .ok_or_else(|| Rejection::new(C::InvalidState, "nothing published yet"))?;
    let closes = match &d.schedule.clarification_cutoff {
        Some(cut) => d.calendar.add(cx.now, cut.period()).unwrap_or(cx.now),
        None => cx.now,
    };
    if closes >= deadline {
        return Err(Rejection::new(
            C::QuestionTooLate,
            format!(
                "questions close when less than the clarification period remains before the deadline ({deadline}){}",
                cite(
                    cx.wf,
                    d.schedule
                        .clarification_cutoff
                        .as_ref()
                        .and_then(|c| c.rule.as_deref())
                )
            ),
        ));
    }
    cx.emit(EventBody::QuestionAsked {
        id: cx.t.questions.len() as u32 + 1,
        text: q.text.clone(),
    });
    Ok(())
}

/// `answer_question`: each question answered once, before the deadline; an answer that
/// affects bid preparation moves the deadline as an amendment would.
pub(super) fn answer_question(cx: &mut Ctx<'_>, a: &AnswerQuestion) -> Decision<()> {
    required_text(&a.answer, "the answer")?;
    let Some(q) = cx.t.questions.iter().find(|q| q.id == a.question) else {
        return Err(Rejection::new(
            C::UnknownQuestion,
            format!("no question #{}", a.question),
        ));
    };
    if q.answer.is_some() {
        return Err(Rejection::new(
            C::AlreadyAnswered,
            format!("question #{} was already answered", a.question),
        ));
    }
    tender_documents(cx, &a.documents)?;
    let (current, after) = deadline_after(cx, a.affects_bids, None)?;
    cx.emit(EventBody::QuestionAnswered {
        id: a.question,
        answer: a.answer.clone(),
        affects_bids: a.affects_bids,
        deadline_before: current,
        deadline_after: after,
        documents: a.documents.clone(),
    });
    Ok(())
}

/// The deadline before and after a clarification: a new deadline must respect the minimum
/// bid period, and one that affects bid preparation moves the deadline to at least the
/// clarification cut-off from now.
fn deadline_after(
    cx: &Ctx<'_>,
    affects_bids: bool,
    new_deadline: Option<Timestamp>,
) -> Decision<(Timestamp, Timestamp)> {
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
    Ok((current, after))
}
