//! Regression tests of the trust issue's core items, named after their numbers.

use crate::support::{Run, seed_script, workflow};
use serde_json::json;
use tenderflow_core::{Actor, Command, CommandBody, RejectionCode as C};

fn bidder(id: &str) -> Actor {
    Actor::new(id, "bidder").expect("actor")
}

fn bid(share: serde_json::Value, fee: serde_json::Value) -> CommandBody {
    CommandBody::SubmitBid {
        lot: None,
        content: json!({"organisation": "Org", "serviceArea": "sports_events", "servicePlan": "Weekly events",
                        "freeOrDiscountedShare": share, "feeMinor": fee})
        .into(),
    }
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
                         "bid_security": -150});
    let err = serde_json::from_value::<CommandBody>(publish.clone()).expect_err("negative");
    assert!(err.to_string().contains("never negative"), "{err}");
    let mut positive = publish;
    positive["bid_security"] = json!(150);
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
    let fire = Command {
        actor: Actor::system(),
        body: CommandBody::AdvanceTime,
    };
    run.exec(&fire, deadline.plus_seconds(1)).expect("timer");
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
        .position(|s| matches!(s.command.body, CommandBody::FinalizeEvaluation { .. }))
        .expect("finalisation");
    let mut run = Run::new(wf);
    for s in &steps[..fin] {
        run.step(s);
    }
    let at = steps[fin].at;
    let staff = steps[fin].command.actor.clone();
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
            body: CommandBody::FinalizeEvaluation {
                draw_reveal: reveal.clone(),
            },
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
