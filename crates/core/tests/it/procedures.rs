//! Whole stretches of a procedure: clarifications, failures, halts, objections, conflicts of
//! interest, bid security and replaced bids.

use crate::commands::*;
use crate::support::{Run, workflow};
use serde_json::json;
use tenderflow_core::decide::RejectionCode as C;
use tenderflow_core::model::Member;
use tenderflow_core::model::{
    Amend, AnswerObjection, AppointCommittee, DeclareConflict, FinalizeEvaluation, Publish,
    RaiseIrregularity, RaiseObjection, RecordObservation, ReplaceBid, ResolveIrregularity,
    SubmitBid, SubmitScores, WithdrawBid,
};
use tenderflow_core::scenario::{INSPECTOR, STAFF, bidder_id, evaluator_id};
use tenderflow_core::{CommandBody, EventBody, Timestamp};

#[test]
fn a_late_clarification_moves_the_deadline_by_the_rule() {
    let (mut run, _, _) = at("announced");
    let deadline = run.tender.deadline.expect("deadline");
    let when = deadline.plus_seconds(-5 * 86_400);
    let amend = cmd(
        STAFF,
        "staff",
        CommandBody::Amend(Amend {
            documents: Vec::new(),
            text: "Venue changed".into(),
            affects_bids: true,
            new_deadline: None,
        }),
    );
    let events = run.exec(&amend, when).expect("amend");
    let EventBody::AmendmentPublished { deadline_after, .. } = &events[0].body else {
        panic!("{events:?}")
    };
    assert_eq!(
        *deadline_after,
        when.plus_seconds(15 * 86_400),
        "15 calendar days remain"
    );
    // A clarification that does not affect bids leaves the deadline alone.
    let note = cmd(
        STAFF,
        "staff",
        CommandBody::Amend(Amend {
            documents: Vec::new(),
            text: "Typo".into(),
            affects_bids: false,
            new_deadline: None,
        }),
    );
    let events = run.exec(&note, when.plus_seconds(60)).expect("amend");
    let EventBody::AmendmentPublished {
        deadline_before,
        deadline_after,
        ..
    } = &events[0].body
    else {
        panic!()
    };
    assert_eq!(deadline_before, deadline_after);
    // The old deadline no longer closes submission.
    assert_eq!(run.tick(deadline).expect_err("not due").code, C::TooEarly);
    run.exec(
        &cmd(
            "new-org",
            "bidder",
            CommandBody::SubmitBid(SubmitBid {
                documents: Vec::new(),
                lot: None,
                content: good_bid().into(),
            }),
        ),
        deadline,
    )
    .expect("still open");
}

#[test]
fn fewer_than_three_bids_makes_the_procedure_unsuccessful() {
    let wf = workflow("partner-recruitment");
    let params = tenderflow_core::scenario::Params {
        bidders: 2,
        ..Default::default()
    };
    let steps = tenderflow_core::scenario::script(&wf, &params);
    let mut run = Run::new(wf);
    let i = run.play_until(&steps, Some("submission_closed"));
    run.step(&steps[i]); // the opening sign-off
    run.step(&steps[i + 1]); // open bids
    assert_eq!(run.tender.state, "unsuccessful");
    assert_eq!(
        run.tender.failure.as_ref().map(|f| f.code.as_str()),
        Some("too_few_bids")
    );
    assert!(run.tender.opening.is_none(), "no opening below the minimum");
}

#[test]
fn an_irregularity_halts_everything_but_oversight_until_resolved() {
    let (mut run, steps, i) = at("submission_closed");
    let t = now(&run);
    run.exec(
        &cmd(
            INSPECTOR,
            "inspector",
            CommandBody::RaiseIrregularity(RaiseIrregularity {
                content: json!({"text": "seal damaged", "severity": "serious"}).into(),
            }),
        ),
        t,
    )
    .expect("raise");
    assert!(run.tender.halted());
    assert_eq!(
        run.play_at(&steps[i], t).expect_err("halted").code,
        C::Halted
    );
    run.exec(
        &cmd(
            INSPECTOR,
            "inspector",
            CommandBody::RecordObservation(RecordObservation {
                content: json!({"text": "checked the seals again"}).into(),
            }),
        ),
        t,
    )
    .expect("observe");
    run.exec(
        &cmd(
            INSPECTOR,
            "inspector",
            CommandBody::ResolveIrregularity(ResolveIrregularity {
                irregularity: 1,
                resolution: "seal intact on inspection".into(),
            }),
        ),
        t,
    )
    .expect("resolve");
    run.play_at(&steps[i], t).expect("sign after resolution");
    run.exec(&cmd(STAFF, "staff", CommandBody::OpenBids {}), t)
        .expect("open");
    assert_eq!(run.tender.state, "evaluation");
}

#[test]
fn an_objection_during_publicity_suspends_the_award_until_answered() {
    let (mut run, steps, i) = at("publicity");
    let t = now(&run);
    let loser = run
        .tender
        .report
        .as_ref()
        .expect("report")
        .rows
        .last()
        .expect("row")
        .bidder
        .clone();
    run.exec(
        &cmd(
            loser.as_str(),
            "bidder",
            CommandBody::RaiseObjection(RaiseObjection {
                content: json!({"subject": "scores", "grounds": "plan undervalued"}).into(),
            }),
        ),
        t,
    )
    .expect("objection");
    let tick = &steps[i];
    assert_eq!(
        run.play(tick).expect_err("suspended").code,
        C::ObjectionPending
    );
    run.exec(
        &cmd(
            STAFF,
            "staff",
            CommandBody::AnswerObjection(AnswerObjection {
                objection: 1,
                answer: "Scores re-checked; unchanged.".into(),
                upheld: false,
            }),
        ),
        tick.at,
    )
    .expect("answer");
    run.play(tick).expect("timer fires after the answer");
    assert_eq!(run.tender.state, "award_ready");
    // After publicity ends, objections are too late.
    let late = cmd(
        loser.as_str(),
        "bidder",
        CommandBody::RaiseObjection(RaiseObjection {
            content: json!({"subject": "s", "grounds": "g"}).into(),
        }),
    );
    assert_eq!(
        run.exec(&late, tick.at).expect_err("closed").code,
        C::InvalidState
    );
}

#[test]
fn a_conflict_of_interest_removes_the_member_and_blocks_finalizing_until_replaced() {
    let (mut run, steps, i) = at("evaluation");
    run.step(&steps[i]); // appoint the committee
    let t = now(&run);
    let e0 = evaluator_id(0);
    run.exec(
        &cmd(
            &e0,
            "evaluator",
            CommandBody::DeclareConflict(DeclareConflict {
                bidder: aid(&bidder_id(2)),
                reason: "worked there until 2024".into(),
            }),
        ),
        t,
    )
    .expect("declare");
    let sheet = json!({"scores": {"service_plan": 80, "capability": 80}});
    let score = cmd(
        &e0,
        "evaluator",
        CommandBody::SubmitScores(SubmitScores {
            lot: None,
            bidder: aid(&bidder_id(0)),
            sheet: sheet.into(),
            correction: None,
        }),
    );
    assert_eq!(
        run.exec(&score, t).expect_err("withdrawn").code,
        C::ConflictOfInterest
    );
    let mut members = committee(5);
    members[0] = Member {
        id: aid("expert-6"),
        expert: true,
    };
    // The withdrawn member cannot be re-appointed.
    let again = cmd(
        STAFF,
        "staff",
        CommandBody::AppointCommittee(AppointCommittee {
            members: committee(5),
            removals: Vec::new(),
            draw: None,
        }),
    );
    assert_eq!(
        run.exec(&again, t).expect_err("withdrawn").code,
        C::ConflictOfInterest
    );
    run.exec(
        &cmd(
            STAFF,
            "staff",
            CommandBody::AppointCommittee(AppointCommittee {
                members,
                removals: Vec::new(),
                draw: None,
            }),
        ),
        t,
    )
    .expect("replace");
    let fin = cmd(
        STAFF,
        "staff",
        CommandBody::FinalizeEvaluation(FinalizeEvaluation { draw_reveal: None }),
    );
    let err = run.exec(&fin, t).expect_err("no scores yet");
    assert_eq!(err.code, C::ScoresIncomplete);
    assert_eq!(
        err.details["missing"].as_array().map(Vec::len),
        Some(18 * 5)
    );
}

#[test]
fn bid_security_above_two_percent_is_refused_under_the_bidding_law() {
    let wf = workflow("open-tender-prc");
    let mut run = Run::new(wf);
    let t0 = Timestamp::parse("2026-03-02T09:00:00+08:00").expect("ts");
    run.create(&actor(STAFF, "staff"), "BL-1", t0)
        .expect("create");
    let publish = |security: i64| {
        cmd(
            STAFF,
            "staff",
            CommandBody::Publish(Publish {
                documents: Vec::new(),
                announcement: json!({"title": "Road works", "summary": "Resurfacing"}).into(),
                channels: vec!["national-platform".into()],
                deadline: t0.plus_seconds(25 * 86_400),
                lots: vec![],
                estimated_price: tenderflow_core::Money::from_minor(100_000_000),
                bid_security: tenderflow_core::Money::from_minor(security),
                invitees: vec![],
            }),
        )
    };
    assert_eq!(
        run.exec(&publish(2_000_001), t0).expect_err("3 %").code,
        C::BidSecurityTooHigh
    );
    run.exec(&publish(2_000_000), t0).expect("exactly 2 %");
}

#[test]
fn replacing_a_bid_issues_a_new_receipt_and_commitment() {
    let (mut run, _, _) = at("announced");
    let t = now(&run);
    run.exec(
        &cmd(
            "new-org",
            "bidder",
            CommandBody::SubmitBid(SubmitBid {
                documents: Vec::new(),
                lot: None,
                content: good_bid().into(),
            }),
        ),
        t,
    )
    .expect("bid");
    let first = run
        .tender
        .bids
        .values()
        .find(|b| b.content["organisation"] == "Late Org")
        .expect("bid")
        .clone();
    let mut changed = good_bid();
    changed["feeMinor"] = json!(8_000_000);
    run.exec(
        &cmd(
            "new-org",
            "bidder",
            CommandBody::ReplaceBid(ReplaceBid {
                documents: Vec::new(),
                lot: None,
                content: changed.clone().into(),
            }),
        ),
        t,
    )
    .expect("replace");
    let second = run
        .tender
        .bids
        .values()
        .find(|b| b.content["organisation"] == "Late Org")
        .expect("bid");
    assert!(second.receipt > first.receipt);
    assert_ne!(second.commitment, first.commitment);
    assert_eq!(
        second.commitment,
        tenderflow_core::canonical::sha256_hex(&changed)
    );
    run.exec(
        &cmd(
            "new-org",
            "bidder",
            CommandBody::WithdrawBid(WithdrawBid { lot: None }),
        ),
        t,
    )
    .expect("withdraw");
    assert!(
        !run.tender
            .bids
            .values()
            .any(|b| b.content["organisation"] == "Late Org")
    );
}

/// #13: a bidder asks, staff answer; the answer is public without naming who asked, a late
/// answer that affects bids moves the deadline, and late questions are refused.
#[test]
fn questions_are_answered_to_everyone_without_naming_who_asked() {
    use tenderflow_core::model::{AnswerQuestion, AskQuestion};
    let (mut run, _, _) = at("announced");
    let deadline = run.tender.deadline.expect("deadline");
    let asker = bidder_id(0);
    let asked_at = now(&run).plus_seconds(3600);
    let ask = |text: &str| {
        cmd(
            &asker,
            "bidder",
            CommandBody::AskQuestion(AskQuestion { text: text.into() }),
        )
    };
    let events = run
        .exec(&ask("May one organisation run two venues?"), asked_at)
        .expect("ask");
    assert!(matches!(
        events[0].body,
        EventBody::QuestionAsked { id: 1, .. }
    ));
    // Another bidder sees the question, not who asked; oversight sees who asked.
    let other = tenderflow_core::view(&run.wf, &run.tender, &actor(&bidder_id(1), "bidder"));
    assert_eq!(
        other["questions"][0]["text"],
        "May one organisation run two venues?"
    );
    assert!(other["questions"][0]["by"].is_null(), "{other}");
    let staff = tenderflow_core::view(&run.wf, &run.tender, &actor(STAFF, "staff"));
    assert_eq!(staff["questions"][0]["by"], asker.as_str());

    let answer = |question: u32, affects_bids: bool| {
        cmd(
            STAFF,
            "staff",
            CommandBody::AnswerQuestion(AnswerQuestion {
                documents: Vec::new(),
                question,
                answer: "Yes; describe each venue's plan separately.".into(),
                affects_bids,
            }),
        )
    };
    let late = deadline.plus_seconds(-5 * 86_400);
    assert_eq!(
        run.exec(&answer(2, false), late).expect_err("unknown").code,
        C::UnknownQuestion
    );
    let events = run.exec(&answer(1, true), late).expect("answer");
    let EventBody::QuestionAnswered { deadline_after, .. } = &events[0].body else {
        panic!("{events:?}")
    };
    assert_eq!(
        *deadline_after,
        late.plus_seconds(15 * 86_400),
        "15 days remain"
    );
    assert_eq!(run.tender.deadline, Some(*deadline_after));
    assert_eq!(
        run.exec(&answer(1, false), late).expect_err("twice").code,
        C::AlreadyAnswered
    );
    // Fewer than 15 days before the deadline, a question could not be answered in time.
    let too_late = deadline_after.plus_seconds(-10 * 86_400);
    assert_eq!(
        run.exec(&ask("And a third?"), too_late)
            .expect_err("late")
            .code,
        C::QuestionTooLate
    );
    // The OCDS release carries the enquiry and its answer, never its author.
    let history = run.history();
    let releases = tenderflow_core::ocds::releases(
        &run.wf,
        &history,
        &tenderflow_core::ocds::Options::default(),
    );
    let last = releases.last().expect("a release");
    let enquiry = &last["tender"]["enquiries"][0];
    assert_eq!(
        enquiry["answer"],
        "Yes; describe each venue's plan separately."
    );
    assert!(enquiry.get("author").is_none(), "{enquiry}");
    assert!(
        !last.to_string().contains(asker.as_str()),
        "the asker is not published"
    );
}
