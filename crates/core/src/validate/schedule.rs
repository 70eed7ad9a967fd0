//! The schedule: minimum periods and their contradictions, and each rule pack's floors.

use super::*;

/// A statutory floor of a rule pack.
pub(super) struct Floor {
    field: &'static str,
    min: Period,
    article: &'static str,
}

const fn f(field: &'static str, amount: u32, unit: PeriodUnit, article: &'static str) -> Floor {
    Floor {
        field,
        min: Period { amount, unit },
        article,
    }
}

const CAL: PeriodUnit = PeriodUnit::CalendarDays;
const WORK: PeriodUnit = PeriodUnit::WorkingDays;
const BIDDING_LAW: &[Floor] = &[
    f("minBidPeriod", 20, CAL, "BL 24"),
    f("clarificationCutoff", 15, CAL, "BL 23, Reg 21"),
    f("objectionCutoff", 10, CAL, "Reg 22"),
    f("publicity", 3, CAL, "Reg 54"),
    f("documentsAvailable", 5, CAL, "Reg 16"),
];
const GOV_PROCUREMENT: &[Floor] = &[
    f("minBidPeriod", 20, CAL, "GPL 35"),
    f("clarificationCutoff", 15, CAL, "GPR 31"),
    f("documentsAvailable", 5, WORK, "GPR 31"),
    f("publicity", 7, WORK, "GPL 52"),
];
const EU_OPEN: &[Floor] = &[
    f("minBidPeriod", 30, CAL, "Art. 27"),
    f("clarificationCutoff", 6, CAL, "Art. 47(3)"),
    f("publicity", 10, CAL, "Directive 89/665 Art. 2a"),
];

/// The schedule's time limits that are set, by their field name.
pub(super) fn schedule_rules(
    s: &crate::definition::Schedule,
) -> impl Iterator<Item = (&'static str, &crate::definition::TimeRule)> {
    [
        ("minBidPeriod", Some(&s.min_bid_period)),
        ("clarificationCutoff", s.clarification_cutoff.as_ref()),
        ("objectionCutoff", s.objection_cutoff.as_ref()),
        ("objectionAnswer", s.objection_answer.as_ref()),
        ("publicity", s.publicity.as_ref()),
        ("documentsAvailable", s.documents_available.as_ref()),
    ]
    .into_iter()
    .filter_map(|(n, tr)| tr.map(|tr| (n, tr)))
}

pub(super) fn check_schedule(def: &Definition, r: &mut Report<'_>, rule_ref: &RuleRef<'_>) {
    use DefinitionErrorCode as C;
    let s = &def.schedule;
    for (name, tr) in schedule_rules(s) {
        rule_ref(r, format!("/schedule/{name}/rule"), &tr.rule);
    }
    for (i, o) in s.obligations.iter().enumerate() {
        rule_ref(
            r,
            format!("/schedule/obligations/{i}/within/rule"),
            &o.within.rule,
        );
    }
    if def.calendar.weekend.len() >= 7 {
        r.push(
            "/calendar/weekend",
            C::ScheduleContradiction,
            "every weekday a rest day",
            "at least one working weekday",
        );
    }
    let min_bid = s.min_bid_period.period();
    let mut contradiction = |ptr: &str, a: &str, ap: Period, b: &str, bp: Period| {
        r.push(
            ptr,
            C::ScheduleContradiction,
            format!("{a} of {ap} against {b} of {bp}"),
            format!("{a} shorter than {b}"),
        );
    };
    if let Some(cut) = &s.objection_cutoff {
        if cut.period().min_calendar_days() >= min_bid.max_calendar_days() {
            contradiction(
                "/schedule/objectionCutoff",
                "objectionCutoff",
                cut.period(),
                "minBidPeriod",
                min_bid,
            );
        }
        if let Some(ans) = &s.objection_answer {
            if ans.period().min_calendar_days() >= cut.period().max_calendar_days() {
                contradiction(
                    "/schedule/objectionAnswer",
                    "objectionAnswer",
                    ans.period(),
                    "objectionCutoff",
                    cut.period(),
                );
            }
        }
    }
    if let Some(cut) = &s.clarification_cutoff {
        if cut.period().min_calendar_days() > min_bid.max_calendar_days() {
            contradiction(
                "/schedule/clarificationCutoff",
                "clarificationCutoff",
                cut.period(),
                "minBidPeriod",
                min_bid,
            );
        }
    }
    if let Some(docs) = &s.documents_available {
        if docs.period().min_calendar_days() > min_bid.max_calendar_days() {
            contradiction(
                "/schedule/documentsAvailable",
                "documentsAvailable",
                docs.period(),
                "minBidPeriod",
                min_bid,
            );
        }
    }

    // Statutory floors of the rule pack.
    for floor in floors(def.rule_pack) {
        let got = schedule_rules(s)
            .find(|(n, _)| *n == floor.field)
            .map(|(_, t)| t);
        let ptr = format!("/schedule/{}", floor.field);
        let expected = format!(
            "at least {} ({}, rule pack {:?})",
            floor.min, floor.article, def.rule_pack
        );
        match got {
            None => r.push(ptr, C::BelowRulePack, "no constraint", expected),
            Some(tr) => {
                let p = tr.period();
                let ok = match (floor.min.unit, p.unit) {
                    (PeriodUnit::WorkingDays, PeriodUnit::WorkingDays) => {
                        p.amount >= floor.min.amount
                    }
                    (PeriodUnit::WorkingDays, _) => false,
                    _ => p.min_calendar_days() >= floor.min.min_calendar_days(),
                };
                if !ok {
                    r.push(ptr, C::BelowRulePack, p.to_string(), expected);
                }
            }
        }
    }
    let proc = &def.procedure;
    rule_ref(r, "/procedure/rule".into(), &proc.rule);
    if proc.kind == crate::definition::ProcedureKind::Invited
        && matches!(
            def.rule_pack,
            RulePack::PrcBiddingLaw | RulePack::PrcGovProcurement
        )
        && proc.min_invitees < 3
    {
        let article = if def.rule_pack == RulePack::PrcBiddingLaw {
            "BL 17"
        } else {
            "GPL 34"
        };
        r.push(
            "/procedure/minInvitees",
            C::BelowRulePack,
            proc.min_invitees.to_string(),
            format!("at least 3 invitees ({article})"),
        );
    }
    let statutory_committee = matches!(
        def.rule_pack,
        RulePack::PrcBiddingLaw | RulePack::PrcGovProcurement
    );
    let c = &def.evaluation.committee;
    if statutory_committee {
        let article = if def.rule_pack == RulePack::PrcBiddingLaw {
            "BL 37"
        } else {
            "Order 87 art. 47"
        };
        if c.min_members < 5 || !c.odd {
            r.push(
                "/evaluation/committee",
                C::BelowRulePack,
                format!("minMembers {} odd {}", c.min_members, c.odd),
                format!("at least 5 members, an odd number ({article})"),
            );
        }
        if c.min_expert_share.is_none_or(|s| s.raw() < 6666) {
            r.push(
                "/evaluation/committee/minExpertShare",
                C::BelowRulePack,
                c.min_expert_share.map_or("none".into(), |s| s.to_string()),
                format!("at least two thirds experts (0.6667, {article})"),
            );
        }
        if def.award.min_valid_bids < 3 {
            let article = if def.rule_pack == RulePack::PrcBiddingLaw {
                "BL 28"
            } else {
                "GPL 36"
            };
            r.push(
                "/award/minValidBids",
                C::BelowRulePack,
                def.award.min_valid_bids.to_string(),
                format!("at least 3 ({article})"),
            );
        }
    }
    if def.rule_pack == RulePack::PrcBiddingLaw
        && def.award.max_candidates_per_lot.is_none_or(|m| m > 3)
    {
        r.push(
            "/award/maxCandidatesPerLot",
            C::BelowRulePack,
            def.award
                .max_candidates_per_lot
                .map_or("none".into(), |m| m.to_string()),
            "at most 3 ranked candidates per lot (Reg 53)",
        );
    }
}

/// The floors of a rule pack.
pub(super) fn floors(pack: RulePack) -> &'static [Floor] {
    match pack {
        RulePack::PrcBiddingLaw => BIDDING_LAW,
        RulePack::PrcGovProcurement => GOV_PROCUREMENT,
        RulePack::Eu201424 => EU_OPEN,
        RulePack::Adopted => &[],
    }
}
