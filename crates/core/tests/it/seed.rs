//! The seed case through decide/apply: 18 bids, 5 evaluators, 7 partners, every gate signed.

use crate::support::{Run, seed_script, workflow};
use std::collections::BTreeMap;
use tenderflow_core::definition::MessageKind;
use tenderflow_core::{EventBody, Recipient, notifications, replay};

#[test]
fn seed_case_selects_seven_partners_out_of_eighteen() {
    let wf = workflow("partner-recruitment");
    let steps = seed_script(&wf);
    let mut run = Run::new(wf.clone());
    let mut sent: BTreeMap<MessageKind, Vec<Recipient>> = BTreeMap::new();
    for s in &steps {
        let before = run.events.len();
        run.step(s);
        let batch = &run.events[before..];
        for n in notifications(&wf, &run.tender, batch) {
            sent.entry(n.message).or_default().push(n.recipient);
        }
    }
    let t = &run.tender;
    assert_eq!(t.state, "awarded");
    assert_eq!(t.bids.len(), 18);
    assert_eq!(t.channels.len(), 3);
    let opening = t.opening.as_ref().expect("opened");
    assert_eq!(opening.entries.len(), 18);
    let report = t.report.as_ref().expect("report");
    assert_eq!(report.members.len(), 5);
    assert_eq!(report.score_table.len(), 18 * 5);
    let winners = t.awarded.as_ref().expect("awarded");
    assert_eq!(winners.len(), 7);
    // Winners are the top 7 by total, each at least 60, in rank order.
    let mut ranked: Vec<_> = report.rows.iter().filter(|r| r.qualifies).collect();
    ranked.sort_by_key(|r| r.rank);
    for (w, r) in winners.iter().zip(&ranked) {
        assert_eq!(w.bidder, r.bidder);
        assert!(w.total >= tenderflow_core::Score::from_raw(60 * 10_000));
    }
    for pair in report.rows.windows(2) {
        assert!(pair[0].total >= pair[1].total, "rows are ranked by total");
    }
    for gate in ["opening", "evaluation_report", "award"] {
        assert_eq!(t.signatures(gate), 1, "gate {gate} signed");
    }
    assert_eq!(sent[&MessageKind::BidReceipt].len(), 18);
    assert_eq!(sent[&MessageKind::AwardNotice].len(), 7);
    assert_eq!(sent[&MessageKind::RegretNotice].len(), 11);
    // Who is told is decided here, not by the store: bidders who asked for announcements,
    // and (an open procedure) the notice board's subscribers.
    assert!(sent[&MessageKind::Announcement].contains(&Recipient::RoleOptedIn("bidder".into())));
    assert!(sent[&MessageKind::Announcement].contains(&Recipient::Subscribers));
    assert!(!sent[&MessageKind::Announcement].contains(&Recipient::Role("bidder".into())));
    // The records, rendered from the history.
    let rec = tenderflow_core::records::records(&wf, t);
    assert_eq!(rec.receipt_log.len(), 18);
    assert_eq!(
        rec.opening_record.as_ref().map(|o| o.entries.len()),
        Some(18)
    );
    let report = rec.evaluation_report.as_ref().expect("report");
    assert_eq!(report.score_table.len(), 90);
    assert_eq!(report.candidates.len(), 7);
    assert_eq!(
        rec.publicity_notice.as_ref().map(|p| p.candidates.len()),
        Some(7)
    );
    let signed: Vec<&str> = rec
        .supervision_record
        .iter()
        .filter_map(|s| match s {
            tenderflow_core::records::SupervisionEntry::SignOff { gate, .. } => Some(gate.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(signed, ["opening", "evaluation_report", "award"]);
    // Replaying the events gives the same state.
    assert_eq!(&replay(&run.events), t);
    // Events survive a JSON round trip unchanged (the store keeps them as JSON).
    let json = serde_json::to_string(&run.events).expect("ser");
    let back: Vec<tenderflow_core::Event> = serde_json::from_str(&json).expect("de");
    assert_eq!(back, run.events);
}

#[test]
fn every_shipped_definition_runs_from_draft_to_award() {
    for name in [
        "partner-recruitment",
        "open-tender-prc",
        "gov-procurement-prc",
        "open-procedure-eu",
        "invited-tender-prc",
    ] {
        let wf = workflow(name);
        let steps = seed_script(&wf);
        let mut run = Run::new(wf.clone());
        run.play_until(&steps, None);
        assert_eq!(run.tender.state, "awarded", "{name}");
        let winners = run.tender.awarded.as_ref().expect("winners").len() as u32;
        assert_eq!(winners, wf.definition().award.winners_per_lot, "{name}");
        let awarded = run
            .events
            .iter()
            .filter(|e| matches!(e.body, EventBody::Awarded { .. }))
            .count();
        assert_eq!(awarded, 1);
    }
}
