//! The definition's references: every state, role, form, gate, criterion and message named
//! exists, and each section is internally consistent.

use super::*;

pub(super) fn check(
    def: &Definition,
    r: &mut Report<'_>,
    has_calendar: bool,
) -> HashMap<String, jsonschema::Validator> {
    use DefinitionErrorCode as C;
    let roles = check_unique(r, "/roles", def.roles.iter().map(|x| x.id.as_str()));
    let states = check_unique(r, "/states", def.states.iter().map(|x| x.id.as_str()));
    let gates = check_unique(r, "/gates", def.gates.iter().map(|x| x.id.as_str()));
    let rules = check_unique(r, "/rules", def.rules.iter().map(|x| x.id.as_str()));
    check_unique(
        r,
        "/schedule/obligations",
        def.schedule.obligations.iter().map(|o| o.id.as_str()),
    );
    check_unique(
        r,
        "/documents/bid/slots",
        def.documents.bid.slots.iter().map(|s| s.id.as_str()),
    );
    let criteria = check_unique(
        r,
        "/evaluation/criteria",
        def.evaluation.criteria.iter().map(|x| &*x.id),
    );
    let terminal: HashSet<&str> = def
        .states
        .iter()
        .filter(|s| s.terminal)
        .map(|s| s.id.as_str())
        .collect();

    use crate::model::Role;
    for needed in [Role::STAFF, Role::BIDDER, Role::EVALUATOR, Role::INSPECTOR].map(Role::as_str) {
        if !roles.contains(needed) {
            r.push(
                "/roles",
                C::MissingRole,
                "no role `".to_owned() + needed + "`",
                format!("a role `{needed}`"),
            );
        }
    }
    let role_ref = |r: &mut Report<'_>, ptr: String, role: &str| {
        if !roles.contains(role) {
            r.push(
                ptr,
                C::UnknownRole,
                format!("`{role}`"),
                format!("one of the declared roles {}", list(&roles)),
            );
        }
    };
    let state_ref = |r: &mut Report<'_>, ptr: String, state: &str| {
        if !states.contains(state) {
            r.push(
                ptr,
                C::UnknownState,
                format!("`{state}`"),
                format!("one of the declared states {}", list(&states)),
            );
        }
    };
    let rule_ref = |r: &mut Report<'_>, ptr: String, rule: &Option<String>| {
        if let Some(rule) = rule {
            if !rules.contains(rule.as_str()) {
                r.push(
                    ptr,
                    C::UnknownRule,
                    format!("`{rule}`"),
                    format!("one of the declared rules {}", list(&rules)),
                );
            }
        }
    };

    // Rules and their basis.
    if def.rule_pack == RulePack::Adopted {
        for (i, rule) in def.rules.iter().enumerate() {
            if rule.basis == RuleBasis::Statutory {
                r.push(
                    format!("/rules/{i}/basis"),
                    C::RuleBasisMismatch,
                    "`statutory`",
                    "`adopted`: a definition with rule pack `adopted` follows no statute",
                );
            }
        }
    }

    // States, initial state, transitions.
    state_ref(r, "/initial/state".into(), &def.initial.state);
    for (i, role) in def.initial.roles.iter().enumerate() {
        role_ref(r, format!("/initial/roles/{i}"), role);
    }
    if terminal.is_empty() {
        r.push(
            "/states",
            C::NoTerminalState,
            "no state with `terminal: true`",
            "at least one terminal state",
        );
    }
    let mut seen_triggers: HashMap<(String, String), usize> = HashMap::new();
    for (i, t) in def.transitions.iter().enumerate() {
        let base = format!("/transitions/{i}");
        let trigger = t
            .command
            .map(|c| c.as_str().to_owned())
            .or_else(|| t.timer.map(|c| format!("timer:{}", c.as_str())))
            .unwrap_or_default();
        for (j, from) in t.from.iter().enumerate() {
            if from == "*" {
                continue;
            }
            state_ref(r, format!("{base}/from/{j}"), from);
            let after_award = def.contracts.is_some()
                && t.to.is_none()
                && t.command
                    .is_some_and(crate::definition::CommandName::after_award)
                && def.states.iter().any(|s| {
                    s.id == *from && s.outcome == Some(crate::definition::Outcome::Awarded)
                });
            if terminal.contains(from.as_str()) && !after_award {
                r.push(
                    format!("{base}/from/{j}"),
                    C::TerminalStateHasTransitions,
                    format!("a transition out of terminal state `{from}`"),
                    "no transitions out of a terminal state",
                );
            }
            if let Some(first) = seen_triggers.insert((from.clone(), trigger.clone()), i) {
                r.push(
                    format!("{base}/from/{j}"),
                    C::DuplicateTransition,
                    format!("`{trigger}` from `{from}` again (first at /transitions/{first})"),
                    "one transition per state and command or timer",
                );
            }
        }
        for (field, target) in [("to", &t.to), ("failTo", &t.fail_to)] {
            if let Some(target) = target {
                state_ref(r, format!("{base}/{field}"), target);
            }
        }
        for (j, role) in t.roles.iter().enumerate() {
            role_ref(r, format!("{base}/roles/{j}"), role);
        }
        for (j, gate) in t.gates.iter().enumerate() {
            if !gates.contains(gate.as_str()) {
                r.push(
                    format!("{base}/gates/{j}"),
                    C::UnknownGate,
                    format!("`{gate}`"),
                    format!("one of the declared gates {}", list(&gates)),
                );
            }
        }
        if let Some(form) = &t.form {
            if !def.forms.contains_key(form) {
                let names: HashSet<&str> = def.forms.keys().map(String::as_str).collect();
                r.push(
                    format!("{base}/form"),
                    C::UnknownForm,
                    format!("`{form}`"),
                    format!("one of the declared forms {}", list(&names)),
                );
            }
        }
    }
    check_graph(def, r, &terminal);

    // Forms.
    let mut forms = HashMap::new();
    for (name, schema) in &def.forms {
        // A form is an object of fields: a schema that is not (one that only refers to
        // itself, say) would check nothing a person types.
        if schema.get("type").and_then(serde_json::Value::as_str) != Some("object") {
            r.push(
                format!("/forms/{}", ptr_escape(name)),
                C::FormSchemaInvalid,
                short(&schema.to_string()),
                "a form: an object schema with its fields ({\"type\": \"object\", \"properties\": …})",
            );
            continue;
        }
        match jsonschema::validator_for(schema) {
            Ok(v) => {
                forms.insert(name.clone(), v);
            }
            Err(e) => r.push(
                format!("/forms/{}", ptr_escape(name)),
                C::FormSchemaInvalid,
                short(&e.to_string()),
                "a valid JSON Schema (draft 2020-12)",
            ),
        }
    }

    // Evaluation.
    let ev = &def.evaluation;
    let bid_form = def
        .transitions
        .iter()
        .find(|t| t.command == Some(crate::definition::CommandName::SubmitBid))
        .and_then(|t| t.form.as_ref())
        .and_then(|f| def.forms.get(f));
    let field_ref = |r: &mut Report<'_>, ptr: String, field: &str, integer: bool| {
        let Some(form) = bid_form else { return };
        let mut node = form;
        let mut ok = field.starts_with('/');
        for part in field.split('/').skip(1) {
            match node.get("properties").and_then(|p| p.get(part)) {
                Some(n) => node = n,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        let ty = node.get("type").and_then(Value::as_str).unwrap_or("");
        let numeric = if integer {
            ty == "integer"
        } else {
            ty == "integer" || ty == "number"
        };
        if !ok || !numeric {
            let want = if integer {
                "an integer property"
            } else {
                "a numeric property"
            };
            r.push(
                ptr,
                C::UnknownFormField,
                format!("`{field}`"),
                format!("a JSON Pointer to {want} of the bid form"),
            );
        }
    };
    field_ref(r, "/evaluation/priceField".into(), &ev.price_field, true);
    if ev.method == Method::Comprehensive {
        let sum: i64 = ev.criteria.iter().map(|c| c.weight.raw()).sum();
        if sum != SCALE {
            r.push(
                "/evaluation/criteria",
                C::WeightsNotOne,
                format!(
                    "weights summing to {}",
                    crate::numbers::Weight::from_raw(sum)
                ),
                "weights summing to exactly 1",
            );
        }
    }
    let mut price_criteria = 0;
    for (i, c) in ev.criteria.iter().enumerate() {
        match &c.source {
            CriterionSource::BidRatio { field } => {
                field_ref(
                    r,
                    format!("/evaluation/criteria/{i}/source/field"),
                    field,
                    false,
                );
            }
            CriterionSource::Price => price_criteria += 1,
            CriterionSource::Evaluators => {}
        }
    }
    if price_criteria > 1 {
        r.push(
            "/evaluation/criteria",
            C::DuplicateId,
            format!("{price_criteria} price criteria"),
            "at most one price criterion",
        );
    }
    for (i, tb) in ev.tie_break.iter().enumerate() {
        if let TieBreak::Criterion { criterion } = tb {
            if !criteria.contains(criterion.as_str()) {
                r.push(
                    format!("/evaluation/tieBreak/{i}/criterion"),
                    C::UnknownCriterion,
                    format!("`{criterion}`"),
                    format!("one of the criteria {}", list(&criteria)),
                );
            }
        }
    }
    if let Some(min) = ev.min_total {
        if min < Score::from_raw(0) || min > Score::MAX {
            r.push(
                "/evaluation/minTotal",
                C::ThresholdOutOfRange,
                min.to_string(),
                "a total between 0 and 100",
            );
        }
    }
    let c = &ev.committee;
    rule_ref(r, "/evaluation/committee/rule".into(), &c.rule);
    if c.min_members == 0 {
        r.push(
            "/evaluation/committee/minMembers",
            C::CommitteeInvalid,
            "0",
            "at least 1 member",
        );
    }
    if let Some(share) = c.min_expert_share {
        if share.raw() > SCALE || share.raw() < 0 {
            r.push(
                "/evaluation/committee/minExpertShare",
                C::CommitteeInvalid,
                share.to_string(),
                "a share between 0 and 1",
            );
        }
    }

    // Award.
    let a = &def.award;
    rule_ref(r, "/award/rule".into(), &a.rule);
    if a.mode == AwardMode::Single && a.winners_per_lot != 1 {
        r.push(
            "/award/winnersPerLot",
            C::TopNTooLarge,
            a.winners_per_lot.to_string(),
            "1 winner per lot with mode `single`",
        );
    }
    if let Some(max) = a.max_candidates_per_lot {
        if a.winners_per_lot > max {
            r.push(
                "/award/winnersPerLot",
                C::TopNTooLarge,
                a.winners_per_lot.to_string(),
                format!("at most maxCandidatesPerLot = {max}"),
            );
        }
    }
    if let Some(max) = a.max_bidders {
        if a.winners_per_lot > max {
            r.push(
                "/award/winnersPerLot",
                C::TopNTooLarge,
                a.winners_per_lot.to_string(),
                format!("at most maxBidders = {max}"),
            );
        }
    }

    // Gates and notifications.
    for (i, g) in def.gates.iter().enumerate() {
        state_ref(r, format!("/gates/{i}/state"), &g.state);
        for (j, role) in g.signers.iter().enumerate() {
            role_ref(r, format!("/gates/{i}/signers/{j}"), role);
        }
    }
    for (i, n) in def.notifications.iter().enumerate() {
        for (j, to) in n.to.iter().enumerate() {
            if let crate::definition::Audience::Role(role) = to {
                role_ref(r, format!("/notifications/{i}/to/{j}"), &role.0);
            }
            if let Some(known) = audience_never_known(n.on, to) {
                r.push(
                    format!("/notifications/{i}/to/{j}"),
                    C::AudienceNeverKnown,
                    format!("`{}` on `{}`", audience_name(to), n.on.as_str()),
                    known,
                );
            }
        }
    }

    check_schedule(def, r, &rule_ref);
    check_more(def, r, has_calendar, &terminal);
    check_contracts(def, r);
    check_stage_declared(def, r);
    forms
}

/// When `to` cannot be known at event `on`: what it needs instead.
fn audience_never_known(
    on: crate::definition::EventName,
    to: &crate::definition::Audience,
) -> Option<&'static str> {
    use crate::definition::{Audience as A, EventName as E};
    // Events that happen before the evaluation's ranking exists: nobody has won or lost.
    let before_ranking = matches!(
        on,
        E::DraftCreated
            | E::Delegated
            | E::AnnouncementPublished
            | E::AmendmentPublished
            | E::QuestionAsked
            | E::QuestionAnswered
            | E::BidSubmitted
            | E::BidReplaced
            | E::BidWithdrawn
            | E::SubmissionClosed
            | E::BidsOpened
            | E::CommitteeAppointed
            | E::ConflictDeclared
            | E::ScoresSubmitted
    );
    match to {
        A::Winners | A::UnsuccessfulBidders if before_ranking => Some(
            "winners and unsuccessful bidders only from the award proposal on (award_proposed, publicity_ended, awarded, …)",
        ),
        A::Objector if !matches!(on, E::ObjectionRaised | E::ObjectionAnswered) => {
            Some("the objector only on objection_raised or objection_answered")
        }
        _ => None,
    }
}

/// An audience as the definition spells it.
fn audience_name(to: &crate::definition::Audience) -> String {
    serde_json::to_value(to)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
