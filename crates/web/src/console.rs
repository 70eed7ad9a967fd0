//! The officials' console and the evaluators' scoring desk.
//!
//! - `/console`: staff and inspectors see every tender with its state, deadline, what it
//!   waits for (a gate's sign-off, answers to questions), overdue obligations and red flags;
//!   evaluators see the tenders of their committees.
//! - `/console/tenders/{id}`: one tender: the live timeline (htmx polls
//!   `…/timeline` every five seconds; without JavaScript a reload shows the same), the red
//!   flags with rule, evidence and threshold, the questions to answer, and a control for each
//!   command the definition allows the caller now; refusals come back next to the control,
//!   in the page's language, with the core's own explanation.
//! - `/desk/tenders/{id}`: an evaluator's desk: the opened bids beside the criteria, a score
//!   sheet per bid generated from the definition's form, progress, a conflict declaration.

use crate::form::{self, Field};
use crate::i18n::Lang;
use crate::page::{error, render};
use crate::portal::{refusal, refusal_code};
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tenderflow_app::commands::Submission;
use tenderflow_app::console::ConsoleTender;
use tenderflow_app::{App, AppError, Caller};
use tenderflow_core::Role;
use tenderflow_core::definition::{CommandName, Localized};
use tenderflow_core::model::CommandBody;
use tenderflow_store::StoreError;

/// A localized text in the page's language.
pub(crate) fn local(lang: Lang, l: &Localized) -> String {
    match lang {
        Lang::Zh => l.zh_cn.clone(),
        Lang::En => l.en.clone(),
    }
}

/// A tender's line on the dashboard.
struct Line {
    id: String,
    title: String,
    state: String,
    halted: bool,
    deadline: String,
    waiting: Vec<String>,
    overdue: Vec<String>,
    questions: usize,
    flags: usize,
    /// Where the line links to (the console, or an evaluator's desk).
    href: String,
}

fn line(lang: Lang, c: &ConsoleTender, href: String) -> Line {
    Line {
        id: c.id.clone(),
        title: c.title(lang.tag()),
        state: local(lang, &c.state_title),
        halted: c.halted,
        deadline: c
            .deadline
            .map(|d| lang.when(d, c.utc_offset_minutes))
            .unwrap_or_default(),
        waiting: c
            .waiting
            .iter()
            .map(|w| {
                let who: Vec<String> = w
                    .signers
                    .iter()
                    .map(|r| lang.t(&format!("role-{r}")))
                    .collect();
                lang.t_with(
                    "waiting-for",
                    &[
                        ("who", who.join(", ").into()),
                        ("what", local(lang, &w.title).into()),
                    ],
                )
            })
            .collect(),
        overdue: c.overdue.iter().map(|o| local(lang, o)).collect(),
        questions: c.open_questions.len(),
        flags: c.red_flags,
        href,
    }
}

#[derive(Template)]
#[template(path = "console.html")]
struct ConsolePage {
    lang: Lang,
    me: Me,
    lines: Vec<Line>,
    evaluator: bool,
}

/// The officials (or evaluators) signed in, or a redirect / 403.
fn official<'a>(visitor: &'a Visitor, here: &str) -> Result<&'a Caller, Response> {
    let caller = visitor.require(here)?;
    if tenderflow_app::roles::is_official(caller.role()) || caller.is(Role::EVALUATOR) {
        Ok(caller)
    } else {
        Err(Redirect::to(&format!("/my?lang={}", visitor.lang.tag())).into_response())
    }
}

/// `GET /console`.
pub(crate) async fn console(State(app): State<Arc<App>>, visitor: Visitor) -> Response {
    let caller = match official(&visitor, "/console") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let evaluator = caller.is(Role::EVALUATOR);
    let list = if evaluator {
        app.evaluator_tenders(caller).await
    } else {
        app.console(caller).await
    };
    let list = match list {
        Ok(l) => l,
        Err(e) => return error(lang, &e),
    };
    let lines = list
        .iter()
        .map(|c| {
            let href = if evaluator {
                format!("/desk/tenders/{}?lang={}", c.id, lang.tag())
            } else {
                format!("/console/tenders/{}?lang={}", c.id, lang.tag())
            };
            line(lang, c, href)
        })
        .collect();
    render(
        &ConsolePage {
            lang,
            me: visitor.me(),
            lines,
            evaluator,
        },
        StatusCode::OK,
    )
}

/// A timeline entry as shown.
struct Entry {
    seq: String,
    at: String,
    what: String,
    who: String,
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct TimelinePart {
    id: String,
    lang: Lang,
    entries: Vec<Entry>,
}

async fn timeline_part(
    app: &App,
    caller: &Caller,
    lang: Lang,
    id: &str,
    offset: i32,
) -> Result<TimelinePart, AppError> {
    let mut entries: Vec<Entry> = app
        .timeline(caller, id)
        .await?
        .into_iter()
        .map(|e| Entry {
            seq: e.seq.map(|s| s.to_string()).unwrap_or_default(),
            at: e.at.map(|t| lang.when(t, offset)).unwrap_or_default(),
            what: lang
                .try_t(&format!("event-{}", e.kind))
                .unwrap_or_else(|| e.kind.replace('_', " ")),
            who: lang.t(&format!("role-{}", e.actor_role)),
        })
        .collect();
    entries.reverse();
    Ok(TimelinePart {
        id: id.to_owned(),
        lang,
        entries,
    })
}

/// `GET /console/tenders/{id}/timeline`: the timeline alone (what htmx polls).
pub(crate) async fn timeline(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let caller = match official(&visitor, &format!("/console/tenders/{id}")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    // Polled every few seconds: only the tender's zone, not the whole console.
    let offset = match app.readable(caller, &id).await {
        Ok((wf, _)) => wf.definition().calendar.utc_offset_minutes,
        Err(e) => return error(visitor.lang, &e),
    };
    match timeline_part(&app, caller, visitor.lang, &id, offset).await {
        Ok(part) => render(&part, StatusCode::OK),
        Err(e) => error(visitor.lang, &e),
    }
}

/// A red flag as shown.
struct Flag {
    id: String,
    name: String,
    rule: String,
    evidence: String,
    threshold: String,
    details: String,
}

/// A control for one command.
struct Control {
    command: String,
    /// Which inputs it has: `plain`, `reason`, `form`, `publish`, `amend`, `committee`,
    /// `objection`, `irregularity`.
    kind: &'static str,
    label: String,
    /// Numbered items to choose from (objections, irregularities): (number, text).
    items: Vec<(u32, String)>,
    /// Organisations that may be invited (invited procedures): (id, name).
    organisations: Vec<(String, String)>,
    /// Evaluators to appoint or draw: (id, name, fields, ties, on the committee now).
    evaluators: Vec<(String, String, String, String, bool)>,
    /// Fields generated from the command's form (sign-off, observation, irregularity).
    fields: Vec<Field>,
    /// A free-text reason (cancel, disqualification, resolution).
    reason: bool,
    /// The bidders to choose from (disqualification).
    bidders: Vec<String>,
    /// The gate signed (sign-off).
    gate: String,
    /// Gates it still needs.
    missing: Vec<String>,
    /// The refusal of the last attempt, if it was this command.
    refused: Option<String>,
}

#[derive(Template)]
#[template(path = "console_tender.html")]
struct TenderPage {
    lang: Lang,
    me: Me,
    line: Line,
    definition: String,
    chain_head: String,
    flags: Vec<Flag>,
    questions: Vec<(u32, String)>,
    answering: bool,
    controls: Vec<Control>,
    /// The timeline, rendered by its own template (the part htmx polls).
    timeline: String,
    done: Option<String>,
    nonce: String,
    /// The channels offered when publishing.
    channels: [&'static str; 3],
    /// The tender's zone, as people read it (for date inputs).
    zone: String,
}

/// What the console's address may say after an action.
#[derive(serde::Deserialize)]
pub(crate) struct Outcome {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    refused: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    detail: Option<String>,
    #[serde(default, rename = "lang")]
    _lang: Option<String>,
}

/// `GET /console/tenders/{id}`.
pub(crate) async fn tender(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(q): Query<Outcome>,
) -> Response {
    let here = format!("/console/tenders/{id}");
    let caller = match official(&visitor, &here) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if caller.is(Role::EVALUATOR) {
        return Redirect::to(&format!("/desk/tenders/{id}?lang={}", visitor.lang.tag()))
            .into_response();
    }
    let lang = visitor.lang;
    match tender_page(&app, &visitor, caller, &id, &q).await {
        Ok(page) => render(&page, StatusCode::OK),
        Err(e) => error(lang, &e),
    }
}

async fn tender_page(
    app: &App,
    visitor: &Visitor,
    caller: &Caller,
    id: &str,
    q: &Outcome,
) -> Result<TenderPage, AppError> {
    let lang = visitor.lang;
    let mut c = app.console_tender(caller, id).await?;
    let records = app.records(caller, id).await?;
    let view = app.tender_view(caller, id).await?.view;
    let bidders: Vec<String> = view["bids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b["bidder"].as_str().map(str::to_owned))
        .collect();
    let raw = app.tender_red_flags(caller, id).await?;
    c.red_flags = raw.len();
    let flags = raw
        .into_iter()
        .map(|f| Flag {
            id: f.id.to_owned(),
            name: lang
                .try_t(&format!("flag-{}", f.code))
                .unwrap_or_else(|| f.code.replace('_', " ")),
            rule: f.rule.to_owned(),
            evidence: f
                .evidence
                .iter()
                .map(|s| format!("#{s}"))
                .collect::<Vec<_>>()
                .join(" "),
            threshold: f.threshold.to_string(),
            details: f.details.to_string(),
        })
        .collect();
    let refused_for = |name: &str| {
        (q.command.as_deref() == Some(name)).then(|| {
            let mut text = refusal(lang, q.refused.as_deref().unwrap_or_default());
            if let Some(d) = &q.detail {
                text.push_str(" — ");
                text.push_str(d);
            }
            text
        })
    };
    let mut controls = Vec::new();
    let mut answering = false;
    for a in &c.available {
        let name = a.command.as_str();
        let missing: Vec<String> = a.missing_gates.iter().map(|g| local(lang, g)).collect();
        let base = |label: String| Control {
            command: name.to_owned(),
            kind: "plain",
            label,
            organisations: Vec::new(),
            items: Vec::new(),
            evaluators: Vec::new(),
            fields: Vec::new(),
            reason: false,
            bidders: Vec::new(),
            gate: String::new(),
            missing: missing.clone(),
            refused: refused_for(name),
        };
        let label = lang
            .try_t(&format!("command-{name}"))
            .unwrap_or_else(|| name.replace('_', " "));
        match a.command {
            CommandName::CloseSubmission
            | CommandName::OpenBids
            | CommandName::FinalizeEvaluation
            | CommandName::ProposeAward
            | CommandName::Award => controls.push(base(label)),
            CommandName::Cancel => controls.push(Control {
                kind: "reason",
                reason: true,
                ..base(label)
            }),
            CommandName::ResolveIrregularity if !c.open_irregularities.is_empty() => {
                controls.push(Control {
                    kind: "irregularity",
                    reason: true,
                    items: c.open_irregularities.clone(),
                    ..base(label)
                });
            }
            CommandName::AnswerObjection => {
                for (n, text) in &c.open_objections {
                    controls.push(Control {
                        kind: "objection",
                        items: vec![(*n, text.clone())],
                        ..base(label.clone())
                    });
                }
            }
            CommandName::DisqualifyBid => controls.push(Control {
                kind: "reason",
                reason: true,
                bidders: bidders.clone(),
                ..base(label)
            }),
            CommandName::Publish => controls.push(Control {
                kind: "publish",
                organisations: if c.invited {
                    c.organisations.clone()
                } else {
                    Vec::new()
                },
                fields: a
                    .form
                    .as_ref()
                    .map(|f| form::fields(lang, f, &Map::new(), &BTreeMap::new()))
                    .unwrap_or_default(),
                ..base(label)
            }),
            CommandName::Amend => controls.push(Control {
                kind: "amend",
                ..base(label)
            }),
            CommandName::AppointCommittee => controls.push(Control {
                kind: "committee",
                evaluators: c
                    .evaluators
                    .iter()
                    .map(|(e, on)| {
                        (
                            e.id.clone(),
                            e.name.clone(),
                            e.fields.join(", "),
                            e.ties.join(", "),
                            *on,
                        )
                    })
                    .collect(),
                ..base(label)
            }),
            CommandName::AnswerQuestion => answering = true,
            CommandName::SignOff => {
                for w in &c.waiting {
                    if !w.signers.iter().any(|s| s == caller.role()) {
                        continue;
                    }
                    controls.push(Control {
                        kind: "form",
                        fields: a
                            .form
                            .as_ref()
                            .map(|f| form::fields(lang, f, &Map::new(), &BTreeMap::new()))
                            .unwrap_or_default(),
                        gate: w.gate.clone(),
                        ..base(lang.t_with(
                            "command-sign_off-gate",
                            &[("gate", local(lang, &w.title).into())],
                        ))
                    });
                }
            }
            CommandName::RecordObservation | CommandName::RaiseIrregularity => {
                controls.push(Control {
                    kind: "form",
                    fields: a
                        .form
                        .as_ref()
                        .map(|f| form::fields(lang, f, &Map::new(), &BTreeMap::new()))
                        .unwrap_or_default(),
                    ..base(label)
                });
            }
            _ => {}
        }
    }
    let timeline = match timeline_part(app, caller, lang, id, c.utc_offset_minutes)
        .await?
        .render()
    {
        Ok(html) => html,
        Err(e) => {
            tracing::error!(error = %e, "the timeline failed to render");
            String::new()
        }
    };
    Ok(TenderPage {
        lang,
        me: visitor.me(),
        definition: local(lang, &c.definition),
        chain_head: records["chainHead"]["hash"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        flags,
        questions: c.open_questions.clone(),
        answering,
        controls,
        timeline,
        done: q.done.as_ref().map(|cmd| {
            lang.try_t(&format!("command-{cmd}"))
                .map(|l| lang.t_with("done", &[("what", l.into())]))
                .unwrap_or_else(|| lang.t("saved"))
        }),
        nonce: crate::session::random_token(),
        channels: CHANNELS,
        zone: lang.zone(c.utc_offset_minutes),
        line: line(lang, &c, String::new()),
    })
}

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
    axum::Form(posted): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = visitor.check(posted.get("csrf").map(String::as_str).unwrap_or_default()) {
        return r;
    }
    let here = format!("/console/tenders/{id}");
    let caller = match official(&visitor, &here) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let command = posted.get("command").cloned().unwrap_or_default();
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
    let c = match app.console_tender(caller, &id).await {
        Ok(c) => c,
        Err(e) => return error(lang, &e),
    };
    let answer = |refusal: Option<(&str, &str)>| match refusal {
        None => back(format!("done={}", crate::page::encode(&command))),
        Some((code, detail)) => refused(code, detail),
    };
    let json = command_json(lang, &c, &posted);
    execute_form(&app, caller, &id, json, posted.get("nonce"), lang, answer).await
}

/// Executes a console or desk form's command (its JSON, or what is missing from it) and
/// answers through `answer`: `None` when it was done, `Some((code, detail))` when the
/// request or the core refused it; failures get the error page.
async fn execute_form(
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
        Err(AppError::Store(StoreError::Rejected(r))) => {
            answer(Some((r.code.as_str(), &r.message)))
        }
        Err(e) => match refusal_code(&e) {
            Some(code) => answer(Some((&code, &e.to_string()))),
            None => error(lang, &e),
        },
    }
}

/// A bid on the desk.
struct DeskBid {
    bidder: String,
    receipt: String,
    /// The bid's content as (label, value) lines.
    content: Vec<(String, String)>,
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
                            (true, Value::Number(n)) => {
                                n.as_i64().map(form::yuan).unwrap_or_default()
                            }
                            (_, Value::String(s)) => lang
                                .try_t(&format!("choice-{s}"))
                                .unwrap_or_else(|| s.clone()),
                            (_, v) => v.to_string(),
                        };
                        (label, value)
                    })
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
            .map(|(_, title, weight)| (local(lang, title), weight.clone()))
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

/// A definition on the new-procedure page, with what binds it.
struct DefinitionCard {
    /// What to create from (`id@version`).
    spec: String,
    title: String,
    pack: String,
    rules: Vec<(String, String, String)>,
    min_bid_period: String,
    criteria: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "new_tender.html")]
struct NewTenderPage {
    lang: Lang,
    me: Me,
    cards: Vec<DefinitionCard>,
    problem: Option<String>,
}

/// A serde enum's name (`prc-bidding-law`).
fn slug<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn new_tender_page(
    app: &App,
    visitor: &Visitor,
    caller: &Caller,
    problem: Option<String>,
) -> Response {
    let lang = visitor.lang;
    let defs = match app.definitions(caller).await {
        Ok(d) => d,
        Err(e) => return error(lang, &e),
    };
    let cards = defs
        .iter()
        .map(|(r, wf)| {
            let d = wf.definition();
            let period = &d.schedule.min_bid_period;
            DefinitionCard {
                spec: format!("{}@{}", r.definition_id, r.version),
                title: format!(
                    "{} ({} {})",
                    local(lang, &d.title),
                    r.definition_id,
                    r.version
                ),
                pack: lang
                    .try_t(&format!("pack-{}", slug(&d.rule_pack)))
                    .unwrap_or_else(|| slug(&d.rule_pack)),
                rules: d
                    .rules
                    .iter()
                    .map(|rule| {
                        (
                            lang.t(&format!("basis-{}", slug(&rule.basis))),
                            rule.article.clone().unwrap_or_default(),
                            local(lang, &rule.summary),
                        )
                    })
                    .collect(),
                min_bid_period: format!(
                    "{} {}{}",
                    period.amount,
                    lang.t(&format!("unit-{}", slug(&period.unit))),
                    period
                        .rule
                        .as_ref()
                        .map(|r| format!(" ({r})"))
                        .unwrap_or_default()
                ),
                criteria: d
                    .evaluation
                    .criteria
                    .iter()
                    .map(|c| (local(lang, &c.title), format!("{}", c.weight)))
                    .collect(),
            }
        })
        .collect();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(
        &NewTenderPage {
            lang,
            me: visitor.me(),
            cards,
            problem,
        },
        status,
    )
}

/// `GET /console/new`: the definitions staff may create a procedure from.
pub(crate) async fn new_tender(State(app): State<Arc<App>>, visitor: Visitor) -> Response {
    let caller = match official(&visitor, "/console/new") {
        Ok(c) => c,
        Err(r) => return r,
    };
    new_tender_page(&app, &visitor, caller, None).await
}

/// `POST /console/new`: creates the draft and goes to its console.
pub(crate) async fn create(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    axum::Form(posted): axum::Form<HashMap<String, String>>,
) -> Response {
    if let Err(r) = visitor.check(posted.get("csrf").map(String::as_str).unwrap_or_default()) {
        return r;
    }
    let caller = match official(&visitor, "/console/new") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let get = |k: &str| posted.get(k).map(|s| s.trim()).unwrap_or_default();
    let lang = visitor.lang;
    match app
        .create_tender(
            caller,
            get("workflow"),
            get("tender"),
            Some(get("nonce")).filter(|n| !n.is_empty()),
        )
        .await
    {
        Ok(done) => Redirect::to(&format!(
            "/console/tenders/{}?lang={}",
            done.tender_id,
            lang.tag()
        ))
        .into_response(),
        Err(e) => match refusal_code(&e) {
            Some(code) => {
                let text = format!("{} — {e}", refusal(lang, &code));
                new_tender_page(&app, &visitor, caller, Some(text)).await
            }
            None => error(lang, &e),
        },
    }
}

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
    // Drawing a few hundred rows and subsetting the font is CPU work: off the async threads.
    match tokio::task::spawn_blocking(move || crate::pdf::render(&blocks)).await {
        Ok(Ok(bytes)) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    "application/pdf".to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"{}-records.pdf\"", page.line.id),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "the records PDF failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the PDF could not be made",
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "the records PDF failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the PDF could not be made",
            )
                .into_response()
        }
    }
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
