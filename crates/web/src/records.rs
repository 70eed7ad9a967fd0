//! The procedure's records for printing (`/console/tenders/{id}/records`) and as a PDF made
//! by the server (`…/records.pdf`): each record with the chain head it describes and the
//! signatures of its gate.

use crate::console::{Line, line, official};
use crate::i18n::Lang;
use crate::page::{error, render};
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};
use std::sync::Arc;
use tenderflow_app::App;

/// One record as printed: a title and its content as tables.
struct RecordSection {
    id: &'static str,
    title: String,
    /// (caption, headers, rows) tables, and (label, value) facts.
    tables: Vec<(String, Vec<String>, Vec<Vec<String>>)>,
    facts: Vec<(String, String)>,
    /// The gate that signs this record: (title, signatures as text).
    signatures: Option<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    lang: Lang,
    me: Me,
    line: Line,
    chain_head: String,
    events: String,
    printed: String,
    sections: Vec<RecordSection>,
}

/// A JSON value as a cell: text as it is, numbers and the rest as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| !x.is_object()) => {
            a.iter().map(cell).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

/// An array of objects as a table (headers from the catalogue's `key-{name}`, else the key).
fn table(
    lang: Lang,
    caption: String,
    rows: &Value,
) -> Option<(String, Vec<String>, Vec<Vec<String>>)> {
    let rows = rows.as_array().filter(|r| !r.is_empty())?;
    let mut keys: Vec<String> = Vec::new();
    for r in rows {
        for k in r.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !keys.contains(k) {
                keys.push(k.clone());
            }
        }
    }
    let headers = keys
        .iter()
        .map(|k| lang.try_t(&format!("key-{k}")).unwrap_or_else(|| k.clone()))
        .collect();
    let body = rows
        .iter()
        .map(|r| keys.iter().map(|k| cell(&r[k])).collect())
        .collect();
    Some((caption, headers, body))
}

/// `GET /console/tenders/{id}/records`: every record of the procedure, printable (each on
/// its own printed page), with the chain head it describes and the sign-offs of each.
pub(crate) async fn records(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    match records_page(&app, &visitor, &id).await {
        Ok(page) => render(&page, StatusCode::OK),
        Err(r) => r,
    }
}

/// `GET /console/tenders/{id}/records.pdf`: the same records as a PDF made by the server
/// (Chinese in an embedded font), each record from a new page.
pub(crate) async fn records_pdf(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let page = match records_page(&app, &visitor, &id).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let mut blocks = Vec::new();
    for s in &page.sections {
        blocks.push(crate::pdf::Block::Title(s.title.clone()));
        blocks.push(crate::pdf::Block::Text(format!(
            "{}: {} ({})",
            lang.t("col-title"),
            page.line.title,
            page.line.id
        )));
        blocks.push(crate::pdf::Block::Text(format!(
            "{}: {} ({} {})",
            lang.t("chain-head"),
            page.chain_head,
            lang.t("record-events"),
            page.events
        )));
        blocks.push(crate::pdf::Block::Text(format!(
            "{}: {}",
            lang.t("record-printed"),
            page.printed
        )));
        for (k, v) in &s.facts {
            blocks.push(crate::pdf::Block::Text(format!("{k}: {v}")));
        }
        for (caption, headers, rows) in &s.tables {
            blocks.push(crate::pdf::Block::Heading(caption.clone()));
            blocks.push(crate::pdf::Block::Table(headers.clone(), rows.clone()));
        }
        if let Some((gate, signed)) = &s.signatures {
            blocks.push(crate::pdf::Block::Heading(format!(
                "{}: {gate}",
                lang.t("record-signatures")
            )));
            if signed.is_empty() {
                blocks.push(crate::pdf::Block::Text(lang.t("record-unsigned")));
            }
            for x in signed {
                blocks.push(crate::pdf::Block::Text(x.clone()));
            }
        }
    }
    let name = format!("{}-records.pdf", page.line.id);
    crate::pdf::answer(name, move || crate::pdf::render(&blocks)).await
}

/// Every record of a tender for printing (the page and the PDF).
async fn records_page(app: &App, visitor: &Visitor, id: &str) -> Result<RecordsPage, Response> {
    let caller = official(visitor, &format!("/console/tenders/{id}/records"))?;
    let lang = visitor.lang;
    let (c, r) = match (
        app.console_tender(caller, id).await,
        app.records(caller, id).await,
    ) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(e), _) | (_, Err(e)) => return Err(error(lang, &e)),
    };
    let signatures = |gate: &str| -> Option<(String, Vec<String>)> {
        let entries: Vec<String> = r["supervisionRecord"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == "sign_off" && s["gate"] == gate)
            .map(|s| {
                let at = s["at"]
                    .as_str()
                    .and_then(tenderflow_core::Timestamp::parse)
                    .map(|t| lang.when(t, c.utc_offset_minutes))
                    .unwrap_or_default();
                format!("{} · {at} · {}", cell(&s["inspector"]), cell(&s["text"]))
            })
            .collect();
        let title = r["supervisionRecord"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["gate"] == gate)
            .map(|s| cell(&s["gateTitle"]))
            .unwrap_or_else(|| gate.to_owned());
        Some((title, entries))
    };
    let report = &r["evaluationReport"];
    // Every member of the committee with whether, when and what it signed on the report.
    let signed_by = |member: &str| {
        r["supervisionRecord"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| {
                s["kind"] == "sign_off"
                    && s["gate"] == "evaluation_report"
                    && s["inspector"] == member
            })
            .cloned()
    };
    let member_signatures: Value = report["members"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let id = m["id"].as_str().unwrap_or_default();
            let signed = signed_by(id);
            json!({
                "id": id,
                "expert": if m["expert"] == true { lang.t("yes") } else { lang.t("no") },
                "signature": signed.as_ref().map_or_else(
                    || lang.t("record-member-unsigned"),
                    |s| format!("{} · {}", cell(&s["at"]), cell(&s["text"]))
                ),
            })
        })
        .collect();
    let mut sections = vec![RecordSection {
        id: "opening",
        title: lang.t("record-opening"),
        tables: [
            table(lang, lang.t("record-receipts"), &r["receiptLog"]),
            table(
                lang,
                lang.t("record-opened"),
                &r["openingRecord"]["entries"],
            ),
        ]
        .into_iter()
        .flatten()
        .collect(),
        facts: r["openingRecord"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| *k != "entries")
            .map(|(k, v)| {
                (
                    lang.try_t(&format!("key-{k}")).unwrap_or_else(|| k.clone()),
                    cell(v),
                )
            })
            .collect(),
        signatures: signatures("opening"),
    }];
    sections.push(RecordSection {
        id: "report",
        title: lang.t("record-report"),
        tables: [
            table(lang, lang.t("record-members"), &member_signatures),
            table(lang, lang.t("record-ranking"), &report["ranking"]),
            table(lang, lang.t("record-rejected"), &report["rejected"]),
            table(lang, lang.t("record-candidates"), &report["candidates"]),
            table(
                lang,
                lang.t("record-draw"),
                &json!(r["committeeDraw"]["pool"]),
            ),
        ]
        .into_iter()
        .flatten()
        .collect(),
        facts: [
            ("drawSeed", &report["drawSeed"]),
            ("committeeDrawSeed", &r["committeeDraw"]["seed"]),
            ("committeeDrawn", &r["committeeDraw"]["drawn"]),
            ("committeeSkipped", &r["committeeDraw"]["skipped"]),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                lang.try_t(&format!("key-{k}"))
                    .unwrap_or_else(|| k.to_owned()),
                cell(v),
            )
        })
        .collect(),
        signatures: signatures("evaluation_report"),
    });
    sections.push(RecordSection {
        id: "publicity",
        title: lang.t("record-publicity"),
        tables: table(
            lang,
            lang.t("record-candidates"),
            &r["publicityNotice"]["candidates"],
        )
        .into_iter()
        .collect(),
        facts: [
            ("publicityEnds", &r["publicityNotice"]["publicityEnds"]),
            ("channels", &r["publicityNotice"]["channels"]),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            (
                lang.try_t(&format!("key-{k}"))
                    .unwrap_or_else(|| k.to_owned()),
                cell(v),
            )
        })
        .collect(),
        signatures: None,
    });
    sections.push(RecordSection {
        id: "award",
        title: lang.t("record-award"),
        tables: table(lang, lang.t("record-winners"), &r["award"])
            .into_iter()
            .collect(),
        facts: Vec::new(),
        signatures: signatures("award"),
    });
    sections.push(RecordSection {
        id: "supervision",
        title: lang.t("record-supervision"),
        tables: table(lang, lang.t("record-supervision"), &r["supervisionRecord"])
            .into_iter()
            .collect(),
        facts: Vec::new(),
        signatures: None,
    });
    let page = RecordsPage {
        lang,
        me: visitor.me(),
        chain_head: cell(&r["chainHead"]["hash"]),
        events: cell(&r["chainHead"]["seq"]),
        printed: lang.when(app.clock().now(), c.utc_offset_minutes),
        sections,
        line: line(lang, &c, String::new()),
    };
    Ok(page)
}
