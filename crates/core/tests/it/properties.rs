//! Property tests over random command sequences: the procedure's invariants hold whatever
//! order, timing and actors the commands come in.

use crate::support::{Run, workflow};
use proptest::prelude::*;
use serde_json::json;
use std::sync::Arc;
use tenderflow_core::definition::CommandName;
use tenderflow_core::model::{
    Amend, AnswerObjection, Cancel, FinalizeEvaluation, RaiseIrregularity, RaiseObjection,
    ReplaceBid, ResolveIrregularity, SignOff, SubmitBid, WithdrawBid,
};
use tenderflow_core::scenario::{self, INSPECTOR, Input, Params, STAFF, Step};
use tenderflow_core::{Actor, Command, CommandBody, EventBody, Tender, Workflow, replay, view};

fn pool(wf: &Workflow) -> Vec<Step> {
    let params = Params {
        bidders: 4,
        evaluators: 5,
        seed: 11,
        ..Params::default()
    };
    let mut steps = scenario::script(wf, &params);
    let t0 = params.start;
    let staff = Actor::new(STAFF, "staff").expect("staff");
    let inspector = Actor::new(INSPECTOR, "inspector").expect("inspector");
    let late = Actor::new("late-org", "bidder").expect("bidder");
    let extra = |at, actor: &Actor, body| Step {
        at,
        actor: actor.clone(),
        input: Input::Command(body),
    };
    let timer = |at| Step {
        at,
        actor: Actor::system(),
        input: Input::Timer,
    };
    let bid = json!({"organisation": "Late", "serviceArea": "arts_performance", "servicePlan": "p",
                     "freeOrDiscountedShare": 25, "feeMinor": 10_000_000});
    let far = t0.plus_seconds(90 * 86_400);
    steps.extend([
        extra(
            t0,
            &late,
            CommandBody::SubmitBid(SubmitBid {
                documents: Vec::new(),
                lot: None,
                content: bid.clone().into(),
            }),
        ),
        extra(
            far,
            &late,
            CommandBody::SubmitBid(SubmitBid {
                documents: Vec::new(),
                lot: None,
                content: bid.clone().into(),
            }),
        ),
        extra(
            t0,
            &late,
            CommandBody::ReplaceBid(ReplaceBid {
                documents: Vec::new(),
                lot: None,
                content: bid.into(),
            }),
        ),
        extra(
            t0,
            &late,
            CommandBody::WithdrawBid(WithdrawBid { lot: None }),
        ),
        extra(t0, &staff, CommandBody::OpenBids {}),
        extra(far, &staff, CommandBody::OpenBids {}),
        extra(t0, &staff, CommandBody::Award {}),
        extra(t0, &staff, CommandBody::ProposeAward {}),
        extra(far, &staff, CommandBody::CloseSubmission {}),
        timer(t0),
        timer(far),
        extra(
            t0,
            &inspector,
            CommandBody::RaiseIrregularity(RaiseIrregularity {
                content: json!({"text": "x"}).into(),
            }),
        ),
        extra(
            t0,
            &inspector,
            CommandBody::ResolveIrregularity(ResolveIrregularity {
                irregularity: 1,
                resolution: "ok".into(),
            }),
        ),
        extra(
            t0,
            &late,
            CommandBody::RaiseObjection(RaiseObjection {
                content: json!({"subject": "s", "grounds": "g"}).into(),
            }),
        ),
        extra(
            t0,
            &staff,
            CommandBody::AnswerObjection(AnswerObjection {
                objection: 1,
                answer: "a".into(),
                upheld: false,
            }),
        ),
        extra(
            t0,
            &staff,
            CommandBody::Amend(Amend {
                documents: Vec::new(),
                text: "moved".into(),
                affects_bids: true,
                new_deadline: None,
            }),
        ),
        extra(
            t0,
            &staff,
            CommandBody::Cancel(Cancel { reason: "r".into() }),
        ),
        extra(
            t0,
            &inspector,
            CommandBody::SignOff(SignOff {
                gate: "award".into(),
                partner: None,
                content: json!({"statement": "s"}).into(),
            }),
        ),
        extra(
            t0,
            &staff,
            CommandBody::FinalizeEvaluation(FinalizeEvaluation { draw_reveal: None }),
        ),
    ]);
    steps
}

fn check_invariants(
    wf: &Workflow,
    before: &Tender,
    after: &Tender,
    events: &[tenderflow_core::Event],
) {
    for e in events {
        match &e.body {
            EventBody::BidSubmitted { .. } | EventBody::BidReplaced { .. } => {
                let deadline = before.deadline.expect("a bid needs a deadline");
                assert!(
                    e.at < deadline,
                    "bid accepted at {} after the deadline {deadline}",
                    e.at
                );
            }
            EventBody::BidsOpened { .. } => {
                let deadline = before.deadline.expect("deadline");
                assert!(
                    e.at >= deadline,
                    "opened at {} before the deadline {deadline}",
                    e.at
                );
                assert!(
                    before.signatures("opening") >= 1,
                    "opened without the opening sign-off"
                );
            }
            EventBody::Awarded { .. } => {
                for t in wf
                    .transitions_from(&before.state)
                    .filter(|t| t.command == Some(CommandName::Award))
                {
                    for g in &t.gates {
                        assert!(before.signatures(g) >= 1, "awarded without gate {g}");
                    }
                }
                assert!(before.signatures("evaluation_report") >= 1);
                assert!(!before.halted() && !before.objection_pending());
            }
            _ => {}
        }
    }
    if !after.opened() {
        for role in ["staff", "evaluator", "inspector", "bidder"] {
            let who = Actor::new("org-01", role).expect("actor");
            let v = view(wf, after, &who);
            for b in v["bids"].as_array().expect("bids") {
                let own = role == "bidder" && b["bidder"] == "org-01";
                assert!(
                    own || b["content"].is_null(),
                    "{role} saw a sealed bid: {b}"
                );
            }
        }
    }
}

fn arb_ops(n: usize) -> impl Strategy<Value = Vec<(prop::sample::Index, u8, u32)>> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), 0u8..3, 0u32..(40 * 86_400)),
        1..n,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_under_random_command_sequences(ops in arb_ops(120)) {
        let wf: Arc<Workflow> = workflow("partner-recruitment");
        let pool = pool(&wf);
        let mut run = Run::new(wf.clone());
        let mut now = pool[0].at;
        for (idx, mode, jump) in ops {
            let step = &pool[idx.index(pool.len())];
            let candidate = match mode {
                0 => step.at,
                1 => now.plus_seconds(i64::from(jump)),
                _ => now,
            };
            now = now.max(candidate);
            let before = run.tender.clone();
            if let Ok(events) = run.play_at(step, now) {
                check_invariants(&wf, &before, &run.tender, &events);
            } else {
                prop_assert_eq!(&run.tender, &before);
            }
        }
        prop_assert_eq!(&replay(&run.events), &run.tender);
    }

    #[test]
    fn the_script_in_order_with_random_extras_still_never_breaks_an_invariant(
        extras in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>()), 0..30)
    ) {
        let wf = workflow("partner-recruitment");
        let pool = pool(&wf);
        let script_len = scenario::script(&wf, &Params { bidders: 4, evaluators: 5, seed: 11, ..Params::default() }).len();
        let mut order: Vec<usize> = (0..script_len).collect();
        for (pos, pick) in &extras {
            order.insert(pos.index(order.len() + 1), script_len + pick.index(pool.len() - script_len));
        }
        let mut run = Run::new(wf.clone());
        let mut now = pool[0].at;
        for i in order {
            let step = &pool[i];
            now = now.max(step.at);
            let before = run.tender.clone();
            if let Ok(events) = run.play_at(step, now) {
                check_invariants(&wf, &before, &run.tender, &events);
            }
        }
        prop_assert_eq!(&replay(&run.events), &run.tender);
    }

    #[test]
    fn arbitrary_bid_content_is_accepted_only_when_it_fits_the_form(
        share in -10i64..120, fee in -5i64..1_000_000, plan in ".{0,8}", area in 0usize..4
    ) {
        let wf = workflow("partner-recruitment");
        let steps = scenario::script(&wf, &Params { bidders: 0, ..Params::default() });
        let mut run = Run::new(wf.clone());
        run.step(&steps[0]);
        run.step(&steps[1]);
        let areas = ["arts_performance", "sports_events", "public_benefit_planning", "cooking"];
        let content = json!({"organisation": "o", "serviceArea": areas[area], "servicePlan": plan,
                             "freeOrDiscountedShare": share, "feeMinor": fee});
        let valid = (20..=100).contains(&share) && fee >= 1 && !plan.is_empty() && area < 3;
        let bidder = Actor::new("o", "bidder").expect("actor");
        let result = run.exec(&Command { actor: bidder, body: CommandBody::SubmitBid(SubmitBid { documents: Vec::new(), lot: None, content: content.into() }) }, steps[1].at);
        match result {
            Ok(_) => prop_assert!(valid),
            Err(r) => {
                prop_assert!(!valid, "{}", r);
                prop_assert_eq!(r.code, tenderflow_core::RejectionCode::FormInvalid);
            }
        }
    }
}
