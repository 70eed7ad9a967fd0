//! Who sees what and who signs: views before and after opening, the committee's signatures,
//! invited tenders and staff obligations.

use crate::commands::*;
use crate::support::{Run, seed_script, workflow};
use serde_json::json;
use tenderflow_core::decide::RejectionCode as C;
use tenderflow_core::model::ActorId;
use tenderflow_core::model::{Publish, SignOff, SubmitBid};
use tenderflow_core::scenario::{INSPECTOR, Input, STAFF, bidder_id, evaluator_id};
use tenderflow_core::{CommandBody, view};

#[test]
fn views_hide_bids_before_opening_and_scores_until_the_report() {
    let (run, _, _) = at("submission_closed");
    let staff = actor(STAFF, "staff");
    let v = view(&run.wf, &run.tender, &staff);
    let bids = v["bids"].as_array().expect("bids");
    assert_eq!(bids.len(), 18);
    assert!(
        bids.iter()
            .all(|b| b["content"].is_null() && b["commitment"].is_string())
    );
    let me = actor(&bidder_id(4), "bidder");
    let v = view(&run.wf, &run.tender, &me);
    let bids = v["bids"].as_array().expect("bids");
    assert_eq!(
        bids.len(),
        1,
        "a bidder sees only its own receipt before opening"
    );
    assert!(bids[0]["content"].is_object());

    let (run, steps, i) = at("evaluation");
    let v = view(&run.wf, &run.tender, &staff);
    assert!(
        v["bids"]
            .as_array()
            .expect("bids")
            .iter()
            .all(|b| b["content"].is_object())
    );
    // Play the first evaluator's sheets and one of the second's, then look.
    let mut run = run;
    for s in &steps[i..i + 1 + 18 + 1] {
        run.step(s);
    }
    let e1 = actor(&evaluator_id(1), "evaluator");
    let v = view(&run.wf, &run.tender, &e1);
    let scores = v["scores"].as_array().expect("scores");
    assert!(
        scores.iter().all(|s| s["evaluator"] == evaluator_id(1)),
        "only own scores: {scores:?}"
    );
    assert!(
        view(&run.wf, &run.tender, &staff)["scores"]
            .as_array()
            .expect("s")
            .is_empty()
    );
    assert!(
        view(&run.wf, &run.tender, &me)["committee"].is_null(),
        "committee names are secret from bidders"
    );
}

#[test]
fn under_the_bidding_law_every_committee_member_signs_the_report() {
    let wf = workflow("open-tender-prc");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf);
    let i = run.play_until(&steps, Some("evaluated"));
    let t = now(&run);
    let propose = cmd(STAFF, "staff", CommandBody::ProposeAward {});
    // The script signs next: first the members, then the inspector. Without them, no proposal.
    let err = run.exec(&propose, t).expect_err("unsigned");
    assert_eq!(err.code, C::MissingSignoff);
    let gates = err.details["gates"].as_array().expect("gates");
    assert_eq!(gates.len(), 2, "both gates are open: {}", err.details);
    assert_eq!(gates[1]["gate"], "committee_report");
    assert_eq!(
        gates[1]["missing"].as_array().map(Vec::len),
        Some(5),
        "{}",
        err.details
    );
    let by_inspector = cmd(
        INSPECTOR,
        "inspector",
        CommandBody::SignOff(SignOff {
            gate: "committee_report".into(),
            partner: None,
            content: json!({"statement": "x"}).into(),
        }),
    );
    assert_eq!(
        run.exec(&by_inspector, t).expect_err("not a signer").code,
        C::WrongRole
    );
    let outsider = cmd(
        "expert-99",
        "evaluator",
        CommandBody::SignOff(SignOff {
            gate: "committee_report".into(),
            partner: None,
            content: json!({"statement": "x"}).into(),
        }),
    );
    assert_eq!(
        run.exec(&outsider, t).expect_err("not a member").code,
        C::NotCommitteeMember
    );
    // Four of five sign: still refused, naming the one missing.
    for s in &steps[i..i + 4] {
        run.step(s);
    }
    let err = run
        .exec(&propose, steps[i + 4].at)
        .expect_err("one missing");
    assert_eq!(
        err.details["gates"][1]["missing"],
        json!([evaluator_id(4)]),
        "{}",
        err.details
    );
    run.play_until(&steps[i + 4..], None);
    assert_eq!(run.tender.state, "awarded");
    assert_eq!(run.tender.signatures("committee_report"), 5);
}

#[test]
fn an_invited_tender_needs_three_invitees_and_takes_bids_only_from_them() {
    let wf = workflow("invited-tender-prc");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf);
    run.step(&steps[0]);
    let Input::Command(CommandBody::Publish(Publish {
        announcement,
        channels,
        deadline,
        invitees,
        ..
    })) = &steps[1].input
    else {
        panic!()
    };
    let publish = |invitees: Vec<ActorId>| {
        cmd(
            STAFF,
            "staff",
            CommandBody::Publish(Publish {
                documents: Vec::new(),
                announcement: announcement.clone(),
                channels: channels.clone(),
                deadline: *deadline,
                lots: vec![],
                estimated_price: None,
                bid_security: None,
                invitees,
            }),
        )
    };
    let err = run
        .exec(&publish(invitees[..2].to_vec()), steps[1].at)
        .expect_err("two invitees");
    assert_eq!(err.code, C::TooFewInvitees);
    assert!(err.message.contains("BL 17"), "{}", err.message);
    run.exec(&publish(invitees.clone()), steps[1].at)
        .expect("invited");
    let stranger = cmd(
        "uninvited-org",
        "bidder",
        CommandBody::SubmitBid(SubmitBid {
            documents: Vec::new(),
            lot: None,
            content: json!({"organisation": "x", "priceMinor": 100, "technicalProposal": "p"})
                .into(),
        }),
    );
    assert_eq!(
        run.exec(&stranger, steps[1].at)
            .expect_err("not invited")
            .code,
        C::NotInvited
    );
    run.step(&steps[2]);
    assert_eq!(run.tender.bids.len(), 1);
    // The announcement goes to the invitees, not to every registered bidder.
    let sent = tenderflow_core::notifications(&run.wf, &run.tender, &run.events[2..4]);
    assert_eq!(
        sent.iter()
            .filter(|n| n.message.as_str() == "announcement"
                && matches!(n.recipient, tenderflow_core::Recipient::Actor(_)))
            .count(),
        invitees.len()
    );
}

#[test]
fn obligations_on_staff_are_timed_and_flagged_when_late() {
    let wf = workflow("open-tender-prc");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    let i = run.play_until(&steps, Some("evaluated"));
    let finalized = run.tender.last_at.expect("at");
    let ob = tenderflow_core::obligations::obligations(&wf, &run.tender, finalized);
    let start = ob
        .iter()
        .find(|o| o.id == "publicity-start")
        .expect("clock started by the report");
    assert_eq!(start.due, Some(finalized.plus_seconds(3 * 86_400)));
    assert!(!start.overdue && start.met_at.is_none());
    assert!(
        ob.iter().all(|o| o.id != "objection-answer"),
        "no objection, no clock"
    );
    // Four days pass before the candidates are published: met, but late.
    let late = finalized.plus_seconds(4 * 86_400);
    assert!(tenderflow_core::obligations::obligations(&wf, &run.tender, late)[0].overdue);
    for s in &steps[i..] {
        if s.input == Input::Command(CommandBody::ProposeAward {}) {
            run.play_at(s, late).expect("propose");
            break;
        }
        run.step(s);
    }
    let ob = tenderflow_core::obligations::obligations(&wf, &run.tender, late);
    let start = ob
        .iter()
        .find(|o| o.id == "publicity-start")
        .expect("obligation");
    assert_eq!(start.met_at, Some(late));
    assert!(start.overdue, "met after its due date");
}
