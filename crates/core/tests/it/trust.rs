//! Regression tests of the trust issue's core items, named after their numbers.

use crate::support::{Run, seed_script, workflow};
use serde_json::json;
use tenderflow_core::model::{AppointCommittee, FinalizeEvaluation, RecordObservation, SubmitBid};
use tenderflow_core::scenario::Input;
use tenderflow_core::{Actor, Command, CommandBody, EventBody, RejectionCode as C};

fn bidder(id: &str) -> Actor {
    Actor::new(id, "bidder").expect("actor")
}

fn bid(share: serde_json::Value, fee: serde_json::Value) -> CommandBody {
    CommandBody::SubmitBid(SubmitBid { documents: Vec::new(),
        lot: None,
        content: json!({"organisation": "Org", "serviceArea": "sports_events", "servicePlan": "Weekly events",
                        "freeOrDiscountedShare": share, "feeMinor": fee})
        .into(),
    })
}

/// An announced partner-recruitment tender, a minute after publication.
fn announced() -> (Run, tenderflow_core::Timestamp) {
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf);
    run.step(&steps[0]);
    run.step(&steps[1]);
    let at = steps[1].at.plus_seconds(60);
    (run, at)
}

/// Trust #19: a figure scoring reads must be exact (never counted as 0 later), money is
/// never negative, and a score with more decimals than the fixed point holds is refused.
#[test]
fn trust_19_money_and_figures_are_exact_and_never_negative() {
    let (mut run, at) = announced();
    for (share, fee) in [
        (json!(20.123456), json!(9_000_000)),
        (json!(-30), json!(9_000_000)),
        (json!(30), json!(-150)),
        (json!(30), json!(90.5)),
    ] {
        let cmd = Command {
            actor: bidder("org-a"),
            body: bid(share.clone(), fee.clone()),
        };
        let err = run.exec(&cmd, at).expect_err("refused");
        assert!(matches!(err.code, C::FormInvalid), "{share} {fee}: {err}");
    }
    let ok = Command {
        actor: bidder("org-a"),
        body: bid(json!(30.25), json!(9_000_000)),
    };
    run.exec(&ok, at).expect("an exact figure is accepted");
    // A negative bid security never deserialises.
    let publish = json!({"command": "publish", "announcement": {"title": "t", "summary": "s"},
                         "channels": ["union-website"], "deadline": "2027-03-01T10:00:00+08:00",
                         "bidSecurity": -150});
    let err = serde_json::from_value::<CommandBody>(publish.clone()).expect_err("negative");
    assert!(err.to_string().contains("never negative"), "{err}");
    let mut positive = publish;
    positive["bidSecurity"] = json!(150);
    serde_json::from_value::<CommandBody>(positive).expect("a positive security parses");
    assert_eq!(
        tenderflow_core::Score::from_json(&json!(90.123456)),
        None,
        "a score is never silently rounded"
    );
}

/// Trust #14: a bid after the deadline is `late_bid` with the deadline, also once the
/// deadline's timer has moved the tender on.
#[test]
fn trust_14_a_bid_after_the_fired_deadline_is_late() {
    let (mut run, _) = announced();
    let deadline = run.tender.deadline.expect("deadline");
    run.tick(deadline.plus_seconds(1)).expect("timer");
    assert_ne!(run.tender.state, "announced");
    let late = Command {
        actor: bidder("org-z"),
        body: bid(json!(30), json!(100)),
    };
    let err = run.exec(&late, deadline.plus_seconds(5)).expect_err("late");
    assert_eq!(err.code, C::LateBid, "{err}");
    assert_eq!(err.details["deadline"], json!(deadline));
}

/// Trust #11: staff cannot choose the tie-break seed: it comes from the sealed bids'
/// commitments and a value the inspector committed to at opening and reveals at
/// finalisation; the report says how to recompute it, and the recomputation agrees.
#[test]
fn trust_11_the_draw_is_fixed_before_the_ranking_and_verifiable() {
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let fin = steps
        .iter()
        .position(|s| matches!(s.input, Input::Command(CommandBody::FinalizeEvaluation(_))))
        .expect("finalisation");
    let mut run = Run::new(wf);
    for s in &steps[..fin] {
        run.step(s);
    }
    let at = steps[fin].at;
    let staff = steps[fin].actor.clone();
    // A seed of staff's choosing is not even a command any more.
    assert!(
        serde_json::from_value::<CommandBody>(
            json!({"command": "finalize_evaluation", "draw_seed": 7})
        )
        .is_err()
    );
    for reveal in [None, Some("a guess".to_owned())] {
        let cmd = Command {
            actor: staff.clone(),
            body: CommandBody::FinalizeEvaluation(FinalizeEvaluation {
                draw_reveal: reveal.clone(),
            }),
        };
        let err = run.exec(&cmd, at).expect_err("needs the inspector's value");
        assert_eq!(err.code, C::InvalidInput, "{reveal:?}: {err}");
    }
    run.step(&steps[fin]);
    let report = run.tender.report.clone().expect("report");
    let draw = report.draw.clone().expect("the draw's recipe");
    assert_eq!(draw["commitment"]["by"], "inspector-li");
    let digest = tenderflow_core::canonical::sha256_hex(&draw["inputs"]);
    let seed = u64::from_str_radix(&digest[..16], 16).expect("hex");
    assert_eq!(seed, report.draw_seed);
    assert_eq!(draw["seed"], seed.to_string());
    assert_eq!(
        tenderflow_core::canonical::sha256_text(draw["inputs"]["reveal"].as_str().expect("reveal")),
        draw["commitment"]["sha256"].as_str().expect("commitment")
    );
    assert_eq!(
        draw["inputs"]["commitments"].as_array().map(Vec::len),
        Some(18)
    );
}

/// Trust #10: staff cannot swap out a member who has scored: only the member's own conflict
/// declaration or a removal with a reason that an inspector approved; the removal is in the
/// record with when, why and who approved.
#[test]
fn trust_10_a_member_who_scored_is_not_replaced_at_will() {
    use tenderflow_core::model::{Member, Removal};
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let first_score = steps
        .iter()
        .position(|s| matches!(s.input, Input::Command(CommandBody::SubmitScores(_))))
        .expect("scores");
    let mut run = Run::new(wf);
    for s in &steps[..first_score + 2] {
        run.step(s);
    }
    let scorer = run.tender.scores.keys().next().expect("a sheet").0.clone();
    let at = steps[first_score + 1].at.plus_seconds(60);
    let staff = Actor::new("staff-zhang", "staff").expect("staff");
    let members: Vec<Member> = run
        .tender
        .committee
        .iter()
        .map(|m| {
            if m.id == scorer {
                Member {
                    id: tenderflow_core::ActorId::parse("expert-99").expect("id"),
                    expert: true,
                }
            } else {
                m.clone()
            }
        })
        .collect();
    let appoint = |removals: Vec<Removal>| Command {
        actor: staff.clone(),
        body: CommandBody::AppointCommittee(AppointCommittee {
            members: members.clone(),
            removals,
            draw: None,
        }),
    };
    let err = run.exec(&appoint(vec![]), at).expect_err("scored member");
    assert_eq!(err.code, C::MemberHasScored, "{err}");
    let removal = vec![Removal {
        member: scorer.clone(),
        reason: "absent for the rest of the evaluation".into(),
    }];
    let err = run
        .exec(&appoint(removal.clone()), at)
        .expect_err("no approval yet");
    assert_eq!(err.code, C::MemberHasScored, "{err}");
    let approve = Command {
        actor: Actor::new("inspector-li", "inspector").expect("inspector"),
        body: CommandBody::RecordObservation(RecordObservation {
            content: json!({ "text": "Removal approved: the member is ill.", "approveRemoval": scorer.as_str() }).into(),
        }),
    };
    run.exec(&approve, at).expect("observation");
    run.exec(&appoint(removal), at.plus_seconds(60))
        .expect("removal with approval");
    assert!(!run.tender.committee.iter().any(|m| m.id == scorer));
    let removed = &run.tender.removed_members;
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].member, scorer);
    assert_eq!(removed[0].approved_by.as_str(), "inspector-li");
    assert_eq!(removed[0].at, at.plus_seconds(60));
}

#[test]
fn experts_drawn_from_a_pool_are_recorded_skip_ties_and_verify() {
    use tenderflow_core::draw::{PoolEntry, verify};
    use tenderflow_core::model::DrawRequest;
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    let at = steps
        .iter()
        .position(|s| matches!(&s.input, Input::Command(CommandBody::AppointCommittee(_))))
        .expect("the appointment");
    for s in &steps[..at] {
        run.step(s);
    }
    let bidders: std::collections::BTreeSet<String> = run
        .tender
        .bids
        .keys()
        .map(|k| k.bidder.as_str().to_owned())
        .collect();
    let tied = bidders.iter().next().expect("a bidder").clone();
    let pool: Vec<PoolEntry> = (0..9)
        .map(|i| PoolEntry {
            id: tenderflow_core::model::ActorId::parse(&format!("expert-{i:02}")).expect("id"),
            fields: vec!["public-benefit services".into()],
            // Every third expert declared a tie to a bidder.
            ties: if i % 3 == 0 {
                vec![tied.clone()]
            } else {
                Vec::new()
            },
        })
        .collect();
    let appoint = |size: u32| Command {
        actor: steps[at].actor.clone(),
        body: CommandBody::AppointCommittee(AppointCommittee {
            members: Vec::new(),
            removals: Vec::new(),
            draw: Some(DrawRequest {
                size,
                pool: pool.clone(),
            }),
        }),
    };
    // Six experts have no tie: seven cannot be drawn.
    let err = run.exec(&appoint(7), steps[at].at).expect_err("too few");
    assert_eq!(err.code, C::CommitteeInvalid, "{err}");
    let events = run.exec(&appoint(5), steps[at].at).expect("drawn");
    let record = events
        .iter()
        .find_map(|e| match &e.body {
            EventBody::CommitteeAppointed { draw, .. } => draw.clone(),
            _ => None,
        })
        .expect("the draw is recorded");
    assert_eq!(record.drawn.len(), 5);
    assert!(record.skipped.iter().all(|s| s.bidder == tied));
    assert!(
        record
            .drawn
            .iter()
            .all(|d| !record.skipped.iter().any(|s| s.id == *d)),
        "no tied expert drawn"
    );
    let members: Vec<&str> = run.tender.committee.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        members,
        record.drawn.iter().map(|d| d.as_str()).collect::<Vec<_>>()
    );
    assert!(run.tender.committee.iter().all(|m| m.expert));
    // Anyone can recompute it from the tender's id and the bids' commitments.
    let commitments: Vec<&str> = run
        .tender
        .bids
        .values()
        .map(|b| b.commitment.as_str())
        .collect();
    assert!(verify(&record, &run.tender.id, &commitments, &bidders));
}

#[test]
fn a_submitted_sheet_is_final_and_a_correction_needs_its_reason() {
    use tenderflow_core::model::SubmitScores;
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    let first = steps
        .iter()
        .position(|s| matches!(&s.input, Input::Command(CommandBody::SubmitScores(_))))
        .expect("a sheet");
    for s in &steps[..=first] {
        run.step(s);
    }
    let Input::Command(CommandBody::SubmitScores(sheet)) = &steps[first].input else {
        unreachable!()
    };
    let again = |correction: Option<&str>| Command {
        actor: steps[first].actor.clone(),
        body: CommandBody::SubmitScores(SubmitScores {
            correction: correction.map(str::to_owned),
            sheet: json!({"scores": {"service_plan": 55, "capability": 60}}).into(),
            ..sheet.clone()
        }),
    };
    let at = steps[first].at.plus_seconds(60);
    let err = run.exec(&again(None), at).expect_err("locked");
    assert_eq!(err.code, C::ReasonRequired, "{err}");
    let err = run
        .exec(&again(Some("  ")), at)
        .expect_err("a blank reason");
    assert_eq!(err.code, C::ReasonRequired);
    run.exec(&again(Some("I misread the service plan's reach")), at)
        .expect("corrected");
    assert_eq!(run.tender.score_corrections.len(), 1);
    assert_eq!(
        run.tender.score_corrections[0].reason,
        "I misread the service plan's reach"
    );
    let records = tenderflow_core::records::records(&wf, &run.tender);
    assert_eq!(records.score_corrections.len(), 1);
    // Both sheets stay in the log.
    let sheets = run
        .events
        .iter()
        .filter(|e| matches!(e.body, EventBody::ScoresSubmitted { .. }))
        .count();
    assert_eq!(sheets, 2);
}
