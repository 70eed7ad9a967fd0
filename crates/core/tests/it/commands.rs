//! Table-driven tests: every command in every state and role, and each business rule.

use crate::support::{Run, seed_script, workflow};
use serde_json::{Value, json};
use tenderflow_core::decide::RejectionCode as C;
use tenderflow_core::definition::CommandName;
use tenderflow_core::model::{ActorId, AnswerQuestion, AskQuestion, Member};
use tenderflow_core::model::{
    Amend, AnswerObjection, AppointCommittee, Cancel, DeclareConflict, DisqualifyBid,
    FinalizeEvaluation, Publish, RaiseIrregularity, RaiseObjection, RecordObservation, ReplaceBid,
    ResolveIrregularity, SignOff, SubmitBid, SubmitScores, WithdrawBid,
};
use tenderflow_core::model::{
    Body, Delegate, DraftAgreement, EvaluatePerformance, ReportDelivery, ReviewDelivery,
    SignAgreement, TerminateAgreement,
};
use tenderflow_core::scenario::{INSPECTOR, STAFF, Step, bidder_id, evaluator_id};
use tenderflow_core::{Actor, Command, CommandBody, Timestamp};

pub(crate) fn actor(id: &str, role: &str) -> Actor {
    Actor::new(id, role).expect("actor")
}
pub(crate) fn cmd(id: &str, role: &str, body: CommandBody) -> Command {
    Command {
        actor: actor(id, role),
        body,
    }
}
pub(crate) fn aid(s: &str) -> ActorId {
    ActorId::parse(s).expect("id")
}

/// A run of the seed case stopped when the tender first enters `state`; with a trailing `+`,
/// stopped just before it leaves `state` (after everything the script does there).
pub(crate) fn at(state: &str) -> (Run, Vec<Step>, usize) {
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

pub(crate) fn now(run: &Run) -> Timestamp {
    run.tender.last_at.expect("started").plus_seconds(60)
}

pub(crate) fn good_bid() -> Value {
    json!({"organisation": "Late Org", "serviceArea": "sports_events", "servicePlan": "Weekly events",
           "freeOrDiscountedShare": 30, "feeMinor": 9_000_000})
}

pub(crate) fn committee(n: u32) -> Vec<Member> {
    (0..n)
        .map(|e| Member {
            id: aid(&evaluator_id(e)),
            expert: true,
        })
        .collect()
}

/// A representative command of each kind, by an actor of `role`.
pub(crate) fn sample(name: CommandName, role: &str, run: &Run) -> Command {
    let who = match role {
        "bidder" => bidder_id(0),
        "evaluator" => evaluator_id(0),
        "inspector" => INSPECTOR.to_owned(),
        _ => STAFF.to_owned(),
    };
    let later = now(run).plus_seconds(40 * 86_400);
    let body = match name {
        CommandName::Publish => CommandBody::Publish(Publish {
            documents: Vec::new(),
            announcement: json!({"title": "t", "summary": "s"}).into(),
            channels: vec!["union-website".into()],
            deadline: later,
            lots: vec![],
            estimated_price: None,
            bid_security: None,
            invitees: vec![],
        }),
        CommandName::Amend => CommandBody::Amend(Amend {
            documents: Vec::new(),
            text: "Clarified".into(),
            affects_bids: true,
            new_deadline: None,
        }),
        CommandName::AskQuestion => CommandBody::AskQuestion(AskQuestion {
            text: "May one organisation offer two venues?".into(),
        }),
        CommandName::AnswerQuestion => CommandBody::AnswerQuestion(AnswerQuestion {
            documents: Vec::new(),
            question: 1,
            answer: "Yes.".into(),
            affects_bids: false,
        }),
        CommandName::SubmitBid => CommandBody::SubmitBid(SubmitBid {
            documents: Vec::new(),
            lot: None,
            content: good_bid().into(),
        }),
        CommandName::ReplaceBid => CommandBody::ReplaceBid(ReplaceBid {
            documents: Vec::new(),
            lot: None,
            content: good_bid().into(),
        }),
        CommandName::WithdrawBid => CommandBody::WithdrawBid(WithdrawBid { lot: None }),
        CommandName::CloseSubmission => CommandBody::CloseSubmission {},
        CommandName::OpenBids => CommandBody::OpenBids {},
        CommandName::AppointCommittee => CommandBody::AppointCommittee(AppointCommittee {
            members: committee(5),
            removals: Vec::new(),
            draw: None,
        }),
        CommandName::DeclareConflict => CommandBody::DeclareConflict(DeclareConflict {
            bidder: aid(&bidder_id(0)),
            reason: "former employer".into(),
        }),
        CommandName::DisqualifyBid => CommandBody::DisqualifyBid(DisqualifyBid {
            lot: None,
            bidder: aid(&bidder_id(0)),
            reason: "no licence".into(),
        }),
        CommandName::SubmitScores => CommandBody::SubmitScores(SubmitScores {
            lot: None,
            bidder: aid(&bidder_id(0)),
            sheet: json!({"scores": {"service_plan": 80, "capability": 70}}).into(),
            correction: None,
        }),
        CommandName::FinalizeEvaluation => {
            CommandBody::FinalizeEvaluation(FinalizeEvaluation { draw_reveal: None })
        }
        CommandName::ProposeAward => CommandBody::ProposeAward {},
        CommandName::Award => CommandBody::Award {},
        CommandName::RaiseObjection => CommandBody::RaiseObjection(RaiseObjection {
            content: json!({"subject": "s", "grounds": "g"}).into(),
        }),
        CommandName::AnswerObjection => CommandBody::AnswerObjection(AnswerObjection {
            objection: 1,
            answer: "a".into(),
            upheld: false,
        }),
        CommandName::SignOff => CommandBody::SignOff(SignOff {
            gate: "opening".into(),
            partner: None,
            content: json!({"statement": "ok"}).into(),
        }),
        CommandName::RecordObservation => CommandBody::RecordObservation(RecordObservation {
            content: json!({"text": "seen"}).into(),
        }),
        CommandName::RaiseIrregularity => CommandBody::RaiseIrregularity(RaiseIrregularity {
            content: json!({"text": "seal broken"}).into(),
        }),
        CommandName::ResolveIrregularity => CommandBody::ResolveIrregularity(ResolveIrregularity {
            irregularity: 1,
            resolution: "r".into(),
        }),
        CommandName::Cancel => CommandBody::Cancel(Cancel {
            reason: "budget withdrawn".into(),
        }),
        CommandName::DraftAgreement => CommandBody::DraftAgreement(DraftAgreement {
            partner: aid(&bidder_id(0)),
            terms: json!({"venue": "v"}).into(),
        }),
        CommandName::SignAgreement => CommandBody::SignAgreement(SignAgreement {
            partner: aid(&bidder_id(0)),
        }),
        CommandName::ReportDelivery => CommandBody::ReportDelivery(ReportDelivery {
            partner: aid(&bidder_id(0)),
            report: json!({"date": "2026-04-02"}).into(),
        }),
        CommandName::ReviewDelivery => CommandBody::ReviewDelivery(ReviewDelivery {
            partner: aid(&bidder_id(0)),
            report: 1,
            verified: true,
            note: String::new(),
        }),
        CommandName::EvaluatePerformance => CommandBody::EvaluatePerformance(EvaluatePerformance {
            partner: aid(&bidder_id(0)),
            scores: Default::default(),
            note: String::new(),
        }),
        CommandName::TerminateAgreement => CommandBody::TerminateAgreement(TerminateAgreement {
            partner: aid(&bidder_id(0)),
            reason: "r".into(),
        }),
        CommandName::Delegate => CommandBody::Delegate(Delegate {
            delegated_by: Body {
                id: "CN-county".into(),
                name: "County union".into(),
            },
            delegate: Body {
                id: "CN-town".into(),
                name: "Town union".into(),
            },
            scope: "Recruitment for the town's venue".into(),
            overseers: vec![aid("county-inspector")],
        }),
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
                // Commands of the stage after the award live on in the awarded state.
                let ended = wf.is_terminal(state) && !(name.after_award() && transition.is_some());
                match (ended, transition) {
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

#[test]
fn commands_refuse_unknown_fields_with_or_without_fields_of_their_own() {
    use tenderflow_core::CommandBody;
    for ok in [
        r#"{"command": "award"}"#,
        r#"{"command": "open_bids"}"#,
        r#"{"command": "close_submission"}"#,
        r#"{"command": "propose_award"}"#,
        r#"{"command": "withdraw_bid"}"#,
    ] {
        serde_json::from_str::<CommandBody>(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in [
        r#"{"command": "award", "winners": ["org-01"]}"#,
        r#"{"command": "open_bids", "extra": 1}"#,
        r#"{"command": "close_submission", "at": "now"}"#,
        r#"{"command": "propose_award", "x": null}"#,
        r#"{"command": "withdraw_bid", "bid": 3}"#,
    ] {
        let e = serde_json::from_str::<CommandBody>(bad).expect_err(bad);
        assert!(e.to_string().contains("unknown field"), "{bad}: {e}");
    }
}

/// A bid recorded before commitments named their recipe (no `commitmentRecipe` in its event)
/// is V1 and still verifies by it; a new bid's commitment is RFC 8785's.
#[test]
fn commitments_verify_by_the_recipe_they_were_made_with() {
    use tenderflow_core::canonical::Recipe;
    use tenderflow_core::decide::bid_commitment;
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf);
    let first_bid = steps
        .iter()
        .position(|s| {
            s.command()
                .is_some_and(|c| matches!(c.body, CommandBody::SubmitBid(_)))
        })
        .expect("a bid");
    for s in &steps[..=first_bid] {
        run.step(s);
    }
    let (_, event) = run.history().pop().expect("the bid's event");
    let mut json = serde_json::to_value(&event).expect("json");
    assert_eq!(json["commitmentRecipe"], "jcs", "{json}");
    let content = json["content"].clone();
    assert_eq!(
        json["commitment"],
        Recipe::Jcs.sha256_hex(&content),
        "new commitments are RFC 8785's"
    );
    // As recorded before recipes: no recipe, the V1 hash.
    json.as_object_mut()
        .expect("event")
        .remove("commitmentRecipe");
    json["commitment"] = Recipe::V1.sha256_hex(&content).into();
    let old: tenderflow_core::Event = serde_json::from_value(json).expect("an old event reads");
    let tender = tenderflow_core::apply(tenderflow_core::Tender::default(), &old);
    let bid = tender.bids.values().next().expect("the bid");
    assert_eq!(bid.commitment_recipe, Recipe::V1);
    assert_eq!(
        bid_commitment(&bid.content, &bid.documents, bid.commitment_recipe),
        bid.commitment
    );
}
