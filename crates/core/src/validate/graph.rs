//! The state graph: reachability, dead ends, a way to end from every state, and the
//! remaining cross-section checks.

use super::*;

/// Gates that can be signed, a bid form where bids are scored, a calendar for working days,
/// score sheets that ask for every criterion, and competition for every top-N place.
pub(super) fn check_more(
    def: &Definition,
    r: &mut Report<'_>,
    has_calendar: bool,
    terminal: &HashSet<&str>,
) {
    use crate::definition::CommandName;
    use DefinitionErrorCode as C;
    let from = |t: &crate::definition::Transition, s: &str| {
        t.from
            .iter()
            .any(|f| f == s || (f == "*" && !terminal.contains(s)))
    };
    for (i, g) in def.gates.iter().enumerate() {
        let signable = def.transitions.iter().any(|t| {
            t.command == Some(CommandName::SignOff)
                && from(t, &g.state)
                && (g.committee || t.roles.iter().any(|role| g.signers.contains(role)))
        });
        if !signable {
            r.push(
                format!("/gates/{i}"),
                C::GateUnsignable,
                format!(
                    "gate `{}` in state `{}` with no `sign_off` there for {}",
                    g.id,
                    g.state,
                    g.signers.join(", ")
                ),
                "a sign_off transition from the gate's state open to one of its signers",
            );
        }
    }
    let ev = &def.evaluation;
    let scored_on_bids = ev.criteria.iter().any(|c| {
        matches!(
            c.source,
            CriterionSource::Price | CriterionSource::BidRatio { .. }
        )
    });
    for (i, t) in def.transitions.iter().enumerate() {
        if t.command == Some(CommandName::SubmitBid) && t.form.is_none() && scored_on_bids {
            r.push(
                format!("/transitions/{i}/form"),
                C::BidFormMissing,
                "no form",
                "a bid form declaring the price and the figures the criteria score",
            );
        }
        if t.command == Some(CommandName::SubmitScores) {
            let form = t.form.as_ref().and_then(|f| def.forms.get(f));
            let asked = |id: &str| {
                form.and_then(|f| {
                    f.pointer(&format!("/properties/scores/properties/{}", ptr_escape(id)))
                })
                .is_some()
            };
            for (j, c) in ev.criteria.iter().enumerate() {
                if matches!(c.source, CriterionSource::Evaluators) && !asked(&c.id) {
                    r.push(
                        format!("/evaluation/criteria/{j}"),
                        C::ScoreFormIncomplete,
                        format!(
                            "criterion `{}` that the score sheet ({}) does not ask for",
                            c.id,
                            t.form.as_deref().unwrap_or("no form")
                        ),
                        "a score-sheet form with a property under /properties/scores for every evaluators' criterion",
                    );
                }
            }
        }
    }
    if !has_calendar {
        let s = &def.schedule;
        let mut rules: Vec<(String, &crate::definition::TimeRule)> = schedule_rules(s)
            .map(|(n, tr)| (format!("/schedule/{n}/unit"), tr))
            .collect();
        rules.extend(
            s.obligations
                .iter()
                .enumerate()
                .map(|(i, o)| (format!("/schedule/obligations/{i}/within/unit"), &o.within)),
        );
        for (ptr, tr) in rules {
            if tr.unit == PeriodUnit::WorkingDays {
                r.push(
                    ptr,
                    C::CalendarMissing,
                    "working_days without a calendar",
                    "a `calendar` with the weekend and holidays, so working days are counted right",
                );
            }
        }
    }
    let a = &def.award;
    if a.max_candidates_per_lot.is_none() && a.winners_per_lot > a.min_valid_bids {
        r.push(
            "/award/winnersPerLot",
            C::TopNTooLarge,
            format!(
                "{} places with a minimum of {} valid bids and no candidate cap",
                a.winners_per_lot, a.min_valid_bids
            ),
            "at most minValidBids places (otherwise every bidder can win without competing)",
        );
    }
}

pub(super) fn list(set: &HashSet<&str>) -> String {
    let sorted: BTreeSet<&&str> = set.iter().collect();
    let items: Vec<String> = sorted.iter().map(|s| format!("`{s}`")).collect();
    format!("[{}]", items.join(", "))
}

pub(super) fn check_graph(def: &Definition, r: &mut Report<'_>, terminal: &HashSet<&str>) {
    use DefinitionErrorCode as C;
    let applies = |t: &crate::definition::Transition, s: &str| {
        t.from
            .iter()
            .any(|f| f == s || (f == "*" && !terminal.contains(s)))
    };
    let mut reached: HashSet<&str> = HashSet::new();
    let mut queue = VecDeque::from([def.initial.state.as_str()]);
    while let Some(s) = queue.pop_front() {
        if !reached.insert(s) {
            continue;
        }
        for t in def.transitions.iter().filter(|t| applies(t, s)) {
            for next in [&t.to, &t.fail_to].into_iter().flatten() {
                queue.push_back(next.as_str());
            }
        }
    }
    // States from which a terminal state can be reached (fixed point over the transitions).
    let mut ends: HashSet<&str> = terminal.clone();
    loop {
        let before = ends.len();
        for s in &def.states {
            if ends.contains(s.id.as_str()) {
                continue;
            }
            let out = def.transitions.iter().filter(|t| applies(t, &s.id));
            if out
                .flat_map(|t| [&t.to, &t.fail_to].into_iter().flatten())
                .any(|n| ends.contains(n.as_str()))
            {
                ends.insert(s.id.as_str());
            }
        }
        if ends.len() == before {
            break;
        }
    }
    for (i, s) in def.states.iter().enumerate() {
        if !reached.contains(s.id.as_str()) {
            r.push(
                format!("/states/{i}"),
                C::UnreachableState,
                format!(
                    "state `{}` that no transition from `{}` reaches",
                    s.id, def.initial.state
                ),
                "every state reachable from the initial state",
            );
        }
        let has_exit = def
            .transitions
            .iter()
            .filter(|t| applies(t, &s.id))
            .any(|t| {
                [&t.to, &t.fail_to]
                    .into_iter()
                    .flatten()
                    .any(|n| n != &s.id)
            });
        // A state with no exit at all is a dead end (below); one whose exits only lead
        // among states that never end is a trap.
        if !s.terminal
            && has_exit
            && reached.contains(s.id.as_str())
            && !ends.contains(s.id.as_str())
        {
            r.push(
                format!("/states/{i}"),
                C::NoWayToEnd,
                format!(
                    "state `{}` from which no terminal state can be reached",
                    s.id
                ),
                "a path from every state to a terminal state",
            );
        }
        if !s.terminal && !has_exit {
            r.push(
                format!("/states/{i}"),
                C::DeadEndState,
                format!(
                    "non-terminal state `{}` with no transition to another state",
                    s.id
                ),
                "a way out of every non-terminal state",
            );
        }
    }
}
