//! The procedure's records, as data rendered from the tender's history: the receipt log,
//! the opening record (开标记录), the record of objections, the evaluation report (评标报告),
//! the publicity notice, and the inspectors' supervision record. No national template
//! exists; these are the facts each record needs, for a front end or a PDF to lay out.

use crate::definition::Workflow;
use crate::model::Tender;
use serde_json::{Value, json};

fn text(v: &Value, key: &str) -> Value {
    v.get(key).cloned().unwrap_or(Value::Null)
}

/// Every record of `t`, for staff and inspectors (bid contents are not part of any record;
/// the evaluation report appears once final).
pub fn records(wf: &Workflow, t: &Tender) -> Value {
    let mut receipts: Vec<Value> = t
        .bids
        .iter()
        .map(|(k, b)| json!({ "receipt": b.receipt, "lot": &*k.lot, "bidder": k.bidder, "receivedAt": b.received_at, "commitment": b.commitment }))
        .collect();
    receipts.sort_by_key(|r| r["receipt"].as_u64());
    let objections: Vec<Value> = t
        .objections
        .iter()
        .map(|o| {
            json!({
                "id": o.id, "by": o.by, "at": o.at, "stage": o.stage,
                "subject": text(&o.content, "subject"), "grounds": text(&o.content, "grounds"),
                "answerDue": o.answer_due,
                "answer": o.answer,
            })
        })
        .collect();
    let mut supervision: Vec<Value> = Vec::new();
    for o in &t.observations {
        supervision.push(json!({ "kind": "observation", "inspector": o.by, "at": o.at, "stage": o.stage, "text": text(&o.content, "text") }));
    }
    for s in &t.signoffs {
        let gate = wf.gate(&s.gate).map(|g| g.title.clone());
        supervision.push(json!({
            "kind": "sign_off", "inspector": s.by, "at": s.at, "gate": s.gate, "gateTitle": gate,
            "text": text(&s.content, "statement"), "observations": text(&s.content, "observations"),
        }));
    }
    for i in &t.irregularities {
        supervision.push(json!({
            "kind": "irregularity", "id": i.id, "inspector": i.by, "at": i.at, "stage": i.stage, "text": text(&i.content, "text"),
            "resolution": i.resolution,
        }));
    }
    supervision.sort_by(|a, b| a["at"].as_str().cmp(&b["at"].as_str()));
    let report = t.report.as_ref().map(|r| {
        json!({
            "members": r.members, "recused": r.recused, "drawSeed": r.draw_seed, "draw": r.draw, "removedMembers": r.removed,
            "criteria": wf.definition().evaluation.criteria.iter().map(|c| json!({ "id": &*c.id, "title": c.title, "weight": c.weight })).collect::<Vec<_>>(),
            "openingRecord": t.opening.as_deref(),
            "rejected": r.rows.iter().filter(|row| row.disqualified.is_some()).map(|row| json!({ "bidder": row.bidder, "lot": &*row.lot, "reason": row.disqualified })).collect::<Vec<_>>(),
            "scoreTable": r.score_table,
            "ranking": r.rows.iter().filter(|row| row.rank.is_some()).collect::<Vec<_>>(),
            "candidates": r.candidates(wf.definition().award.winners_per_lot),
        })
    });
    let publicity = t.proposed.as_ref().map(
        |c| json!({ "candidates": c, "publicityEnds": t.publicity_ends, "channels": t.channels }),
    );
    json!({
        "tender": t.id,
        // The exact definition version the tender runs on.
        "definition": { "id": t.definition_id, "version": t.definition_version, "sha256": wf.sha256() },
        "state": t.state,
        "receiptLog": receipts,
        "openingRecord": t.opening.as_deref(),
        "objections": objections,
        "questions": t.questions,
        // The expert draw (pool, seed, order, skips, result): `core::draw::verify` recomputes it.
        "committeeDraw": t.committee_draw,
        // Sheets corrected after submission (both sheets are in the event log).
        "scoreCorrections": t.score_corrections,
        "evaluationReport": report,
        "publicityNotice": publicity,
        "award": t.awarded,
        "supervisionRecord": supervision,
    })
}
