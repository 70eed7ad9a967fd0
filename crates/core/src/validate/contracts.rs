//! The stage after the award: the `contracts` section's forms, fields, gates, criteria and
//! rules exist and fit together, and the definition allows its commands.

use super::*;
use crate::definition::{CommandName, Outcome};

pub(super) fn check_contracts(def: &Definition, r: &mut Report<'_>) {
    use DefinitionErrorCode as C;
    let Some(c) = &def.contracts else { return };
    let form_of = |name: &str| def.forms.get(name);
    let props = |form: Option<&Value>| -> Option<BTreeSet<String>> {
        let p = form?.get("properties")?.as_object()?;
        Some(p.keys().cloned().collect())
    };
    let form_ref = |r: &mut Report<'_>, ptr: &str, name: &str| {
        if form_of(name).is_none() {
            r.push(
                ptr,
                C::UnknownForm,
                format!("`{name}`"),
                "a form declared in /forms",
            );
        }
    };
    let field_ref =
        |r: &mut Report<'_>, ptr: String, fields: &Option<BTreeSet<String>>, f: &str, of: &str| {
            if fields.as_ref().is_some_and(|p| !p.contains(f)) {
                r.push(
                    ptr,
                    C::UnknownFormField,
                    format!("`{f}`"),
                    format!("a property of the {of} form"),
                );
            }
        };
    let rule_ref = |r: &mut Report<'_>, ptr: &str, rule: &Option<String>| {
        if let Some(rule) = rule {
            if !def.rules.iter().any(|x| x.id == *rule) {
                r.push(ptr, C::UnknownRule, format!("`{rule}`"), "a declared rule");
            }
        }
    };
    let awarded: Vec<&str> = def
        .states
        .iter()
        .filter(|s| s.outcome == Some(Outcome::Awarded))
        .map(|s| s.id.as_str())
        .collect();
    let gate_ref =
        |r: &mut Report<'_>, ptr: &str, id: &str| match def.gates.iter().find(|g| g.id == id) {
            Some(g) if g.partner && awarded.contains(&g.state.as_str()) => {}
            Some(_) => r.push(
                ptr,
                C::UnknownGate,
                format!("gate `{id}` without `partner: true` in the awarded state"),
                "a per-partner gate signed in the awarded state",
            ),
            None => r.push(ptr, C::UnknownGate, format!("`{id}`"), "a declared gate"),
        };

    // The agreement.
    let a = &c.agreement;
    form_ref(r, "/contracts/agreement/form", &a.form);
    rule_ref(
        r,
        "/contracts/agreement/signWithin/rule",
        &a.sign_within.rule,
    );
    if let Some(g) = &a.gate {
        gate_ref(r, "/contracts/agreement/gate", g);
    }
    let terms = props(form_of(&a.form));
    let bid = props(
        def.transitions
            .iter()
            .find(|t| t.command == Some(CommandName::SubmitBid))
            .and_then(|t| t.form.as_deref())
            .and_then(form_of),
    );
    for (i, b) in a.binding.iter().enumerate() {
        let base = format!("/contracts/agreement/binding/{i}");
        field_ref(r, format!("{base}/term"), &terms, &b.term, "agreement");
        field_ref(r, format!("{base}/bid"), &bid, &b.bid, "bid");
    }
    for (ptr, f) in a
        .items
        .iter()
        .map(|f| ("/contracts/agreement/items".to_owned(), f))
        .chain(
            a.value
                .iter()
                .map(|f| ("/contracts/agreement/value".into(), f)),
        )
        .chain(
            a.venue
                .iter()
                .map(|f| ("/contracts/agreement/venue".into(), f)),
        )
        .chain(
            a.published
                .iter()
                .enumerate()
                .map(|(i, f)| (format!("/contracts/agreement/published/{i}"), f)),
        )
        .chain(a.period.iter().flat_map(|p| {
            [
                ("/contracts/agreement/period/start".to_owned(), &p.start),
                ("/contracts/agreement/period/end".to_owned(), &p.end),
            ]
        }))
    {
        field_ref(r, ptr, &terms, f, "agreement");
    }

    // Delivery reports.
    if let Some(d) = &c.delivery {
        form_ref(r, "/contracts/delivery/form", &d.form);
        let report = props(form_of(&d.form));
        let f = &d.fields;
        for (name, field) in [
            ("date", Some(&f.date)),
            ("item", Some(&f.item)),
            ("participants", Some(&f.participants)),
            ("placesOffered", Some(&f.places_offered)),
            ("freePlaces", Some(&f.free_places)),
            ("discountedPlaces", Some(&f.discounted_places)),
            ("complaints", f.complaints.as_ref()),
            ("revenue", f.revenue.as_ref()),
        ] {
            if let Some(field) = field {
                let ptr = format!("/contracts/delivery/fields/{name}");
                field_ref(r, ptr, &report, field, "delivery report");
            }
        }
        let ptr = "/contracts/delivery/promisedShare".to_owned();
        field_ref(r, ptr, &terms, &d.promised_share, "agreement");
        if d.alert_below.raw() <= 0 || d.alert_below.raw() > SCALE {
            r.push(
                "/contracts/delivery/alertBelow",
                C::ThresholdOutOfRange,
                d.alert_below.to_string(),
                "a fraction of the promise above 0 and at most 1",
            );
        }
        if a.items.is_none() {
            r.push(
                "/contracts/agreement/items",
                C::UnknownFormField,
                "none",
                "the term listing the service items delivery reports name",
            );
        }
    }

    // Performance rounds.
    if let Some(p) = &c.performance {
        rule_ref(r, "/contracts/performance/every/rule", &p.every.rule);
        let sum: i64 = p.criteria.iter().map(|c| c.weight.raw()).sum();
        if sum != SCALE {
            r.push(
                "/contracts/performance/criteria",
                C::WeightsNotOne,
                format!("weights summing to {}", Score::from_raw(sum)),
                "weights summing to exactly 1",
            );
        }
        check_unique(
            r,
            "/contracts/performance/criteria",
            p.criteria.iter().map(|c| c.id.as_str()),
        );
        if p.minimum.raw() < 0 || p.minimum > Score::MAX {
            r.push(
                "/contracts/performance/minimum",
                C::ThresholdOutOfRange,
                p.minimum.to_string(),
                "a score between 0 and 100",
            );
        }
    }

    // The commands the section needs are allowed from the awarded state.
    let mut needed = vec![CommandName::DraftAgreement, CommandName::SignAgreement];
    if c.delivery.is_some() {
        needed.extend([CommandName::ReportDelivery, CommandName::ReviewDelivery]);
    }
    if c.performance.is_some() {
        needed.extend([
            CommandName::EvaluatePerformance,
            CommandName::TerminateAgreement,
        ]);
    }
    for command in needed {
        let allowed = def.transitions.iter().any(|t| {
            t.command == Some(command) && t.from.iter().any(|f| awarded.contains(&f.as_str()))
        });
        if !allowed {
            r.push(
                "/transitions",
                C::StageUnreachable,
                format!("no `{command}` transition from the awarded state"),
                "a transition for each command of the contracts section",
            );
        }
    }
    if let Some(form) = transition_form(def, CommandName::DraftAgreement) {
        if form != a.form {
            r.push(
                "/contracts/agreement/form",
                C::UnknownForm,
                format!(
                    "`{}` (the `draft_agreement` transition says `{form}`)",
                    a.form
                ),
                "the form the transition declares",
            );
        }
    }
}

fn transition_form(def: &Definition, command: CommandName) -> Option<&str> {
    def.transitions
        .iter()
        .find(|t| t.command == Some(command))
        .and_then(|t| t.form.as_deref())
}

/// Commands of the stage after the award allowed without a `contracts` section.
pub(super) fn check_stage_declared(def: &Definition, r: &mut Report<'_>) {
    use DefinitionErrorCode as C;
    if def.contracts.is_some() {
        return;
    }
    for (i, t) in def.transitions.iter().enumerate() {
        if let Some(c) = t.command.filter(|c| {
            c.after_award() && !matches!(c, CommandName::SignOff | CommandName::RecordObservation)
        }) {
            r.push(
                format!("/transitions/{i}/command"),
                C::StageUnreachable,
                format!("`{c}` without a `contracts` section"),
                "a `contracts` section declaring the stage after the award",
            );
        }
    }
}
