//! The officials' console.
//!
//! - `/console`: staff and inspectors see every tender with its state, deadline, what it
//!   waits for (a gate's sign-off, answers to questions), overdue obligations and red flags;
//!   evaluators see the tenders of their committees.
//! - `/console/tenders/{id}`: one tender: the live timeline (htmx polls
//!   `…/timeline` every five seconds; without JavaScript a reload shows the same), the red
//!   flags with rule, evidence and threshold, the questions to answer, and a control for each
//!   command the definition allows the caller now; refusals come back next to the control,
//!   in the page's language, with the core's own explanation.
//!
//! The forms' commands are built in [`crate::actions`]; the desk, the new-procedure page
//! and the records have modules of their own.

use crate::form::{self, Field};
use crate::i18n::Lang;
use crate::page::refusal;
use crate::page::{error, render};
use crate::session::{Me, Visitor, official};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Map;
use std::collections::BTreeMap;
use std::sync::Arc;
use tenderflow_app::console::ConsoleTender;
use tenderflow_app::{App, AppError, Caller};
use tenderflow_core::Role;
use tenderflow_core::definition::{CommandName, Localized};

/// A localized text in the page's language.
pub(crate) fn local(lang: Lang, l: &Localized) -> String {
    match lang {
        Lang::Zh => l.zh_cn.clone(),
        Lang::En => l.en.clone(),
    }
}

/// A tender's line on the dashboard.
pub(crate) struct Line {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) halted: bool,
    pub(crate) deadline: String,
    pub(crate) waiting: Vec<String>,
    pub(crate) overdue: Vec<String>,
    pub(crate) questions: usize,
    pub(crate) flags: usize,
    /// Where the line links to (the console, or an evaluator's desk).
    pub(crate) href: String,
}

pub(crate) fn line(lang: Lang, c: &ConsoleTender, href: String) -> Line {
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
    /// Its current tender documents as (id, name): what a new one may replace.
    documents: Vec<(String, String)>,
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
        chain_head: records.chain_head.hash.clone(),
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
        documents: c.documents.clone(),
        line: line(lang, &c, String::new()),
    })
}

use crate::actions::CHANNELS;
