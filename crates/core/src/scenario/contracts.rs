//! The stage after the award as a script: each winner's agreement drafted from its bid and
//! signed, a quarter of delivery reports (one partner falling behind its promised share),
//! staff reviews, an inspector's observation and a performance round in which the partner
//! behind is warned.

use super::*;
use crate::definition::BindingRule;
use crate::model::{
    DraftAgreement, EvaluatePerformance, RecordObservation, ReportDelivery, ReviewDelivery,
    SignAgreement,
};
use crate::numbers::Score;
use crate::quarterly::Quarter;

/// What the contract script needs besides the awarded tender.
#[derive(Debug, Clone)]
pub struct ContractParams {
    /// Seed of the figures.
    pub seed: u64,
    /// The winner (by rank order, from 0) that delivers half its promise.
    pub behind: usize,
    /// Activities each partner reports in the quarter.
    pub activities: u32,
}

impl Default for ContractParams {
    fn default() -> Self {
        Self {
            seed: 2021,
            behind: 6,
            activities: 10,
        }
    }
}

/// Texts for the agreement's free-text terms, where the form has them.
const TEXTS: &[(&str, &str)] = &[
    (
        "assetTerms",
        "The venue's name, function, main business and property rights stay unchanged; equipment is returned as received.",
    ),
    ("openingHours", "Tuesday to Sunday, 09:00–21:00"),
    (
        "signUp",
        "On the union's app or at the venue's front desk, with a union card",
    ),
];

/// The service items of every agreement: id, title, discount.
const ITEMS: &[(&str, &str, &str)] = &[
    (
        "workers-open-day",
        "Workers' open day",
        "Free for union members",
    ),
    (
        "weekend-class",
        "Weekend class",
        "Half price for union members",
    ),
];

/// The quarter the script's delivery reports fall in (the one after the award), or `None`
/// when the tender was not awarded.
pub fn delivery_quarter(wf: &Workflow, t: &Tender) -> Option<Quarter> {
    let awarded = t.happened.get(&crate::definition::EventName::Awarded)?.0;
    Some(Quarter::of(wf.definition().calendar.local_date(awarded)).next())
}

/// The script of the stage after the award for tender `t` (awarded, under `wf`); empty when
/// the definition declares no such stage or the tender has no winners.
pub fn contract_script(wf: &Workflow, t: &Tender, p: &ContractParams) -> Vec<Step> {
    let d = wf.definition();
    let (Some(c), Some(winners), Some(last), Some(quarter)) = (
        wf.contracts(),
        t.awarded.as_ref(),
        t.last_at,
        delivery_quarter(wf, t),
    ) else {
        return Vec::new();
    };
    let mut rng = Rng::new(p.seed ^ 0x5eed_c0de);
    let staff = actor(STAFF, Role::STAFF.as_str());
    let inspector = actor(INSPECTOR, Role::INSPECTOR.as_str());
    let cal = &d.calendar;
    let mut steps = Steps(Vec::new());
    let day = 86_400;
    let drafted = last.plus_seconds(day);
    let start = quarter.first_day();
    let end = quarter.next().first_day().pred_opt().unwrap_or(start);
    let form = d.forms.get(&c.agreement.form).cloned().unwrap_or(json!({}));
    let mut order: Vec<_> = winners.iter().collect();
    order.sort_by_key(|w| (w.lot.clone(), w.rank));
    let mut terms_of = Vec::new();
    for (k, w) in order.iter().enumerate() {
        let bid = t
            .bids
            .iter()
            .find(|(key, _)| key.bidder == w.bidder)
            .map(|(_, b)| b.content.clone());
        let mut terms = fake(&form, &mut rng, "term");
        let Some(obj) = terms.as_object_mut() else {
            continue;
        };
        for (k, text) in TEXTS {
            if let Some(v) = obj.get_mut(*k).filter(|v| v.is_string()) {
                *v = json!(text);
            }
        }
        for b in &c.agreement.binding {
            if let Some(v) = bid.as_ref().and_then(|bid| bid.get(&b.bid)) {
                // The seed's first partner improves on its promise: allowed by `at_least`.
                let v = match (b.rule, v.as_f64()) {
                    (BindingRule::AtLeast, Some(x)) if k == 0 => json!(x + 5.0),
                    _ => v.clone(),
                };
                obj.insert(b.term.clone(), v);
            }
        }
        if let Some(items) = &c.agreement.items {
            let item_schema = form
                .pointer(&format!("/properties/{items}/items"))
                .cloned()
                .unwrap_or(json!({}));
            let list: Vec<Value> = ITEMS
                .iter()
                .map(|(id, title, discount)| {
                    let mut i = fake(&item_schema, &mut rng, "item");
                    if let Some(o) = i.as_object_mut() {
                        o.insert("id".into(), json!(id));
                        for (k, v) in [("title", title), ("discount", discount)] {
                            if o.get(k).is_some_and(Value::is_string) {
                                o.insert(k.into(), json!(v));
                            }
                        }
                    }
                    i
                })
                .collect();
            obj.insert(items.clone(), Value::Array(list));
        }
        if let Some(v) = &c.agreement.venue {
            obj.insert(v.clone(), json!(format!("Workers' venue {:02}", k + 1)));
        }
        if let Some(period) = &c.agreement.period {
            let until = NaiveDateYears(start).plus_years(3);
            obj.insert(period.start.clone(), json!(start.to_string()));
            obj.insert(period.end.clone(), json!(until.to_string()));
        }
        steps.push(
            drafted.plus_seconds(60 * k as i64),
            &staff,
            CommandBody::DraftAgreement(DraftAgreement {
                partner: w.bidder.clone(),
                terms: terms.clone().into(),
            }),
        );
        terms_of.push((w.bidder.clone(), terms));
    }
    // Both sides sign the next day; the inspectors sign each agreement's gate.
    let signed = drafted.plus_seconds(day);
    for (k, (partner, _)) in terms_of.iter().enumerate() {
        let at = signed.plus_seconds(600 * k as i64);
        steps.push(
            at,
            &actor(partner.as_str(), Role::BIDDER.as_str()),
            CommandBody::SignAgreement(SignAgreement {
                partner: partner.clone(),
            }),
        );
        steps.push(
            at.plus_seconds(60),
            &staff,
            CommandBody::SignAgreement(SignAgreement {
                partner: partner.clone(),
            }),
        );
        if let Some(gate) = &c.agreement.gate {
            steps.push(
                at.plus_seconds(120),
                &inspector,
                CommandBody::SignOff(SignOff {
                    gate: gate.clone(),
                    partner: Some(partner.clone()),
                    content: json!({
                        "statement": "The agreement follows the award and the winning bid.",
                        "observations": ""
                    })
                    .into(),
                }),
            );
        }
    }
    let Some(dr) = &c.delivery else {
        return steps.0;
    };
    // A quarter of activities, evenly spread, each reported the evening it took place and
    // verified by staff the next morning.
    let report_form = d.forms.get(&dr.form).cloned().unwrap_or(json!({}));
    let days = (end - start).num_days().max(1);
    let f = &dr.fields;
    for a in 0..p.activities {
        let date =
            start + chrono::Days::new((days * i64::from(a) / i64::from(p.activities)) as u64 + 1);
        for (k, (partner, terms)) in terms_of.iter().enumerate() {
            let promised = terms
                .get(&dr.promised_share)
                .and_then(Value::as_f64)
                .unwrap_or(20.0);
            let offered = rng.range(40, 80);
            let share = if k == p.behind {
                promised * 0.5
            } else {
                (promised + rng.range(0, 8) as f64).min(100.0)
            };
            let given = ((offered as f64 * share / 100.0).ceil() as i64).min(offered);
            let free = given / 2;
            let items = c
                .agreement
                .items
                .as_deref()
                .and_then(|i| terms.get(i))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let item = items
                .get(a as usize % items.len().max(1))
                .and_then(|i| i.get("id"))
                .cloned()
                .unwrap_or(json!(""));
            let mut report = fake(&report_form, &mut rng, "report");
            if let Some(o) = report.as_object_mut() {
                o.insert(f.date.clone(), json!(date.to_string()));
                o.insert(f.item.clone(), item);
                o.insert(f.participants.clone(), json!(offered - rng.range(0, 5)));
                o.insert(f.places_offered.clone(), json!(offered));
                o.insert(f.free_places.clone(), json!(free));
                o.insert(f.discounted_places.clone(), json!(given - free));
                if let Some(x) = &f.complaints {
                    let n = if k == p.behind { rng.range(0, 2) } else { 0 };
                    o.insert(x.clone(), json!(n));
                }
                if let Some(x) = &f.revenue {
                    o.insert(x.clone(), json!((offered - given) * 3000));
                }
            }
            let evening = cal.start_of(date).plus_seconds(20 * 3600 + 60 * k as i64);
            steps.push(
                evening,
                &actor(partner.as_str(), Role::BIDDER.as_str()),
                CommandBody::ReportDelivery(ReportDelivery {
                    partner: partner.clone(),
                    report: report.into(),
                }),
            );
            steps.push(
                evening.plus_seconds(13 * 3600),
                &staff,
                CommandBody::ReviewDelivery(ReviewDelivery {
                    partner: partner.clone(),
                    report: a + 1,
                    verified: true,
                    note: "Checked against the sign-in sheet.".into(),
                }),
            );
        }
        if a == p.activities / 2 {
            if let Some((partner, _)) = terms_of.get(p.behind) {
                steps.push(
                    cal.start_of(date).plus_seconds(10 * 3600),
                    &inspector,
                    CommandBody::RecordObservation(RecordObservation {
                        content: json!({
                            "text": format!(
                                "Visited the activity of {}: fewer free places than promised.",
                                super::registered_name(partner.as_str(), "en")
                                    .unwrap_or_else(|| partner.to_string())
                            ),
                            "severity": "concern"
                        })
                        .into(),
                    }),
                );
            }
        }
    }
    // The performance round at the end of the quarter (or when it falls due, if later).
    if let Some(perf) = &c.performance {
        let in_force = signed.plus_seconds(600 * terms_of.len() as i64 + 180);
        let due = cal
            .add(in_force, perf.every.period())
            .unwrap_or(in_force)
            .plus_seconds(3600);
        let eval_at = due.max(cal.start_of(end).plus_seconds(10 * 3600));
        for (k, (partner, _)) in terms_of.iter().enumerate() {
            let scores = perf
                .criteria
                .iter()
                .map(|cr| {
                    let s = if k == p.behind {
                        rng.range(30, 55)
                    } else {
                        rng.range(75, 95)
                    };
                    (cr.id.clone(), Score::from_raw(s * crate::numbers::SCALE))
                })
                .collect();
            steps.push(
                eval_at.plus_seconds(60 * k as i64),
                &staff,
                CommandBody::EvaluatePerformance(EvaluatePerformance {
                    partner: partner.clone(),
                    scores,
                    note: "Quarterly evaluation against the agreement.".into(),
                }),
            );
        }
    }
    // Steps were made partner by partner; the clock runs in one order.
    steps.0.sort_by_key(|s| s.at);
    steps.0
}

/// A date with whole years added (29 February becomes 28 February).
struct NaiveDateYears(chrono::NaiveDate);

impl NaiveDateYears {
    fn plus_years(self, years: i32) -> chrono::NaiveDate {
        use chrono::Datelike;
        let d = self.0;
        d.with_year(d.year() + years)
            .or_else(|| d.pred_opt().and_then(|p| p.with_year(d.year() + years)))
            .unwrap_or(d)
    }
}
