//! Red flags: the seed case played clean trips none; a log altered to trip each indicator
//! trips exactly that one (and the flags across tenders on outcomes built for them).

use crate::support::{Run, seed_script, workflow};
use std::collections::BTreeSet;
use std::sync::Arc;
use tenderflow_core::model::{Event, EventBody};
use tenderflow_core::red_flags::{
    INDICATORS, TenderOutcome, Thresholds, across_tenders, red_flags,
};
use tenderflow_core::{Money, Timestamp};

/// The seed case to the award, and its log.
fn clean() -> (Arc<tenderflow_core::Workflow>, Vec<Event>) {
    let wf = workflow("partner-recruitment");
    let mut run = Run::new(wf.clone());
    for s in &seed_script(&wf) {
        run.step(s);
    }
    (wf, run.events)
}

fn codes(wf: &tenderflow_core::Workflow, events: &[Event]) -> BTreeSet<&'static str> {
    red_flags(wf, "T", events, &Thresholds::default())
        .into_iter()
        .map(|f| f.code)
        .collect()
}

fn position(events: &[Event], kind: &str) -> usize {
    events
        .iter()
        .position(|e| e.body.kind() == kind)
        .unwrap_or_else(|| panic!("no {kind}"))
}

fn deadline(events: &[Event]) -> Timestamp {
    events
        .iter()
        .find_map(|e| match &e.body {
            EventBody::AnnouncementPublished { deadline, .. } => Some(*deadline),
            _ => None,
        })
        .expect("published")
}

/// Every bid event's index, in order.
fn bids(events: &[Event]) -> Vec<usize> {
    (0..events.len())
        .filter(|i| matches!(events[*i].body, EventBody::BidSubmitted { .. }))
        .collect()
}

#[test]
fn the_seed_case_trips_no_flag() {
    let (wf, events) = clean();
    assert_eq!(codes(&wf, &events), BTreeSet::new());
}

#[test]
fn each_indicator_trips_on_a_log_built_for_it() {
    let (wf, clean) = clean();
    let dl = deadline(&clean);
    let mut tripped = BTreeSet::new();
    let mut check = |name: &'static str, events: Vec<Event>| {
        let found = codes(&wf, &events);
        assert!(found.contains(name), "{name}: found {found:?}");
        tripped.insert(name);
    };

    // Too few bids at the close.
    let mut e = clean.clone();
    let i = position(&e, "submission_closed");
    if let EventBody::SubmissionClosed { bids, .. } = &mut e[i].body {
        *bids = 2;
    }
    check("too_few_bids", e);

    // A deadline at the legal minimum.
    let mut e = clean.clone();
    let i = position(&e, "announcement_published");
    let at = e[i].at;
    let least = wf
        .definition()
        .calendar
        .add(at, wf.definition().schedule.min_bid_period.period())
        .expect("minimum");
    if let EventBody::AnnouncementPublished { deadline, .. } = &mut e[i].body {
        *deadline = least;
    }
    check("short_submission_period", e);

    // An amendment affecting bids two hours before the deadline.
    let mut e = clean.clone();
    let i = position(&e, "submission_closed");
    let mut amendment = e[i].clone();
    amendment.at = dl.plus_seconds(-7200);
    amendment.body = EventBody::AmendmentPublished {
        documents: Vec::new(),
        number: 1,
        text: "late".into(),
        affects_bids: true,
        deadline_before: dl,
        deadline_after: dl,
    };
    e.insert(bids(&e)[0], amendment);
    check("late_amendment", e);

    // Most bids in the last hour.
    let mut e = clean.clone();
    for i in bids(&e) {
        e[i].at = dl.plus_seconds(-600);
    }
    check("bids_in_last_hour", e);

    // Identical prices; near-identical prices; identical documents.
    let set_price = |e: &mut Vec<Event>, n: usize, minor: i64| {
        let i = bids(e)[n];
        if let EventBody::BidSubmitted { price, .. } = &mut e[i].body {
            *price = Money::from_minor(minor).expect("money");
        }
    };
    let mut e = clean.clone();
    set_price(&mut e, 0, 1_000_000);
    set_price(&mut e, 1, 1_000_000);
    check("identical_prices", e);
    let mut e = clean.clone();
    set_price(&mut e, 0, 1_000_000);
    set_price(&mut e, 1, 1_000_040);
    check("near_identical_prices", e);
    let mut e = clean.clone();
    let (a, b) = (bids(&e)[0], bids(&e)[1]);
    let same = match &e[a].body {
        EventBody::BidSubmitted { commitment, .. } => commitment.clone(),
        _ => unreachable!(),
    };
    if let EventBody::BidSubmitted { commitment, .. } = &mut e[b].body {
        *commitment = same;
    }
    check("identical_documents", e);

    // The committee appointed again after the first sheet.
    let mut e = clean.clone();
    let appointed = position(&e, "committee_appointed");
    let scored = position(&e, "scores_submitted");
    let again = e[appointed].clone();
    e.insert(scored + 1, again);
    check("committee_changed_after_scoring", e);

    // The lowest bid disqualified.
    let mut e = clean.clone();
    let lowest = bids(&e)
        .into_iter()
        .min_by_key(|i| match &e[*i].body {
            EventBody::BidSubmitted { price, .. } => price.minor(),
            _ => i64::MAX,
        })
        .expect("a bid");
    let key = match &e[lowest].body {
        EventBody::BidSubmitted { key, .. } => key.clone(),
        _ => unreachable!(),
    };
    let mut dq = e[scored].clone();
    dq.body = EventBody::BidDisqualified {
        key,
        reason: "late papers".into(),
    };
    e.insert(scored, dq.clone());
    check("lowest_bid_disqualified", e);

    // Every bid but the winners' disqualified.
    let mut e = clean.clone();
    let awarded = position(&e, "awarded");
    let winners: BTreeSet<String> = match &e[awarded].body {
        EventBody::Awarded { winners } => winners
            .iter()
            .map(|c| c.bidder.as_str().to_owned())
            .collect(),
        _ => unreachable!(),
    };
    let losers: Vec<Event> = bids(&e)
        .into_iter()
        .filter_map(|i| match &e[i].body {
            EventBody::BidSubmitted { key, .. } if !winners.contains(key.bidder.as_str()) => {
                let mut d = dq.clone();
                d.body = EventBody::BidDisqualified {
                    key: key.clone(),
                    reason: "x".into(),
                };
                Some(d)
            }
            _ => None,
        })
        .collect();
    let at = position(&e, "scores_submitted");
    for d in losers {
        e.insert(at, d);
    }
    check("all_except_winner_disqualified", e);

    // A winner ranked below a qualifying loser.
    let mut e = clean.clone();
    if let EventBody::Awarded { winners } = &mut e[awarded].body {
        let last = winners.last_mut().expect("a winner");
        last.rank += 5;
    }
    check("award_outside_ranking", e);

    // Publicity ending a day early.
    let mut e = clean.clone();
    let proposed = position(&e, "award_proposed");
    if let EventBody::AwardProposed { publicity_ends, .. } = &mut e[proposed].body {
        *publicity_ends = publicity_ends.plus_seconds(-86_400 * 2);
    }
    check("short_publicity", e);

    // An objection answered after its due date.
    let mut e = clean.clone();
    let mut raised = e[proposed].clone();
    let due = raised.at.plus_seconds(86_400);
    raised.body = EventBody::ObjectionRaised {
        id: 1,
        stage: "publicity".into(),
        content: Arc::new(serde_json::json!({"text": "x"})),
        answer_due: Some(due),
    };
    let mut answered = raised.clone();
    answered.at = due.plus_seconds(3600);
    answered.body = EventBody::ObjectionAnswered {
        id: 1,
        objector: tenderflow_core::model::ActorId::parse("org-01").expect("id"),
        answer: "no".into(),
        upheld: false,
    };
    e.insert(proposed + 1, answered);
    e.insert(proposed + 1, raised);
    check("objection_answered_late", e);

    // The flags across tenders.
    let outcome = |t: &str, bidders: &[&str], winners: &[&str]| TenderOutcome {
        tender: t.into(),
        buyer: "union".into(),
        bidders: bidders.iter().map(|b| (*b).to_owned()).collect(),
        winners: winners.iter().map(|b| (*b).to_owned()).collect(),
    };
    let rotating = [
        outcome("T1", &["a", "b", "c"], &["a"]),
        outcome("T2", &["a", "b", "d"], &["b"]),
        outcome("T3", &["a", "b", "e"], &["a"]),
    ];
    let across: BTreeSet<&str> = across_tenders(&rotating, &Thresholds::default())
        .into_iter()
        .map(|f| f.code)
        .collect();
    assert!(across.contains("winners_concentrated"), "{across:?}");
    assert!(across.contains("bid_rotation"), "{across:?}");
    tripped.extend(across);
    let fair = [
        outcome("T1", &["a", "b", "c"], &["a"]),
        outcome("T2", &["a", "b", "c"], &["b"]),
        outcome("T3", &["a", "b", "c"], &["c"]),
    ];
    assert!(across_tenders(&fair, &Thresholds::default()).is_empty());
    // One of the clean seed's outcome.
    let (_, events) = (wf.clone(), clean);
    assert!(TenderOutcome::of("T", "union", &events).is_some());

    let all: BTreeSet<&str> = INDICATORS.iter().map(|(_, c, _)| *c).collect();
    assert_eq!(tripped, all, "every indicator has a log that trips it");
}
