//! Table-driven tests: every command in every state and role, and each business rule.

use crate::support::{Run, seed_script, workflow};
use serde_json::{Value, json};
use tenderflow_core::decide::RejectionCode as C;
use tenderflow_core::definition::CommandName;
use tenderflow_core::model::{ActorId, Member};
use tenderflow_core::scenario::{INSPECTOR, STAFF, Step, bidder_id, evaluator_id};
use tenderflow_core::{Actor, Command, CommandBody, EventBody, Timestamp, view};

fn actor(id: &str, role: &str) -> Actor {
    Actor::new(id, role).expect("actor")
}
fn cmd(id: &str, role: &str, body: CommandBody) -> Command {
    Command {
        actor: actor(id, role),
        body,
    }
}
fn aid(s: &str) -> ActorId {
    ActorId::parse(s).expect("id")
}

/// A run of the seed case stopped when the tender first enters `state`; with a trailing `+`,
/// stopped just before it leaves `state` (after everything the script does there).
fn at(state: &str) -> (Run, Vec<Step>, usize) {
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf);
    let (state, leaving) = match state.strip_suffix('+') {
        Some(s) => (s, true),
        None => (state, false),
    };
    let mut i = run.play_until(&steps, Some(state));
    if leaving {
        while i < steps.len() {
            let mut probe = Run {
                wf: run.wf.clone(),
                tender: run.tender.clone(),
                events: Vec::new(),
            };
            probe.step(&steps[i]);
            if probe.tender.state != state {
                break;
            }
            run.step(&steps[i]);
            i += 1;
        }
    }
    assert_eq!(run.tender.state, state);
    (run, steps, i)
}

fn now(run: &Run) -> Timestamp {
    run.tender.last_at.expect("started").plus_seconds(60)
}

fn good_bid() -> Value {
    json!({"organisation": "Late Org", "serviceArea": "sports_events", "servicePlan": "Weekly events",
           "freeOrDiscountedShare": 30, "feeMinor": 9_000_000})
}

fn committee(n: u32) -> Vec<Member> {
    (0..n)
        .map(|e| Member {
            id: aid(&evaluator_id(e)),
            expert: true,
        })
        .collect()
}

/// A representative command of each kind, by an actor of `role`.
fn sample(name: CommandName, role: &str, run: &Run) -> Command {
    let who = match role {
        "bidder" => bidder_id(0),
        "evaluator" => evaluator_id(0),
        "inspector" => INSPECTOR.to_owned(),
        _ => STAFF.to_owned(),
    };
    let later = now(run).plus_seconds(40 * 86_400);
    let body = match name {
        CommandName::Publish => CommandBody::Publish {
            announcement: json!({"title": "t", "summary": "s"}).into(),
            channels: vec!["union-website".into()],
            deadline: later,
            lots: vec![],
            estimated_price: None,
            bid_security: None,
            invitees: vec![],
        },
        CommandName::Amend => CommandBody::Amend {
            text: "Clarified".into(),
            affects_bids: true,
            new_deadline: None,
        },
        CommandName::SubmitBid => CommandBody::SubmitBid {
            lot: None,
            content: good_bid().into(),
        },
        CommandName::ReplaceBid => CommandBody::ReplaceBid {
            lot: None,
            content: good_bid().into(),
        },
        CommandName::WithdrawBid => CommandBody::WithdrawBid { lot: None },
        CommandName::CloseSubmission => CommandBody::CloseSubmission,
        CommandName::OpenBids => CommandBody::OpenBids,
        CommandName::AppointCommittee => CommandBody::AppointCommittee {
            members: committee(5),
            removals: Vec::new(),
        },
        CommandName::DeclareConflict => CommandBody::DeclareConflict {
            bidder: aid(&bidder_id(0)),
            reason: "former employer".into(),
        },
        CommandName::DisqualifyBid => CommandBody::DisqualifyBid {
            lot: None,
            bidder: aid(&bidder_id(0)),
            reason: "no licence".into(),
        },
        CommandName::SubmitScores => CommandBody::SubmitScores {
            lot: None,
            bidder: aid(&bidder_id(0)),
            sheet: json!({"scores": {"service_plan": 80, "capability": 70}}).into(),
        },
        CommandName::FinalizeEvaluation => CommandBody::FinalizeEvaluation { draw_reveal: None },
        CommandName::ProposeAward => CommandBody::ProposeAward,
        CommandName::Award => CommandBody::Award,
        CommandName::RaiseObjection => CommandBody::RaiseObjection {
            content: json!({"subject": "s", "grounds": "g"}).into(),
        },
        CommandName::AnswerObjection => CommandBody::AnswerObjection {
            objection: 1,
            answer: "a".into(),
            upheld: false,
        },
        CommandName::SignOff => CommandBody::SignOff {
            gate: "opening".into(),
            content: json!({"statement": "ok"}).into(),
        },
        CommandName::RecordObservation => CommandBody::RecordObservation {
            content: json!({"text": "seen"}).into(),
        },
        CommandName::RaiseIrregularity => CommandBody::RaiseIrregularity {
            content: json!({"text": "seal broken"}).into(),
        },
        CommandName::ResolveIrregularity => CommandBody::ResolveIrregularity {
            irregularity: 1,
            resolution: "r".into(),
        },
        CommandName::Cancel => CommandBody::Cancel {
            reason: "budget withdrawn".into(),
        },
    };
    cmd(&who, role, body)
}

#[test]
fn every_command_in_every_state_and_role_is_gated_by_the_definition() {
    let states = [
        "draft",
        "announced",
        "submission_closed",
        "evaluation",
        "evaluated",
        "publicity",
        "award_ready",
        "awarded",
    ];
    let mut checked = 0;
    for state in states {
        let (run, _, _) = at(state);
        let wf = run.wf.clone();
        for &name in CommandName::ALL {
            for role in ["staff", "bidder", "evaluator", "inspector"] {
                let command = sample(name, role, &run);
                let result = tenderflow_core::decide(&wf, &run.tender, &command, now(&run));
                let transition = wf.transitions_from(state).find(|t| t.command == Some(name));
                match (wf.is_terminal(state), transition) {
                    (true, _) | (false, None) => {
                        let err = result.expect_err("not allowed here");
                        // Trust #14: a bid after the deadline is late in any live state.
                        let late = !wf.is_terminal(state)
                            && matches!(
                                name,
                                CommandName::SubmitBid
                                    | CommandName::ReplaceBid
                                    | CommandName::WithdrawBid
                            )
                            && run.tender.deadline.is_some_and(|d| now(&run) >= d);
                        let want = if late { C::LateBid } else { C::InvalidState };
                        assert_eq!(err.code, want, "{state} {name} {role}: {err}");
                    }
                    (false, Some(t)) if !t.roles.iter().any(|r| r == role) => {
                        let err = result.expect_err("wrong role");
                        assert_eq!(err.code, C::WrongRole, "{state} {name} {role}: {err}");
                    }
                    (false, Some(_)) => {
                        if let Err(err) = result {
                            assert!(
                                !matches!(err.code, C::WrongRole),
                                "{state} {name} {role}: {err}"
                            );
                        }
                    }
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 8 * CommandName::ALL.len() * 4);
}

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
                CommandBody::SubmitBid {
                    lot: None,
                    content: good_bid().into(),
                },
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
                CommandBody::SubmitBid {
                    lot: None,
                    content: good_bid().into(),
                },
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
                CommandBody::SubmitBid {
                    lot: None,
                    content: json!({"organisation": "x", "serviceArea": "sports_events", "servicePlan": "p", "freeOrDiscountedShare": 10, "feeMinor": 100}).into(),
                },
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
                CommandBody::SubmitBid {
                    lot: None,
                    content: {
                        let mut b = good_bid();
                        b["extra"] = json!(1);
                        b
                    }.into(),
                },
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
                CommandBody::SubmitBid {
                    lot: Some("9".into()),
                    content: good_bid().into(),
                },
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
                CommandBody::SubmitBid {
                    lot: None,
                    content: good_bid().into(),
                },
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
                CommandBody::ReplaceBid {
                    lot: None,
                    content: good_bid().into(),
                },
            ),
            when: When::Soon,
            expect: Err(C::UnknownBid),
        },
        Row {
            name: "close before deadline",
            state: "announced",
            command: cmd(STAFF, "staff", CommandBody::CloseSubmission),
            when: When::Soon,
            expect: Err(C::TooEarly),
        },
        Row {
            name: "timer before due",
            state: "announced",
            command: Command {
                actor: Actor::system(),
                body: CommandBody::AdvanceTime,
            },
            when: When::Soon,
            expect: Err(C::TooEarly),
        },
        Row {
            name: "timer by a person",
            state: "announced",
            command: cmd(STAFF, "staff", CommandBody::AdvanceTime),
            when: When::AtDeadline,
            expect: Err(C::WrongRole),
        },
        Row {
            name: "objection too close to the deadline",
            state: "announced",
            command: cmd(
                &bidder(0),
                "bidder",
                CommandBody::RaiseObjection {
                    content: json!({"subject": "s", "grounds": "g"}).into(),
                },
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
                CommandBody::RaiseObjection {
                    content: json!({"subject": "s", "grounds": "g"}).into(),
                },
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
                CommandBody::Amend {
                    text: " ".into(),
                    affects_bids: false,
                    new_deadline: None,
                },
            ),
            when: When::Soon,
            expect: Err(C::ReasonRequired),
        },
        Row {
            name: "open without sign-off",
            state: "submission_closed",
            command: cmd(STAFF, "staff", CommandBody::OpenBids),
            when: When::Soon,
            expect: Err(C::MissingSignoff),
        },
        Row {
            name: "sign the wrong gate",
            state: "submission_closed",
            command: cmd(
                INSPECTOR,
                "inspector",
                CommandBody::SignOff {
                    gate: "award".into(),
                    content: json!({"statement": "x"}).into(),
                },
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
                CommandBody::SignOff {
                    gate: "nope".into(),
                    content: json!({"statement": "x"}).into(),
                },
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
                CommandBody::SignOff {
                    gate: "opening".into(),
                    content: json!({}).into(),
                },
            ),
            when: When::Soon,
            expect: Err(C::FormInvalid),
        },
        Row {
            name: "bidder opens",
            state: "submission_closed",
            command: cmd(&bidder(0), "bidder", CommandBody::OpenBids),
            when: When::Soon,
            expect: Err(C::WrongRole),
        },
        Row {
            name: "even committee",
            state: "submission_closed",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::AppointCommittee {
                    members: committee(4),
                    removals: Vec::new(),
                },
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
                CommandBody::AppointCommittee {
                    members: committee(3),
                    removals: Vec::new(),
                },
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
                CommandBody::AppointCommittee {
                    members: {
                        let mut c = committee(4);
                        c.push(Member {
                            id: aid(&bidder(3)),
                            expert: true,
                        });
                        c
                    },
                    removals: Vec::new(),
                },
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
                CommandBody::SubmitScores {
                    lot: None,
                    bidder: aid(&bidder(0)),
                    sheet: json!({"scores": {"service_plan": 1, "capability": 1}}).into(),
                },
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
                CommandBody::SubmitScores {
                    lot: None,
                    bidder: aid(&bidder(0)),
                    sheet: json!({"scores": {"service_plan": 101, "capability": 1}}).into(),
                },
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
                CommandBody::SubmitScores {
                    lot: None,
                    bidder: aid("nobody"),
                    sheet: json!({"scores": {"service_plan": 1, "capability": 1}}).into(),
                },
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
                CommandBody::FinalizeEvaluation { draw_reveal: None },
            ),
            when: When::Soon,
            expect: Err(C::CommitteeInvalid),
        },
        Row {
            name: "propose without report sign-off",
            state: "evaluated",
            command: cmd(STAFF, "staff", CommandBody::ProposeAward),
            when: When::Soon,
            expect: Err(C::MissingSignoff),
        },
        Row {
            name: "award without sign-off",
            state: "award_ready",
            command: cmd(STAFF, "staff", CommandBody::Award),
            when: When::Soon,
            expect: Err(C::MissingSignoff),
        },
        Row {
            name: "cancel without reason",
            state: "evaluation",
            command: cmd(STAFF, "staff", CommandBody::Cancel { reason: "".into() }),
            when: When::Soon,
            expect: Err(C::ReasonRequired),
        },
        Row {
            name: "cancel",
            state: "evaluation",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::Cancel {
                    reason: "funds withdrawn".into(),
                },
            ),
            when: When::Soon,
            expect: Ok("cancelled"),
        },
        Row {
            name: "nothing after the award",
            state: "awarded",
            command: cmd(STAFF, "staff", CommandBody::Cancel { reason: "x".into() }),
            when: When::Soon,
            expect: Err(C::InvalidState),
        },
        Row {
            name: "create twice",
            state: "draft",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::CreateDraft {
                    tender_id: "again".into(),
                },
            ),
            when: When::Soon,
            expect: Err(C::AlreadyExists),
        },
        Row {
            name: "publish too short",
            state: "draft",
            command: cmd(
                STAFF,
                "staff",
                CommandBody::Publish {
                    announcement: json!({"title": "t", "summary": "s"}).into(),
                    channels: vec!["web".into()],
                    deadline: Timestamp::parse("2026-01-10T00:00:00Z").expect("ts"),
                    lots: vec![],
                    estimated_price: None,
                    bid_security: None, invitees: vec![] },
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
                CommandBody::Publish {
                    announcement: json!({"title": "t", "summary": "s"}).into(),
                    channels: vec![],
                    deadline: Timestamp::parse("2026-03-10T00:00:00Z").expect("ts"),
                    lots: vec![],
                    estimated_price: None,
                    bid_security: None, invitees: vec![] },
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

#[test]
fn a_late_clarification_moves_the_deadline_by_the_rule() {
    let (mut run, _, _) = at("announced");
    let deadline = run.tender.deadline.expect("deadline");
    let when = deadline.plus_seconds(-5 * 86_400);
    let amend = cmd(
        STAFF,
        "staff",
        CommandBody::Amend {
            text: "Venue changed".into(),
            affects_bids: true,
            new_deadline: None,
        },
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
        CommandBody::Amend {
            text: "Typo".into(),
            affects_bids: false,
            new_deadline: None,
        },
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
    let tick = Command {
        actor: Actor::system(),
        body: CommandBody::AdvanceTime,
    };
    assert_eq!(
        run.exec(&tick, deadline).expect_err("not due").code,
        C::TooEarly
    );
    run.exec(
        &cmd(
            "new-org",
            "bidder",
            CommandBody::SubmitBid {
                lot: None,
                content: good_bid().into(),
            },
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
        run.tender.failure.as_ref().map(|f| f.0.as_str()),
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
            CommandBody::RaiseIrregularity {
                content: json!({"text": "seal damaged", "severity": "serious"}).into(),
            },
        ),
        t,
    )
    .expect("raise");
    assert!(run.tender.halted());
    let sign = &steps[i].command;
    assert_eq!(run.exec(sign, t).expect_err("halted").code, C::Halted);
    run.exec(
        &cmd(
            INSPECTOR,
            "inspector",
            CommandBody::RecordObservation {
                content: json!({"text": "checked the seals again"}).into(),
            },
        ),
        t,
    )
    .expect("observe");
    run.exec(
        &cmd(
            INSPECTOR,
            "inspector",
            CommandBody::ResolveIrregularity {
                irregularity: 1,
                resolution: "seal intact on inspection".into(),
            },
        ),
        t,
    )
    .expect("resolve");
    run.exec(sign, t).expect("sign after resolution");
    run.exec(&cmd(STAFF, "staff", CommandBody::OpenBids), t)
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
            CommandBody::RaiseObjection {
                content: json!({"subject": "scores", "grounds": "plan undervalued"}).into(),
            },
        ),
        t,
    )
    .expect("objection");
    let tick = &steps[i];
    assert_eq!(
        run.exec(&tick.command, tick.at)
            .expect_err("suspended")
            .code,
        C::ObjectionPending
    );
    run.exec(
        &cmd(
            STAFF,
            "staff",
            CommandBody::AnswerObjection {
                objection: 1,
                answer: "Scores re-checked; unchanged.".into(),
                upheld: false,
            },
        ),
        tick.at,
    )
    .expect("answer");
    run.exec(&tick.command, tick.at)
        .expect("timer fires after the answer");
    assert_eq!(run.tender.state, "award_ready");
    // After publicity ends, objections are too late.
    let late = cmd(
        loser.as_str(),
        "bidder",
        CommandBody::RaiseObjection {
            content: json!({"subject": "s", "grounds": "g"}).into(),
        },
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
            CommandBody::DeclareConflict {
                bidder: aid(&bidder_id(2)),
                reason: "worked there until 2024".into(),
            },
        ),
        t,
    )
    .expect("declare");
    let sheet = json!({"scores": {"service_plan": 80, "capability": 80}});
    let score = cmd(
        &e0,
        "evaluator",
        CommandBody::SubmitScores {
            lot: None,
            bidder: aid(&bidder_id(0)),
            sheet: sheet.into(),
        },
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
        CommandBody::AppointCommittee {
            members: committee(5),
            removals: Vec::new(),
        },
    );
    assert_eq!(
        run.exec(&again, t).expect_err("withdrawn").code,
        C::ConflictOfInterest
    );
    run.exec(
        &cmd(
            STAFF,
            "staff",
            CommandBody::AppointCommittee {
                members,
                removals: Vec::new(),
            },
        ),
        t,
    )
    .expect("replace");
    let fin = cmd(
        STAFF,
        "staff",
        CommandBody::FinalizeEvaluation { draw_reveal: None },
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
    run.exec(
        &cmd(
            STAFF,
            "staff",
            CommandBody::CreateDraft {
                tender_id: "BL-1".into(),
            },
        ),
        t0,
    )
    .expect("create");
    let publish = |security: i64| {
        cmd(
            STAFF,
            "staff",
            CommandBody::Publish {
                announcement: json!({"title": "Road works", "summary": "Resurfacing"}).into(),
                channels: vec!["national-platform".into()],
                deadline: t0.plus_seconds(25 * 86_400),
                lots: vec![],
                estimated_price: tenderflow_core::Money::from_minor(100_000_000),
                bid_security: tenderflow_core::Money::from_minor(security),
                invitees: vec![],
            },
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
            CommandBody::SubmitBid {
                lot: None,
                content: good_bid().into(),
            },
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
            CommandBody::ReplaceBid {
                lot: None,
                content: changed.clone().into(),
            },
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
        &cmd("new-org", "bidder", CommandBody::WithdrawBid { lot: None }),
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
    let propose = cmd(STAFF, "staff", CommandBody::ProposeAward);
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
        CommandBody::SignOff {
            gate: "committee_report".into(),
            content: json!({"statement": "x"}).into(),
        },
    );
    assert_eq!(
        run.exec(&by_inspector, t).expect_err("not a signer").code,
        C::WrongRole
    );
    let outsider = cmd(
        "expert-99",
        "evaluator",
        CommandBody::SignOff {
            gate: "committee_report".into(),
            content: json!({"statement": "x"}).into(),
        },
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
    let CommandBody::Publish {
        announcement,
        channels,
        deadline,
        invitees,
        ..
    } = &steps[1].command.body
    else {
        panic!()
    };
    let publish = |invitees: Vec<ActorId>| {
        cmd(
            STAFF,
            "staff",
            CommandBody::Publish {
                announcement: announcement.clone(),
                channels: channels.clone(),
                deadline: *deadline,
                lots: vec![],
                estimated_price: None,
                bid_security: None,
                invitees,
            },
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
        CommandBody::SubmitBid {
            lot: None,
            content: json!({"organisation": "x", "priceMinor": 100, "technicalProposal": "p"})
                .into(),
        },
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
        if matches!(s.command.body, CommandBody::ProposeAward) {
            run.exec(&s.command, late).expect("propose");
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
