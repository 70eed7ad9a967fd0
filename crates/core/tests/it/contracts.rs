//! The stage after the award on the seed case: 7 agreements signed, a quarter of delivery
//! reports with one partner behind and warned, refusals, termination, and a quarterly report
//! whose figures are recomputed here from the events alone.

use super::support::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tenderflow_core::model::{DraftAgreement, ReportDelivery, SignOff, TerminateAgreement};
use tenderflow_core::quarterly::{self, Quarter};
use tenderflow_core::scenario::{self, ContractParams, INSPECTOR, STAFF};
use tenderflow_core::{Actor, ActorId, Command, CommandBody, EventBody, RejectionCode};

fn awarded_and_contracted() -> (Run, Vec<scenario::Step>) {
    let wf = workflow("partner-recruitment");
    let mut run = Run::new(wf.clone());
    run.play_until(&seed_script(&wf), None);
    assert_eq!(run.tender.state, "awarded");
    let steps = scenario::contract_script(&wf, &run.tender, &ContractParams::default());
    (run, steps)
}

fn cmd(id: &str, role: &str, body: CommandBody) -> Command {
    Command {
        actor: Actor::new(id, role).expect("actor"),
        body,
    }
}

#[test]
fn seven_agreements_a_quarter_of_deliveries_and_a_warning() {
    let (mut run, steps) = awarded_and_contracted();
    assert!(!steps.is_empty());
    run.play_until(&steps, None);
    let t = &run.tender;
    assert_eq!(t.agreements.len(), 7);
    assert!(t.agreements.values().all(|a| a.in_force_at.is_some()));
    // Exactly one partner fell behind and was warned; nobody else was.
    let behind: Vec<_> = t.agreements.values().filter(|a| a.behind).collect();
    assert_eq!(behind.len(), 1, "one partner behind");
    assert_eq!(behind[0].shortfalls.len(), 1);
    let warned: Vec<_> = t
        .agreements
        .values()
        .filter(|a| a.warnings() > 0)
        .map(|a| a.partner.clone())
        .collect();
    assert_eq!(warned, vec![behind[0].partner.clone()]);
    assert!(t.agreements.values().all(|a| a.deliveries.len() == 10));
}

#[test]
fn the_quarterly_report_matches_the_events() {
    let (mut run, steps) = awarded_and_contracted();
    run.play_until(&steps, None);
    let quarter = scenario::delivery_quarter(&run.wf, &run.tender).expect("awarded");
    let report = quarterly::compile(&[(&run.wf, &run.tender)], quarter);
    // Recompute from the event log only: the reports and their reviews.
    let mut reports: BTreeMap<(ActorId, u32), Value> = BTreeMap::new();
    let mut queried: BTreeMap<(ActorId, u32), bool> = BTreeMap::new();
    for e in &run.events {
        match &e.body {
            EventBody::DeliveryReported {
                partner,
                number,
                report,
            } => {
                reports.insert((partner.clone(), *number), (**report).clone());
            }
            EventBody::DeliveryReviewed {
                partner,
                number,
                verified,
                ..
            } => {
                queried.insert((partner.clone(), *number), !verified);
            }
            _ => {}
        }
    }
    let mut by_partner: BTreeMap<ActorId, (u32, u64, u64, u64)> = BTreeMap::new();
    for ((p, n), r) in &reports {
        let date = r["date"].as_str().unwrap_or_default();
        let q: Quarter = quarter;
        let in_q = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
            .map(|d| q.contains(d))
            .unwrap_or(false);
        if !in_q || queried.get(&(p.clone(), *n)).copied().unwrap_or(false) {
            continue;
        }
        let e = by_partner.entry(p.clone()).or_default();
        e.0 += 1;
        e.1 += r["participants"].as_u64().unwrap_or(0);
        e.2 += r["placesOffered"].as_u64().unwrap_or(0);
        e.3 += r["freePlaces"].as_u64().unwrap_or(0) + r["discountedPlaces"].as_u64().unwrap_or(0);
    }
    assert_eq!(report.partners.len(), 7);
    for line in &report.partners {
        let (acts, part, offered, given) = by_partner[&line.partner];
        assert_eq!(line.activities, acts, "{}", line.partner);
        assert_eq!(line.participants, part);
        assert_eq!(line.offered, offered);
        assert_eq!(line.free + line.discounted, given);
        assert_eq!(line.evaluations.len(), 1);
    }
    let sum = by_partner.values().fold((0, 0, 0, 0), |a, b| {
        (a.0 + b.0, a.1 + b.1, a.2 + b.2, a.3 + b.3)
    });
    let t = report.totals;
    assert_eq!((t.activities, t.participants, t.offered, t.given), sum);
    assert_eq!(report.partners.iter().filter(|p| p.behind).count(), 1);
    assert_eq!(report.oversight.len(), 1, "the inspector's visit");
    let csv = report.to_csv();
    assert_eq!(
        csv.lines().count(),
        1 + 7 * 3,
        "a header, each partner and its two items"
    );
}

#[test]
fn an_agreement_that_lowers_the_promised_share_is_refused() {
    let (mut run, steps) = awarded_and_contracted();
    let CommandBody::DraftAgreement(d) = steps[0].command().expect("a command").body else {
        panic!("the first step drafts an agreement")
    };
    let mut terms = (*d.terms).clone();
    let bid_share = run
        .tender
        .bids
        .iter()
        .find(|(k, _)| k.bidder == d.partner)
        .map(|(_, b)| b.content["freeOrDiscountedShare"].as_f64().unwrap_or(0.0))
        .expect("the winner's bid");
    terms["freeOrDiscountedShare"] = json!(bid_share - 1.0);
    let c = cmd(
        STAFF,
        "staff",
        CommandBody::DraftAgreement(DraftAgreement {
            partner: d.partner.clone(),
            terms: terms.into(),
        }),
    );
    let r = run.exec(&c, steps[0].at).expect_err("refused");
    assert_eq!(r.code, RejectionCode::AgreementDepartsFromBid);
    assert_eq!(r.details["departures"][0]["term"], "freeOrDiscountedShare");
    assert!(run.tender.agreements.is_empty(), "nothing half-written");
    // A loser is no partner.
    let loser = run
        .tender
        .bids
        .keys()
        .find(|k| {
            !run.tender
                .awarded
                .iter()
                .flatten()
                .any(|w| w.bidder == k.bidder)
        })
        .expect("a loser")
        .bidder
        .clone();
    let c = cmd(
        STAFF,
        "staff",
        CommandBody::DraftAgreement(DraftAgreement {
            partner: loser,
            terms: d.terms.clone(),
        }),
    );
    assert_eq!(
        run.exec(&c, steps[0].at).expect_err("refused").code,
        RejectionCode::NotAWinner
    );
}

#[test]
fn a_delivery_report_from_another_partner_is_refused() {
    let (mut run, steps) = awarded_and_contracted();
    let first_report = steps
        .iter()
        .position(|s| s.input.name() == "report_delivery")
        .expect("a report");
    run.play_until(&steps[..first_report], None);
    let Some(Command {
        body: CommandBody::ReportDelivery(r),
        ..
    }) = steps[first_report].command()
    else {
        panic!("a report")
    };
    let other = run
        .tender
        .agreements
        .keys()
        .find(|p| **p != r.partner)
        .expect("another partner")
        .clone();
    let c = cmd(
        other.as_str(),
        "bidder",
        CommandBody::ReportDelivery(ReportDelivery {
            partner: r.partner.clone(),
            report: r.report.clone(),
        }),
    );
    let e = run.exec(&c, steps[first_report].at).expect_err("refused");
    assert_eq!(e.code, RejectionCode::NotYourAgreement);
    // An item the agreement does not list.
    let mut bad = (*r.report).clone();
    bad["item"] = json!("karaoke");
    let c = cmd(
        r.partner.as_str(),
        "bidder",
        CommandBody::ReportDelivery(ReportDelivery {
            partner: r.partner.clone(),
            report: bad.into(),
        }),
    );
    let e = run.exec(&c, steps[first_report].at).expect_err("refused");
    assert_eq!(e.code, RejectionCode::UnknownServiceItem);
    // More places given than offered.
    let mut bad = (*r.report).clone();
    bad["freePlaces"] = json!(1000);
    let c = cmd(
        r.partner.as_str(),
        "bidder",
        CommandBody::ReportDelivery(ReportDelivery {
            partner: r.partner.clone(),
            report: bad.into(),
        }),
    );
    assert_eq!(
        run.exec(&c, steps[first_report].at)
            .expect_err("refused")
            .code,
        RejectionCode::InvalidInput
    );
    assert!(
        run.tender
            .agreements
            .values()
            .all(|a| a.deliveries.is_empty())
    );
}

#[test]
fn termination_needs_a_warning_and_the_inspectors_signature() {
    let (mut run, steps) = awarded_and_contracted();
    run.play_until(&steps, None);
    let now = run.tender.last_at.expect("events").plus_seconds(3600);
    let warned = run
        .tender
        .agreements
        .values()
        .find(|a| a.warnings() > 0)
        .expect("a warned partner")
        .partner
        .clone();
    let good = run
        .tender
        .agreements
        .values()
        .find(|a| a.warnings() == 0)
        .expect("a partner in good standing")
        .partner
        .clone();
    let terminate = |p: &ActorId, reason: &str| {
        cmd(
            STAFF,
            "staff",
            CommandBody::TerminateAgreement(TerminateAgreement {
                partner: p.clone(),
                reason: reason.into(),
            }),
        )
    };
    let reason = "Free places below the promised share for a whole quarter after a warning.";
    let e = run
        .exec(&terminate(&warned, reason), now)
        .expect_err("no signature");
    assert_eq!(e.code, RejectionCode::MissingSignoff);
    let sign = |p: &ActorId| {
        cmd(
            INSPECTOR,
            "inspector",
            CommandBody::SignOff(SignOff {
                gate: "termination".into(),
                partner: Some(p.clone()),
                content: json!({"statement": "The termination follows the rules."}).into(),
            }),
        )
    };
    // A signature for one partner does not open the gate for another.
    run.exec(&sign(&good), now).expect("signed");
    let e = run
        .exec(&terminate(&good, reason), now)
        .expect_err("not warned");
    assert_eq!(e.code, RejectionCode::NotWarned);
    let e = run
        .exec(&terminate(&warned, reason), now)
        .expect_err("still unsigned");
    assert_eq!(e.code, RejectionCode::MissingSignoff);
    // A signature naming no partner is refused on a per-partner gate.
    let mut unsigned = sign(&warned);
    if let CommandBody::SignOff(s) = &mut unsigned.body {
        s.partner = None;
    }
    assert_eq!(
        run.exec(&unsigned, now).expect_err("partner needed").code,
        RejectionCode::InvalidInput
    );
    run.exec(&sign(&warned), now).expect("signed");
    let e = run.exec(&terminate(&warned, " "), now).expect_err("reason");
    assert_eq!(e.code, RejectionCode::ReasonRequired);
    run.exec(&terminate(&warned, reason), now)
        .expect("terminated");
    let a = &run.tender.agreements[&warned];
    assert_eq!(
        a.termination.as_ref().map(|t| t.reason.as_str()),
        Some(reason)
    );
    // A terminated partner reports nothing more.
    let c = cmd(
        warned.as_str(),
        "bidder",
        CommandBody::ReportDelivery(ReportDelivery {
            partner: warned.clone(),
            report: a.deliveries[0].report.clone(),
        }),
    );
    assert_eq!(
        run.exec(&c, now).expect_err("terminated").code,
        RejectionCode::AgreementTerminated
    );
}

#[test]
fn the_agreement_is_in_force_only_with_both_signatures_and_the_gate() {
    let (mut run, steps) = awarded_and_contracted();
    let first_signature = steps
        .iter()
        .position(|s| s.input.name() == "sign_agreement")
        .expect("signatures");
    run.play_until(&steps[..first_signature + 2], None);
    let partner = match steps[first_signature].command().map(|c| c.body) {
        Some(CommandBody::SignAgreement(s)) => s.partner,
        _ => panic!("a signature"),
    };
    let a = &run.tender.agreements[&partner];
    assert!(a.signed_by_both());
    assert!(
        a.in_force_at.is_none(),
        "the inspectors' gate is still open"
    );
    run.step(&steps[first_signature + 2]);
    assert!(run.tender.agreements[&partner].in_force_at.is_some());
    // Signed: the terms can no longer change.
    let c = cmd(
        STAFF,
        "staff",
        CommandBody::DraftAgreement(DraftAgreement {
            partner: partner.clone(),
            terms: run.tender.agreements[&partner].terms.clone(),
        }),
    );
    let at = steps[first_signature + 2].at;
    assert_eq!(
        run.exec(&c, at).expect_err("signed").code,
        RejectionCode::AlreadySigned
    );
    // A procedure command is still refused after the award.
    let c = cmd(STAFF, "staff", CommandBody::Award {});
    assert_eq!(
        run.exec(&c, at).expect_err("ended").code,
        RejectionCode::InvalidState
    );
}

/// Delegated management: a county union delegates a venue's recruitment to a town union;
/// the county's overseers read everything, act on nothing, and its inspector signs the
/// gates that allow overseers (the award, the agreements, terminations), never the others.
#[test]
fn a_delegated_procedure_is_read_by_the_delegating_body_and_signed_where_allowed() {
    use tenderflow_core::model::{Body, Delegate, RecordObservation};
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    run.step(&steps[0]);
    let at = steps[0].at.plus_seconds(60);
    let delegation = |overseers: Vec<&str>| {
        cmd(
            STAFF,
            "staff",
            CommandBody::Delegate(Delegate {
                delegated_by: Body {
                    id: "CN-FTU-county-01".into(),
                    name: "County Federation of Trade Unions".into(),
                },
                delegate: Body {
                    id: "CN-FTU-town-07".into(),
                    name: "Town Trade Union".into(),
                },
                scope: "Recruitment and supervision of partners for the Town Workers' Home".into(),
                overseers: overseers
                    .into_iter()
                    .map(|o| ActorId::parse(o).expect("id"))
                    .collect(),
            }),
        )
    };
    assert_eq!(
        run.exec(&delegation(vec![STAFF]), at)
            .expect_err("not oneself")
            .code,
        RejectionCode::InvalidInput
    );
    run.exec(&delegation(vec!["county-staff", "county-inspector"]), at)
        .expect("delegated");
    assert_eq!(
        run.exec(&delegation(vec!["county-staff"]), at)
            .expect_err("once")
            .code,
        RejectionCode::InvalidState
    );
    // The county's staff may not run the town's procedure.
    let publish = steps[1].command().expect("publish");
    let county_publish = Command {
        actor: Actor::new("county-staff", "staff").expect("actor"),
        body: publish.body.clone(),
    };
    let e = run
        .exec(&county_publish, steps[1].at)
        .expect_err("read only");
    assert_eq!(e.code, RejectionCode::ReadOnly);
    // The town runs it to the award.
    run.play_until(&steps[1..], Some("award_ready"));
    let county_inspector = Actor::new("county-inspector", "inspector").expect("actor");
    let now = run.tender.last_at.expect("events").plus_seconds(60);
    let sign = |gate: &str| Command {
        actor: county_inspector.clone(),
        body: CommandBody::SignOff(SignOff {
            gate: gate.into(),
            partner: None,
            content: json!({"statement": "Signed for the county union."}).into(),
        }),
    };
    // Its inspector observes and signs the award gate (overseers allowed), not the opening.
    run.exec(
        &Command {
            actor: county_inspector.clone(),
            body: CommandBody::RecordObservation(RecordObservation {
                content: json!({"text": "The county union reviewed the evaluation report."}).into(),
            }),
        },
        now,
    )
    .expect("observed");
    assert_eq!(
        run.exec(&sign("opening"), now)
            .expect_err("not an overseers' gate")
            .code,
        RejectionCode::ReadOnly
    );
    run.exec(&sign("award"), now)
        .expect("the county signs the award");
    assert!(
        run.tender
            .signoffs
            .iter()
            .any(|s| s.gate == "award" && s.by.as_str() == "county-inspector")
    );
    // The view says who delegated to whom; OCDS names the town union the procuring entity
    // and the county an interested party.
    let seen = tenderflow_core::view(
        &run.wf,
        &run.tender,
        &Actor::new("anyone", "public").expect("actor"),
    );
    assert_eq!(seen["delegation"]["delegate"]["name"], "Town Trade Union");
    assert!(
        seen["delegation"]["overseers"].is_null(),
        "overseers only for officials"
    );
    let releases = tenderflow_core::ocds::releases(
        &run.wf,
        &run.history(),
        &tenderflow_core::ocds::Options::default(),
    );
    let last = releases.last().expect("releases");
    assert_eq!(last["tender"]["procuringEntity"]["id"], "CN-FTU-town-07");
    assert!(
        last["parties"]
            .as_array()
            .expect("parties")
            .iter()
            .any(|p| p["id"] == "CN-FTU-county-01" && p["roles"][0] == "interestedParty")
    );
}

/// The Bidding Law and government procurement definitions: the contract follows the
/// winning bid (no higher price, no longer delivery) and is in force once both sign.
#[test]
fn prc_contracts_follow_the_winning_bid() {
    for name in [
        "open-tender-prc",
        "gov-procurement-prc",
        "invited-tender-prc",
    ] {
        let wf = workflow(name);
        let mut run = Run::new(wf.clone());
        run.play_until(&seed_script(&wf), None);
        assert_eq!(run.tender.state, "awarded", "{name}");
        let steps = scenario::contract_script(&wf, &run.tender, &ContractParams::default());
        let CommandBody::DraftAgreement(d) = steps[0].command().expect("a draft").body else {
            panic!("{name}: the first step drafts")
        };
        let mut terms = (*d.terms).clone();
        terms["priceMinor"] = json!(terms["priceMinor"].as_i64().unwrap_or(0) + 1);
        let c = cmd(
            STAFF,
            "staff",
            CommandBody::DraftAgreement(DraftAgreement {
                partner: d.partner.clone(),
                terms: terms.into(),
            }),
        );
        let e = run.exec(&c, steps[0].at).expect_err("a higher price");
        assert_eq!(e.code, RejectionCode::AgreementDepartsFromBid, "{name}");
        run.play_until(&steps, None);
        let winners = run.tender.awarded.as_ref().map_or(0, Vec::len);
        assert_eq!(run.tender.agreements.len(), winners, "{name}");
        assert!(
            run.tender
                .agreements
                .values()
                .all(|a| a.in_force_at.is_some()),
            "{name}: in force without a gate"
        );
    }
}
