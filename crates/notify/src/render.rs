//! Rendering messages: a template per kind and locale (`templates/{locale}/{kind}.txt`, the
//! first line `Subject: …`), filled from a context built out of the tender, the event that
//! caused the message and the recipient. HTML is made from the same text, so the two parts
//! never say different things.

use crate::NotifyError;
use minijinja::Environment;
use serde_json::{Value, json};
use tenderflow_core::definition::MessageKind;
use tenderflow_core::model::{Event, EventBody, Tender};
use tenderflow_core::{Timestamp, Workflow};
use tenderflow_store::Account;

macro_rules! templates {
    ($($kind:literal),*) => {
        &[$(
            (concat!("en/", $kind), include_str!(concat!("../templates/en/", $kind, ".txt"))),
            (concat!("zh-CN/", $kind), include_str!(concat!("../templates/zh-CN/", $kind, ".txt"))),
        )*]
    };
}

const TEMPLATES: &[(&str, &str)] = templates!(
    "announcement",
    "amendment",
    "bid_receipt",
    "bid_withdrawn",
    "opening_notice",
    "evaluation_report_ready",
    "award_notice",
    "regret_notice",
    "objection_received",
    "objection_answered",
    "irregularity_raised",
    "cancellation",
    "procedure_failed"
);

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body (the same text).
    pub html: String,
    /// Locale used.
    pub locale: &'static str,
}

/// The template engine with every template loaded.
#[derive(Debug)]
pub struct Renderer {
    env: Environment<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    /// Loads the shipped templates.
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in TEMPLATES {
            // The templates are part of the binary and covered by tests.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        Self { env }
    }

    /// Renders `kind` in `locale` (anything but `en` falls back to zh-CN, the default).
    pub fn render(
        &self,
        kind: MessageKind,
        locale: &str,
        ctx: &Value,
    ) -> Result<Rendered, NotifyError> {
        let locale = if locale.eq_ignore_ascii_case("en") || locale.starts_with("en-") {
            "en"
        } else {
            "zh-CN"
        };
        let name = format!("{locale}/{}", kind.as_str());
        let tmpl = self
            .env
            .get_template(&name)
            .map_err(|e| NotifyError::Template(format!("{name}: {e}")))?;
        let out = tmpl
            .render(ctx)
            .map_err(|e| NotifyError::Template(format!("{name}: {e:#}")))?;
        let (first, body) = out.split_once('\n').unwrap_or((&out, ""));
        let subject = first
            .strip_prefix("Subject: ")
            .unwrap_or(first)
            .trim()
            .to_owned();
        let text = body.trim().to_owned() + "\n";
        let html = to_html(&text, locale, &subject);
        Ok(Rendered {
            subject,
            text,
            html,
            locale,
        })
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn to_html(text: &str, locale: &str, subject: &str) -> String {
    let paras: Vec<String> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| format!("<p>{}</p>", escape(p.trim()).replace('\n', "<br>\n")))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"{locale}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\n<body>\n{}\n</body></html>\n",
        escape(subject),
        paras.join("\n")
    )
}

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

/// The template context for a message caused by `event` (the `seq`-th of the tender), sent to
/// `recipient`, with `tender` the state now.
pub fn context(wf: &Workflow, tender: &Tender, event: &Event, recipient: &Account) -> Value {
    let time = |t: Timestamp| local_time(wf, t);
    let ann = tender.announcement.as_deref();
    let text = |k: &str| {
        ann.and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut ctx = json!({
        "recipient": { "name": recipient.display_name, "id": recipient.id },
        "tender": {
            "id": tender.id,
            "title": if text("title").is_empty() { tender.id.clone() } else { text("title") },
            "summary": text("summary"),
            "deadline": tender.deadline.map(time).unwrap_or_default(),
            "channels": tender.channels,
            "announcement_sha256": tender.announcement_sha256.clone().unwrap_or_default(),
        },
        "event": { "at": time(event.at) },
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
        EventBody::BidSubmitted {
            key,
            receipt,
            commitment,
            ..
        }
        | EventBody::BidReplaced {
            key,
            receipt,
            commitment,
            ..
        } => {
            // The receipt code, not the number: the number counts the bids received so far.
            let _ = receipt;
            ctx["bid"] = json!({ "lot": &*key.lot, "receipt": key.receipt_code(&tender.id, commitment), "commitment": commitment, "received_at": time(event.at) });
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
            let row = report_row(&recipient.id);
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
        EventBody::Cancelled { reason } | EventBody::ProcedureFailed { reason, .. } => {
            ctx["reason"] = json!(reason)
        }
        _ => {}
    }
    ctx
}
