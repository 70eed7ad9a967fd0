//! What a message says, as data: built when the outbox row is queued, from the event and the
//! tender's state at hand in the same transaction, so that sending it needs neither the
//! tender nor its keys. The notify crate fills its templates from this data.

use crate::definition::Workflow;
use crate::model::{Event, EventBody, Tender};
use crate::time::Timestamp;
use serde_json::{Value, json};

/// A time in the workflow's local time zone, e.g. `2026-01-26 09:00 (UTC+08:00)`.
pub fn local_time(wf: &Workflow, t: Timestamp) -> String {
    let offset = wf.definition().calendar.utc_offset_minutes;
    let local = t.plus_seconds(i64::from(offset) * 60);
    let text = local.to_rfc3339();
    let (date, time) = text.split_once('T').unwrap_or((&text, ""));
    let hm = time.get(..5).unwrap_or(time);
    let sign = if offset < 0 { '-' } else { '+' };
    format!(
        "{date} {hm} (UTC{sign}{:02}:{:02})",
        offset.abs() / 60,
        offset.abs() % 60
    )
}

/// What the message caused by `event` says to `recipient` (an account id), with `tender` the
/// state right after the event's command: the tender's title and deadline, and the event's
/// own facts (a receipt, the opening record, the recipient's rank, …) with times in the
/// definition's zone. Never a sealed bid's content.
pub fn message_data(wf: &Workflow, tender: &Tender, event: &Event, recipient: &str) -> Value {
    let time = |t: Timestamp| local_time(wf, t);
    let ann = tender.announcement.as_deref();
    let text = |k: &str| {
        ann.and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let titles: serde_json::Map<String, Value> = ["zh-CN", "en"]
        .iter()
        .filter_map(|l| {
            let t = text(&format!("title_{l}"));
            (!t.is_empty()).then(|| ((*l).to_owned(), Value::from(t)))
        })
        .collect();
    let mut ctx = json!({
        "recipient": { "id": recipient },
        "tender": {
            "id": tender.id,
            "title": if text("title").is_empty() { tender.id.clone() } else { text("title") },
            // The title in each language the announcement gives (OCDS variants), for the
            // recipient's language when the message is rendered.
            "titles": titles,
            "summary": text("summary"),
            "deadline": tender.deadline.map(time).unwrap_or_default(),
            "channels": tender.channels,
            "announcement_sha256": tender.announcement_sha256.clone().unwrap_or_default(),
        },
        "event": { "at": time(event.at) },
        // Replies go to the procuring entity, when the definition names its address.
        "reply_to": wf.definition().publication.buyer.as_ref().and_then(|b| b.email.as_ref().map(|e| json!({ "name": b.name, "email": e }))),
        "reason": "",
    });
    let report_row = |bidder: &str| {
        tender
            .report
            .as_ref()
            .and_then(|r| r.rows.iter().find(|row| row.bidder.as_str() == bidder))
            .cloned()
    };
    let winners = tender
        .awarded
        .as_ref()
        .or(tender.proposed.as_ref())
        .map_or(0, Vec::len);
    match &event.body {
        EventBody::CommitteeAppointed { members, draw, .. } => {
            ctx["appointment"] = json!({
                "members": members.len(),
                "drawn": draw.as_ref().is_some_and(|d| d.drawn.iter().any(|x| x.as_str() == recipient)),
            });
        }
        EventBody::AmendmentPublished {
            number,
            text,
            deadline_before,
            deadline_after,
            ..
        } => {
            ctx["amendment"] = json!({
                "number": number, "text": text,
                "deadline_before": time(*deadline_before), "deadline_after": time(*deadline_after),
                "extended": deadline_after > deadline_before,
            });
        }
        EventBody::QuestionAnswered {
            id,
            answer,
            deadline_before,
            deadline_after,
            ..
        } => {
            let question = tender
                .questions
                .iter()
                .find(|q| q.id == *id)
                .map(|q| q.text.clone())
                .unwrap_or_default();
            ctx["question"] = json!({
                "id": id, "text": question, "answer": answer,
                "deadline_before": time(*deadline_before), "deadline_after": time(*deadline_after),
                "extended": deadline_after > deadline_before,
            });
        }
        EventBody::BidSubmitted {
            key,
            receipt,
            commitment,
            commitment_recipe,
            documents,
            ..
        }
        | EventBody::BidReplaced {
            key,
            receipt,
            commitment,
            commitment_recipe,
            documents,
            ..
        } => {
            // The receipt code, not the number: the number counts the bids received so far.
            let _ = receipt;
            // How the commitment was made, exactly, so that the bidder can reproduce it
            // (`tenderflow bid commitment`): the recipe, and the documents it covers.
            let documents: Vec<Value> = documents
                .iter()
                .map(|d| json!({ "name": d.name, "size": d.size, "sha256": d.sha256 }))
                .collect();
            ctx["bid"] = json!({
                "lot": &*key.lot, "receipt": key.receipt_code(&tender.id, commitment),
                "commitment": commitment, "received_at": time(event.at),
                "recipe": commitment_recipe, "documents": documents,
            });
        }
        EventBody::BidWithdrawn { key } => ctx["bid"] = json!({ "lot": &*key.lot }),
        EventBody::BidsOpened { record } => {
            let entries: Vec<Value> = record
                .entries
                .iter()
                .map(|e| json!({
                    "receipt": e.receipt, "bidder": e.bidder, "lot": &*e.lot,
                    "received_at": time(e.received_at), "price": e.price.to_string(), "commitment": e.commitment,
                }))
                .collect();
            ctx["opening"] = json!({ "opened_at": time(record.opened_at), "count": entries.len(), "entries": entries });
        }
        EventBody::EvaluationFinalized { report } => {
            ctx["report"] = json!({
                "members": report.members.len(),
                "rows": report.rows.len(),
                "qualifying": report.rows.iter().filter(|r| r.qualifies).count(),
            });
        }
        EventBody::Awarded { .. } | EventBody::AwardProposed { .. } => {
            let row = report_row(recipient);
            let rank = row.as_ref().and_then(|r| r.rank);
            let total = row
                .as_ref()
                .map(|r| r.total.to_string())
                .unwrap_or_default();
            let lot = row.as_ref().map(|r| r.lot.to_string()).unwrap_or_default();
            ctx["award"] = json!({ "rank": rank, "total": total, "lot": lot, "winners": winners });
            ctx["regret"] = json!({
                "rank": rank, "total": total, "winners": winners,
                "disclose": wf.definition().evaluation.disclose_scores_to_bidders && rank.is_some(),
                "object_until": tender.publicity_ends.map(time).unwrap_or_default(),
            });
        }
        EventBody::ObjectionRaised {
            id,
            content,
            answer_due,
            ..
        } => {
            let subject = content
                .get("subject")
                .and_then(Value::as_str)
                .unwrap_or_default();
            ctx["objection"] =
                json!({ "id": id, "subject": subject, "answer_due": answer_due.map(time) });
        }
        EventBody::ObjectionAnswered {
            id, answer, upheld, ..
        } => {
            ctx["objection"] = json!({ "id": id, "answer": answer, "upheld": upheld });
        }
        EventBody::IrregularityRaised { id, content, .. } => {
            let text = content
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default();
            ctx["irregularity"] = json!({ "id": id, "text": text });
        }
        EventBody::AgreementDrafted { partner, .. }
        | EventBody::AgreementInForce { partner }
        | EventBody::AgreementTerminated { partner, .. }
        | EventBody::DeliveryShortfall { partner, .. }
        | EventBody::PerformanceEvaluated { partner, .. }
            if tender.agreements.contains_key(partner) =>
        {
            let a = &tender.agreements[partner];
            let published: Vec<Value> = wf
                .contracts()
                .map(|c| {
                    c.agreement
                        .published
                        .iter()
                        .filter_map(|k| {
                            a.terms
                                .get(k)
                                .map(|v| json!({ "term": k, "value": term_text(v) }))
                        })
                        .collect()
                })
                .unwrap_or_default();
            ctx["agreement"] = json!({
                "partner": partner,
                "version": a.version,
                "sign_by": time(a.sign_by),
                "published": published,
            });
            match &event.body {
                EventBody::AgreementDrafted {
                    version, sign_by, ..
                } => {
                    ctx["agreement"]["version"] = json!(version);
                    ctx["agreement"]["sign_by"] = json!(time(*sign_by));
                }
                EventBody::DeliveryShortfall {
                    offered,
                    given,
                    share,
                    promised,
                    ..
                } => {
                    ctx["shortfall"] = json!({
                        "offered": offered, "given": given,
                        "share": share.to_string(), "promised": promised.to_string(),
                    });
                }
                EventBody::PerformanceEvaluated {
                    round,
                    total,
                    warning,
                    note,
                    ..
                } => {
                    let minimum = wf
                        .contracts()
                        .and_then(|c| c.performance.as_ref())
                        .map(|p| p.minimum.to_string())
                        .unwrap_or_default();
                    ctx["performance"] = json!({
                        "round": round, "total": total.to_string(), "warning": warning,
                        "minimum": minimum, "note": note, "warnings": a.warnings(),
                    });
                }
                EventBody::AgreementTerminated { reason, .. } => ctx["reason"] = json!(reason),
                _ => {}
            }
        }
        EventBody::Cancelled { reason } | EventBody::ProcedureFailed { reason, .. } => {
            ctx["reason"] = json!(reason)
        }
        _ => {}
    }
    ctx
}

/// A term's value as text for a message: strings as they are, lists of items by title.
fn term_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                // An item: its texts but its id.
                Value::Object(o) => o
                    .iter()
                    .filter(|(k, _)| *k != "id")
                    .filter_map(|(_, v)| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                other => term_text(other),
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}
