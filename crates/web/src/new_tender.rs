//! `/console/new`: the registered definitions with what binds them (rule pack, rules, the
//! least bid period, criteria), and creating a draft from one.

use crate::console::local;
use crate::i18n::Lang;
use crate::page::{error, render};
use crate::page::{refusal, refusal_code};
use crate::session::official;
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use std::collections::HashMap;
use std::sync::Arc;
use tenderflow_app::{App, Caller};

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
