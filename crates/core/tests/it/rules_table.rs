//! The business rules as a table: each row a command in a state, and what the engine says.

use crate::commands::*;
use serde_json::json;
use tenderflow_core::decide::RejectionCode as C;
use tenderflow_core::model::Member;
use tenderflow_core::model::{
    Amend, AppointCommittee, Cancel, FinalizeEvaluation, Publish, RaiseObjection, ReplaceBid,
    SignOff, SubmitBid, SubmitScores,
};
use tenderflow_core::scenario::{INSPECTOR, STAFF, bidder_id, evaluator_id};
use tenderflow_core::{Command, CommandBody, Timestamp};

/// One row: the state to start from, a command, and the expected outcome.
struct Row {
    name: &'static str,
    state: &'static str,
    command: Command,
    /// Seconds after the last event (negative: before the deadline by that much, see `when`).
    when: When,
    expect: Result<&'static str, C>,
}

enum When {
    Soon,
    AtDeadline,
    BeforeDeadline(i64),
}

#[test]
fn business_rules_table() {
    let bidder = |i: u32| bidder_id(i);
    let rows = vec![
        Row {
            name: "bid accepted",
            state: "announced",
            command: cmd(
                "new-org",
                "bidder",
                CommandBody::SubmitBid(SubmitBid { documents: Vec::new(),
                    lot: None,
                    content: good_bid().into(),
                }),
            ),
            when: When::Soon,
            expect: Ok("announced"),
        },
        Row {
            name: "late bid",
            state: "announced",
            command: cmd(
                "new-org",
                "bidder",
                CommandBody::SubmitBid(SubmitBid { documents: Vec::new(),
                    lot: None,
                    content: good_bid().into(),
                }),
            ),
            when: When::AtDeadline,
            expect: Err(C::LateBid),
        },
        Row {
            name: "bid below 20 % share",
            state: "announced",
            command: cmd(
                "new-org",
                "bidder",
                CommandBody::SubmitBid(SubmitBid { documents: Vec::new(),
                    lot: None,
                    content: json!({"organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 10, "feeMinor": 100}).into(),
                }),
            ),
            when: When::Soon,
            expect: Err(C::FormInvalid),
        },
        Row {
            name: "unknown bid field",
            state: "announced",
            command: cmd(
                "new-org",
                "bidder",
                CommandBody::SubmitBid(SubmitBid { documents: Vec::new(),
                    lot: None,
                    content: {
                        let mut b = good_bid();
                        b["extra"] = json!(1);
                        b
                    }.into(),
                }),
            ),
            when: When::Soon,
            expect: Err(C::FormInvalid),
        },
        Row {
            name: "unknown lot",
            state: "announced",
            command: cmd(
                "new-org",
                "bidder",
                CommandBody::SubmitBid(SubmitBid { documents: Vec::new(),
                    lot: Some("9".into()),
                    content: good_bid().into(),
                }),
            ),
            when: When::Soon,
            expect: Err(C::UnknownLot),
        },
        Row {
            name: "second bid",
            state: "announced+",
            command: cmd(
                &bidder(0),
                "bidder",
                CommandBody::SubmitBid(SubmitBid { documents: Vec::new(),
                    lot: None,
                    content: good_bid().into(),
                }),
            ),
            when: When::BeforeDeadline(3600),
            expect: Err(C::DuplicateBid),
        },
        Row {
            name: "replace without bid",
            state: "announced",
            command: cmd(
                "new-org",
                "bidder",
                CommandBody::ReplaceBid(ReplaceBid { documents: Vec::new(),
                    lot: None,
                    content: good_bid().into(),
                }),
            ),
            when: When::Soon,
            expect: Err(C::UnknownBid),
        },
        Row {
            name: "close before deadline",
            state: "announced",
            command: cmd(STAFF, "staff", CommandBody::CloseSubmission {}),
            when: When::Soon,
            expect: Err(C::TooEarly),
        },
        Row {
            name: "objection too close to the deadline",
            state: "announced",
            command: cmd(
                &bidder(0),
                "bidder",
                CommandBody::RaiseObjection(RaiseObjection {
                    content: json!({"subject": "s", "grounds": "g"}).into(),
                }),
            ),
            when: When::BeforeDeadline(5 * 86_400),
            expect: Err(C::ObjectionTooLate),
        },
        Row {
            name: "objection in time",
            state: "announced",
            command: cmd(
                &bidder(0),
                "bidder",
                CommandBody::RaiseObjection(RaiseObjection {
                    content: json!({"subject": "s", "grounds": "g"}).into(),
                }),
            ),
            when: When::Soon,
            expect: Ok("announced"),
        },
        Row {
            name: "amend without text",
            state: "announced",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::Amend(Amend { documents: Vec::new(),
                    text: " ".into(),
                    affects_bids: false,
                    new_deadline: None,
                }),
            ),
            when: When::Soon,
            expect: Err(C::ReasonRequired),
        },
        Row {
            name: "open without sign-off",
            state: "submission_closed",
            command: cmd(STAFF, "staff", CommandBody::OpenBids {}),
            when: When::Soon,
            expect: Err(C::MissingSignoff),
        },
        Row {
            name: "sign the wrong gate",
            state: "submission_closed",
            command: cmd(
                INSPECTOR,
                "inspector",
                CommandBody::SignOff(SignOff {
                    gate: "award".into(),
                    partner: None,
                    content: json!({"statement": "x"}).into(),
                }),
            ),
            when: When::Soon,
            expect: Err(C::InvalidState),
        },
        Row {
            name: "sign an unknown gate",
            state: "submission_closed",
            command: cmd(
                INSPECTOR,
                "inspector",
                CommandBody::SignOff(SignOff {
                    gate: "nope".into(),
                    partner: None,
                    content: json!({"statement": "x"}).into(),
                }),
            ),
            when: When::Soon,
            expect: Err(C::UnknownGate),
        },
        Row {
            name: "sign-off breaking its form",
            state: "submission_closed",
            command: cmd(
                INSPECTOR,
                "inspector",
                CommandBody::SignOff(SignOff {
                    gate: "opening".into(),
                    partner: None,
                    content: json!({}).into(),
                }),
            ),
            when: When::Soon,
            expect: Err(C::FormInvalid),
        },
        Row {
            name: "bidder opens",
            state: "submission_closed",
            command: cmd(&bidder(0), "bidder", CommandBody::OpenBids {}),
            when: When::Soon,
            expect: Err(C::WrongRole),
        },
        Row {
            name: "even committee",
            state: "submission_closed",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::AppointCommittee(AppointCommittee {
                    members: committee(4),
                    removals: Vec::new(),
                    draw: None,
                }),
            ),
            when: When::Soon,
            expect: Err(C::CommitteeInvalid),
        },
        Row {
            name: "small committee",
            state: "submission_closed",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::AppointCommittee(AppointCommittee {
                    members: committee(3),
                    removals: Vec::new(),
                    draw: None,
                }),
            ),
            when: When::Soon,
            expect: Err(C::CommitteeInvalid),
        },
        Row {
            name: "bidder on committee",
            state: "submission_closed",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::AppointCommittee(AppointCommittee {
                    members: {
                        let mut c = committee(4);
                        c.push(Member {
                            id: aid(&bidder(3)),
                            expert: true,
                        });
                        c
                    },
                    removals: Vec::new(),
                    draw: None,
                }),
            ),
            when: When::Soon,
            expect: Err(C::ConflictOfInterest),
        },
        Row {
            name: "outsider scores",
            state: "evaluation+",
            command: cmd(
                "expert-99",
                "evaluator",
                CommandBody::SubmitScores(SubmitScores {
                    lot: None,
                    bidder: aid(&bidder(0)),
                    sheet: json!({"scores": {"service_plan": 1, "capability": 1}}).into(),
                    correction: None,
                }),
            ),
            when: When::Soon,
            expect: Err(C::NotCommitteeMember),
        },
        Row {
            name: "score over 100",
            state: "evaluation+",
            command: cmd(
                &evaluator_id(0),
                "evaluator",
                CommandBody::SubmitScores(SubmitScores {
                    lot: None,
                    bidder: aid(&bidder(0)),
                    sheet: json!({"scores": {"service_plan": 101, "capability": 1}}).into(),
                    correction: None,
                }),
            ),
            when: When::Soon,
            expect: Err(C::FormInvalid),
        },
        Row {
            name: "score for no bid",
            state: "evaluation+",
            command: cmd(
                &evaluator_id(0),
                "evaluator",
                CommandBody::SubmitScores(SubmitScores {
                    lot: None,
                    bidder: aid("nobody"),
                    sheet: json!({"scores": {"service_plan": 1, "capability": 1}}).into(),
                    correction: None,
                }),
            ),
            when: When::Soon,
            expect: Err(C::UnknownBid),
        },
        Row {
            name: "finalize without scores",
            state: "evaluation",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::FinalizeEvaluation(FinalizeEvaluation { draw_reveal: None }),
            ),
            when: When::Soon,
            expect: Err(C::CommitteeInvalid),
        },
        Row {
            name: "propose without report sign-off",
            state: "evaluated",
            command: cmd(STAFF, "staff", CommandBody::ProposeAward {}),
            when: When::Soon,
            expect: Err(C::MissingSignoff),
        },
        Row {
            name: "award without sign-off",
            state: "award_ready",
            command: cmd(STAFF, "staff", CommandBody::Award {}),
            when: When::Soon,
            expect: Err(C::MissingSignoff),
        },
        Row {
            name: "cancel without reason",
            state: "evaluation",
            command: cmd(STAFF, "staff", CommandBody::Cancel(Cancel { reason: "".into() })),
            when: When::Soon,
            expect: Err(C::ReasonRequired),
        },
        Row {
            name: "cancel",
            state: "evaluation",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::Cancel(Cancel {
                    reason: "funds withdrawn".into(),
                }),
            ),
            when: When::Soon,
            expect: Ok("cancelled"),
        },
        Row {
            name: "nothing after the award",
            state: "awarded",
            command: cmd(STAFF, "staff", CommandBody::Cancel(Cancel { reason: "x".into() })),
            when: When::Soon,
            expect: Err(C::InvalidState),
        },
        Row {
            name: "publish too short",
            state: "draft",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::Publish(Publish { documents: Vec::new(),
                    announcement: json!({"title": "t", "summary": "s"}).into(),
                    channels: vec!["web".into()],
                    deadline: Timestamp::parse("2026-01-10T00:00:00Z").expect("ts"),
                    lots: vec![],
                    estimated_price: None,
                    bid_security: None, invitees: vec![] }),
            ),
            when: When::Soon,
            expect: Err(C::ScheduleViolation),
        },
        Row {
            name: "publish without channel",
            state: "draft",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::Publish(Publish { documents: Vec::new(),
                    announcement: json!({"title": "t", "summary": "s"}).into(),
                    channels: vec![],
                    deadline: Timestamp::parse("2026-03-10T00:00:00Z").expect("ts"),
                    lots: vec![],
                    estimated_price: None,
                    bid_security: None, invitees: vec![] }),
            ),
            when: When::Soon,
            expect: Err(C::InvalidInput),
        },
    ];
    for row in rows {
        let (mut run, _, _) = at(row.state);
        let deadline = run.tender.deadline;
        let when = match row.when {
            When::Soon => now(&run),
            When::AtDeadline => deadline.expect("deadline"),
            When::BeforeDeadline(s) => deadline.expect("deadline").plus_seconds(-s),
        };
        let before = run.tender.clone();
        let result = run.exec(&row.command, when);
        match (row.expect, result) {
            (Ok(state), Ok(_)) => assert_eq!(
                run.tender.state,
                state.trim_end_matches('+'),
                "{}",
                row.name
            ),
            (Err(code), Err(r)) => {
                assert_eq!(r.code, code, "{}: {r}", row.name);
                assert!(!r.message.is_empty());
                assert_eq!(
                    run.tender, before,
                    "{}: a rejection changes nothing",
                    row.name
                );
            }
            (want, got) => panic!("{}: expected {want:?}, got {got:?}", row.name),
        }
    }
}

/// The clock and creation are not commands (nobody can send them), but they follow the
/// same rules: a timer before it is due and a second creation are refused, changing nothing.
#[test]
fn an_early_timer_and_a_second_creation_are_refused() {
    let (mut run, _, _) = at("announced");
    let before = run.tender.clone();
    let soon = now(&run);
    assert_eq!(run.tick(soon).expect_err("early").code, C::TooEarly);
    let deadline = run.tender.deadline.expect("deadline");
    assert_eq!(
        run.tick(deadline.plus_seconds(-1)).expect_err("early").code,
        C::TooEarly
    );
    assert_eq!(
        run.create(&actor(STAFF, "staff"), "again", soon)
            .expect_err("exists")
            .code,
        C::AlreadyExists
    );
    assert_eq!(run.tender, before);
    run.tick(deadline).expect("due at the deadline");
    assert_ne!(run.tender.state, before.state);
}
