//! A console form turned into the core's command: which fields each command's form has, the
//! JSON the core reads, and the execute-and-answer path the console and the desk share.

use crate::form;
use crate::i18n::Lang;
use crate::page::error;
use crate::page::refusal_code;
use crate::session::Visitor;
use crate::session::official;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use tenderflow_app::commands::Submission;
use tenderflow_app::console::ConsoleTender;
use tenderflow_app::{App, AppError, Caller};
use tenderflow_core::definition::CommandName;
use tenderflow_core::model::CommandBody;

/// The channels offered as checkboxes when publishing (others may be typed in): where the
/// seed case's union publishes.
pub(crate) const CHANNELS: [&str; 3] = [
    "public-resource-trading-platform",
    "union-website",
    "zhejiang-workers-daily",
];

/// A `datetime-local` value (`2026-02-20T10:00`) in a zone `offset` minutes east of UTC.
fn local_time(value: &str, offset: i32) -> Option<tenderflow_core::Timestamp> {
    let sign = if offset < 0 { '-' } else { '+' };
    let zone = format!("{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60);
    let seconds = if value.len() == 16 { ":00" } else { "" };
    tenderflow_core::Timestamp::parse(&format!("{value}{seconds}{zone}"))
}

/// The command a console form asks for, as the core's JSON: `Err` names what is missing.
fn command_json(
    lang: Lang,
    c: &ConsoleTender,
    posted: &HashMap<String, String>,
) -> Result<Value, String> {
    let get = |k: &str| posted.get(k).map(|s| s.trim()).unwrap_or_default();
    let name = get("command");
    let form_of = |cmd: CommandName| {
        c.available
            .iter()
            .find(|a| a.command == cmd)
            .and_then(|a| a.form.clone())
            .unwrap_or(Value::Null)
    };
    let content = |cmd: CommandName| -> Result<Value, String> {
        let (content, errors) = form::parse(lang, &form_of(cmd), posted);
        match errors.into_iter().next() {
            Some((field, problem)) => Err(format!("{field}: {problem}")),
            None => Ok(Value::Object(content)),
        }
    };
    Ok(match name {
        "answer_question" => json!({
            "command": name,
            "question": get("question").parse::<u32>().map_err(|_| "question".to_owned())?,
            "answer": get("answer"),
            "affectsBids": posted.contains_key("affects"),
        }),
        "cancel" => json!({ "command": name, "reason": get("reason") }),
        "publish" => {
            let mut announcement = content(CommandName::Publish)?;
            for variant in ["title_zh-CN", "summary_zh-CN", "title_en", "summary_en"] {
                if !get(variant).is_empty() {
                    announcement[variant] = get(variant).into();
                }
            }
            let mut channels: Vec<String> = CHANNELS
                .iter()
                .filter(|ch| posted.contains_key(&format!("channel-{ch}")))
                .map(|ch| (*ch).to_owned())
                .collect();
            channels.extend(
                get("channels_other")
                    .split([',', '，', '\n'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned),
            );
            let deadline = local_time(get("deadline"), c.utc_offset_minutes)
                .ok_or_else(|| "deadline".to_owned())?;
            // An invited procedure's invitees: the organisations ticked.
            let invitees: Vec<&str> = c
                .organisations
                .iter()
                .filter(|(id, _)| posted.contains_key(&format!("invite-{id}")))
                .map(|(id, _)| id.as_str())
                .collect();
            json!({ "command": name, "announcement": announcement, "channels": channels,
                    "deadline": deadline, "invitees": invitees })
        }
        "amend" => {
            let mut v = json!({ "command": name, "text": get("text"),
                                "affectsBids": posted.contains_key("affects") });
            if !get("deadline").is_empty() {
                v["newDeadline"] = json!(
                    local_time(get("deadline"), c.utc_offset_minutes)
                        .ok_or_else(|| "deadline".to_owned())?
                );
            }
            v
        }
        "appoint_committee" => {
            let members: Vec<Value> = c
                .evaluators
                .iter()
                .filter(|(e, _)| posted.contains_key(&format!("member-{}", e.id)))
                .map(|(e, _)| {
                    json!({ "id": e.id, "expert": posted.contains_key(&format!("expert-{}", e.id)) })
                })
                .collect();
            let mut v = json!({ "command": name, "members": members });
            let size: u32 = get("draw_size").parse().unwrap_or(0);
            if size > 0 {
                // The whole pool as it stands: the core draws from it and records it.
                let pool: Vec<Value> = c
                    .evaluators
                    .iter()
                    .map(|(e, _)| json!({ "id": e.id, "fields": e.fields, "ties": e.ties }))
                    .collect();
                v["draw"] = json!({ "size": size, "pool": pool });
            }
            v
        }
        "answer_objection" => json!({
            "command": name,
            "objection": get("item").parse::<u32>().map_err(|_| "objection".to_owned())?,
            "answer": get("answer"),
            "upheld": posted.contains_key("upheld"),
        }),
        "disqualify_bid" => {
            json!({ "command": name, "bidder": get("bidder"), "reason": get("reason") })
        }
        "resolve_irregularity" => json!({
            "command": name,
            "irregularity": get("item").parse::<u32>().map_err(|_| "irregularity".to_owned())?,
            "resolution": get("reason"),
        }),
        "sign_off" => json!({
            "command": name,
            "gate": get("gate"),
            "content": content(CommandName::SignOff)?,
        }),
        "record_observation" => json!({
            "command": name,
            "content": content(CommandName::RecordObservation)?,
        }),
        "raise_irregularity" => json!({
            "command": name,
            "content": content(CommandName::RaiseIrregularity)?,
        }),
        "finalize_evaluation" => match get("drawReveal") {
            "" => json!({ "command": name }),
            reveal => json!({ "command": name, "drawReveal": reveal }),
        },
        other => json!({ "command": other }),
    })
}

/// `POST /console/tenders/{id}`: one command from a console control; back to the console
/// with what happened (or why not, next to the control).
pub(crate) async fn act(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let here = format!("/console/tenders/{id}");
    let caller = match official(&visitor, &here) {
        Ok(c) => c,
        Err(r) => return r,
    };
    // The form (and the files it carries, uploaded as they arrive, after its CSRF token).
    let posted = match crate::documents::read_form(&app, &visitor, caller, &id, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let command = posted.fields.get("command").cloned().unwrap_or_default();
    let back = |query: String| {
        Redirect::to(&format!("{here}?lang={}&{query}#controls", lang.tag())).into_response()
    };
    let refused = |code: &str, detail: &str| {
        back(format!(
            "command={}&refused={}&detail={}",
            crate::page::encode(&command),
            crate::page::encode(code),
            crate::page::encode(detail)
        ))
    };
    if let Some((_, problem)) = posted.refused.iter().next() {
        return refused("document_invalid", problem);
    }
    let c = match app.console_tender(caller, &id).await {
        Ok(c) => c,
        Err(e) => return error(lang, &e),
    };
    let answer = |refusal: Option<(&str, &str)>| match refusal {
        None => back(format!("done={}", crate::page::encode(&command))),
        Some((code, detail)) => refused(code, detail),
    };
    let json = command_json(lang, &c, &posted.fields).map(|mut v| {
        // Files published with it; the first replaces the document chosen, if any.
        if !posted.uploads.is_empty() {
            let mut docs = posted.uploads.clone();
            for d in &mut docs {
                d.slot = None;
            }
            if let Some(r) = posted.fields.get("replaces").filter(|r| !r.is_empty()) {
                docs[0].replaces = Some(r.clone());
            }
            v["documents"] = json!(docs);
        }
        v
    });
    execute_form(
        &app,
        caller,
        &id,
        json,
        posted.fields.get("nonce"),
        lang,
        answer,
    )
    .await
}

/// Executes a console or desk form's command (its JSON, or what is missing from it) and
/// answers through `answer`: `None` when it was done, `Some((code, detail))` when the
/// request or the core refused it; failures get the error page.
pub(crate) async fn execute_form(
    app: &App,
    caller: &Caller,
    id: &str,
    command: Result<Value, String>,
    nonce: Option<&String>,
    lang: Lang,
    answer: impl Fn(Option<(&str, &str)>) -> Response,
) -> Response {
    let body = match command
        .and_then(|v| serde_json::from_value::<CommandBody>(v).map_err(|e| e.to_string()))
    {
        Ok(b) => b,
        Err(detail) => return answer(Some(("invalid_input", &detail))),
    };
    let s = Submission {
        tender_id: id.to_owned(),
        body,
        key: nonce.map(|n| n.chars().take(64).collect()),
        if_match: None,
    };
    match app.execute(caller, s).await {
        Ok(_) => answer(None),
        Err(AppError::Rejected(r)) => answer(Some((r.code.as_str(), &r.message))),
        Err(e) => match refusal_code(&e) {
            Some(code) => answer(Some((&code, &e.to_string()))),
            None => error(lang, &e),
        },
    }
}
