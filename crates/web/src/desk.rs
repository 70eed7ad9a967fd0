//! The evaluator's scoring desk (`/desk/tenders/{id}`): the opened bids beside the criteria,
//! a sheet per bid generated from the definition's form, drafts, final sheets, corrections
//! with their reasons, conflict declarations, progress.

use crate::actions::execute_form;
use crate::console::{Line, line, local};
use crate::form::{self, Field};
use crate::i18n::Lang;
use crate::page::{error, render};
use crate::page::{refusal, refusal_code};
use crate::session::official;
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tenderflow_app::App;

/// A bid on the desk.
struct DeskBid {
    bidder: String,
    receipt: String,
    /// The bid's content as (label, value) lines.
    content: Vec<(String, String)>,
    /// Its documents as (id, name).
    documents: Vec<(String, String)>,
    done: bool,
    /// Whether the fields come from a saved draft.
    drafted: bool,
    conflict: bool,
    fields: Vec<Field>,
    refused: Option<String>,
}

#[derive(Template)]
#[template(path = "desk.html")]
struct DeskPage {
    lang: Lang,
    me: Me,
    line: Line,
    criteria: Vec<(String, String)>,
    bids: Vec<DeskBid>,
    done: usize,
    total: usize,
    nonce: String,
    saved: bool,
    drafted: bool,
}

/// What the desk's address may say.
#[derive(serde::Deserialize)]
pub(crate) struct DeskQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default)]
    drafted: Option<String>,
    #[serde(default)]
    refused: Option<String>,
    #[serde(default)]
    bidder: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default, rename = "lang")]
    _lang: Option<String>,
}

/// `GET /desk/tenders/{id}`.
pub(crate) async fn desk(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(q): Query<DeskQuery>,
) -> Response {
    let caller = match official(&visitor, &format!("/desk/tenders/{id}")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let d = match app.desk(caller, &id).await {
        Ok(d) => d,
        Err(e) => return error(lang, &e),
    };
    let labels: BTreeMap<String, String> = d
        .criteria
        .iter()
        .map(|(id, title, _)| (id.clone(), local(lang, title)))
        .collect();
    let nobody = tenderflow_core::present::Names::new();
    let p = lang.presenter(d.tender.utc_offset_minutes, &d.currency, &nobody);
    let bids = d
        .bids
        .iter()
        .map(|b| {
            let values = match (&b.sheet, &b.draft) {
                (Some(sheet), _) => json!({ "scores": sheet }),
                (None, Some(draft)) => draft.clone(),
                (None, None) => Value::Null,
            };
            DeskBid {
                bidder: b.bidder.clone(),
                receipt: b.receipt.map(|r| r.to_string()).unwrap_or_default(),
                content: b
                    .content
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| {
                        let label = lang
                            .try_t(&format!("field-{k}"))
                            .unwrap_or_else(|| k.clone());
                        let value = match (k.ends_with("Minor"), v) {
                            (true, Value::Number(n)) => n
                                .as_i64()
                                .and_then(tenderflow_core::Money::from_minor)
                                .map(|m| p.money(m))
                                .unwrap_or_default(),
                            (_, Value::String(s)) => lang
                                .try_t(&format!("choice-{s}"))
                                .unwrap_or_else(|| s.clone()),
                            (_, v) => v.to_string(),
                        };
                        (label, value)
                    })
                    .collect(),
                documents: b
                    .documents
                    .iter()
                    .map(|d| (d.id.clone(), d.name.clone()))
                    .collect(),
                done: b.sheet.is_some(),
                conflict: b.conflict,
                drafted: b.draft.is_some(),
                fields: form::fields_labelled(
                    lang,
                    &d.form,
                    values.as_object().unwrap_or(&Map::new()),
                    &BTreeMap::new(),
                    &labels,
                    "",
                ),
                refused: (q.bidder.as_deref() == Some(b.bidder.as_str())).then(|| {
                    let mut t = refusal(lang, q.refused.as_deref().unwrap_or_default());
                    if let Some(detail) = &q.detail {
                        t.push_str(" — ");
                        t.push_str(detail);
                    }
                    t
                }),
            }
        })
        .collect();
    let page = DeskPage {
        lang,
        me: visitor.me(),
        line: line(lang, &d.tender, String::new()),
        criteria: d
            .criteria
            .iter()
            .map(|(_, title, weight)| (local(lang, title), p.weight(*weight)))
            .collect(),
        total: d.bids.len(),
        done: d.done,
        bids,
        nonce: crate::session::random_token(),
        saved: q.saved.is_some(),
        drafted: q.drafted.is_some(),
    };
    render(&page, StatusCode::OK)
}

/// `POST /desk/tenders/{id}`: submits a score sheet for one bid, or declares a conflict.
pub(crate) async fn score(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    axum::Form(posted): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = visitor.check(posted.get("csrf").map(String::as_str).unwrap_or_default()) {
        return r;
    }
    let here = format!("/desk/tenders/{id}");
    let caller = match official(&visitor, &here) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let bidder = posted.get("bidder").cloned().unwrap_or_default();
    let back = |query: String| {
        Redirect::to(&format!("{here}?lang={}&{query}", lang.tag())).into_response()
    };
    let refused = |code: &str, detail: &str| {
        back(format!(
            "bidder={}&refused={}&detail={}#bid-{}",
            crate::page::encode(&bidder),
            crate::page::encode(code),
            crate::page::encode(detail),
            crate::page::encode(&bidder)
        ))
    };
    let d = match app.desk(caller, &id).await {
        Ok(d) => d,
        Err(e) => return error(lang, &e),
    };
    if posted.get("action").map(String::as_str) == Some("draft") {
        // A draft keeps what was typed, checked or not: it is the evaluator's own notes.
        let (sheet, _) = form::parse(lang, &d.form, &posted);
        return match app
            .save_score_draft(caller, &id, &bidder, &Value::Object(sheet))
            .await
        {
            Ok(()) => back(format!("drafted=1#bid-{}", crate::page::encode(&bidder))),
            Err(e) => match refusal_code(&e) {
                Some(code) => refused(&code, &e.to_string()),
                None => error(lang, &e),
            },
        };
    }
    let json = if posted.get("action").map(String::as_str) == Some("conflict") {
        Ok(json!({ "command": "declare_conflict", "bidder": bidder,
                   "reason": posted.get("reason").map(|s| s.trim()).unwrap_or_default() }))
    } else {
        let (sheet, errors) = form::parse(lang, &d.form, &posted);
        match errors.into_iter().next() {
            Some((field, problem)) => {
                return refused("form_invalid", &format!("{field}: {problem}"));
            }
            None => {
                let mut v = json!({ "command": "submit_scores", "bidder": bidder, "sheet": sheet });
                if let Some(reason) = posted.get("correction").filter(|r| !r.trim().is_empty()) {
                    v["correction"] = reason.trim().into();
                }
                Ok(v)
            }
        }
    };
    let answer = |refusal: Option<(&str, &str)>| match refusal {
        None => back(format!("saved=1#bid-{}", crate::page::encode(&bidder))),
        Some((code, detail)) => refused(code, detail),
    };
    execute_form(&app, caller, &id, json, posted.get("nonce"), lang, answer).await
}
