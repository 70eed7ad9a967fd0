//! The bidder portal: "my bids" (each tender the bidder took part in, its receipts and
//! result), the bid form generated from the definition's bid form, submitting, replacing and
//! withdrawing until the deadline, and the printable receipt. Every action is the application's
//! `execute` with the signed-in bidder as the actor: the core decides, the page shows.

use crate::form::{self, Field};
use crate::i18n::Lang;
use crate::page::{error, render};
use crate::page::{refusal, refusal_code};
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tenderflow_app::commands::Submission;
use tenderflow_app::portal::{BidderTender, Outcome};
use tenderflow_app::{App, AppError, Caller};
use tenderflow_core::model::{CommandBody, SubmitBid, WithdrawBid};

/// A tender on the "my bids" page.
struct MyTender {
    id: String,
    title: String,
    deadline: String,
    countdown: String,
    open: bool,
    receipts: Vec<String>,
    result: String,
}

#[derive(Template)]
#[template(path = "my.html")]
struct MyPage {
    lang: Lang,
    me: Me,
    tenders: Vec<MyTender>,
}

/// The tender's bid deadline as people read it in its zone.
fn deadline(lang: Lang, t: &BidderTender) -> String {
    t.deadline
        .map(|d| lang.when(d, t.utc_offset_minutes))
        .unwrap_or_default()
}

/// The time left to bid, while bids are open.
fn countdown(lang: Lang, t: &BidderTender, now: tenderflow_core::Timestamp) -> String {
    match t.deadline {
        Some(d) if t.open => lang.countdown(now, d),
        _ => String::new(),
    }
}

/// The outcome of a bidder's result in words.
fn outcome(lang: Lang, t: &BidderTender) -> String {
    let Some(r) = &t.result else {
        return if t.open {
            lang.t("result-open")
        } else {
            lang.t("result-pending")
        };
    };
    let mut s = match r.outcome {
        Outcome::Won => lang.t("result-won"),
        Outcome::Awarded => lang.t("result-awarded"),
        Outcome::NotChosen => lang.t("result-not-chosen"),
        Outcome::Pending => lang.t("result-pending"),
    };
    if let Some(rank) = r.rank {
        s.push_str(" · ");
        s.push_str(&lang.t_with(
            "result-rank",
            &[
                ("rank", rank.into()),
                ("total", r.total.clone().unwrap_or_default().into()),
            ],
        ));
    }
    if r.qualifies == Some(false) {
        s.push_str(" · ");
        s.push_str(&lang.t("result-not-qualified"));
    }
    s
}

/// `GET /my`: the signed-in bidder's tenders, receipts and results.
pub(crate) async fn my(State(app): State<Arc<App>>, visitor: Visitor) -> Response {
    let caller = match bidder(&visitor, "/my") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let now = app.clock().now();
    let list = match app.bidder_tenders(caller).await {
        Ok(l) => l,
        Err(e) => return error(lang, &e),
    };
    let tenders = list
        .iter()
        .map(|t| MyTender {
            id: t.id.clone(),
            title: t.title(lang.tag()).to_owned(),
            deadline: deadline(lang, t),
            countdown: countdown(lang, t, now),
            open: t.open,
            receipts: t.receipts.iter().map(|r| r.code.clone()).collect(),
            result: outcome(lang, t),
        })
        .collect();
    render(
        &MyPage {
            lang,
            me: visitor.me(),
            tenders,
        },
        StatusCode::OK,
    )
}

/// The signed-in bidder, a redirect to sign in, or 403 for another role.
fn bidder<'a>(visitor: &'a Visitor, here: &str) -> Result<&'a Caller, Response> {
    let caller = visitor.require(here)?;
    if caller.is(tenderflow_core::Role::BIDDER) {
        Ok(caller)
    } else if visitor.me().console {
        // Officials and evaluators work in the console.
        Err(Redirect::to(&format!("/console?lang={}", visitor.lang.tag())).into_response())
    } else {
        Err(error(
            visitor.lang,
            &AppError::Forbidden("only bidders have a bid portal".into()),
        ))
    }
}

#[derive(Template)]
#[template(path = "bid.html")]
struct BidPage {
    lang: Lang,
    me: Me,
    id: String,
    title: String,
    deadline: String,
    countdown: String,
    open: bool,
    /// Whether the bidder has a bid already (the form replaces it).
    replacing: bool,
    fields: Vec<Field>,
    /// The documents the bid carries, by slot.
    slots: Vec<SlotField>,
    /// Problems not tied to a field (a refusal by the core).
    problem: Option<String>,
    nonce: String,
}

/// A document slot of the bid form: a file input.
struct SlotField {
    id: String,
    title: String,
    required: bool,
    multiple: bool,
    /// The `accept` attribute (media types).
    accept: String,
    /// The current bid's files in this slot (kept unless a new file is chosen).
    current: Vec<String>,
    error: Option<String>,
}

fn slot_fields(lang: Lang, t: &BidderTender, errors: &BTreeMap<String, String>) -> Vec<SlotField> {
    let current = t
        .receipts
        .first()
        .map(|r| r.documents.as_slice())
        .unwrap_or_default();
    t.slots
        .iter()
        .map(|s| SlotField {
            id: s.id.clone(),
            title: if lang.tag() == "zh-CN" {
                s.title.zh_cn.clone()
            } else {
                s.title.en.clone()
            },
            required: s.required,
            multiple: s.multiple,
            accept: s
                .media_types
                .as_ref()
                .map(|m| m.join(","))
                .unwrap_or_default(),
            current: current
                .iter()
                .filter(|d| d.slot.as_deref() == Some(s.id.as_str()))
                .map(|d| d.name.clone())
                .collect(),
            error: errors.get(&format!("doc:{}", s.id)).cloned(),
        })
        .collect()
}

fn bid_page(
    lang: Lang,
    visitor: &Visitor,
    t: &BidderTender,
    now: tenderflow_core::Timestamp,
    values: &Map<String, Value>,
    errors: &BTreeMap<String, String>,
    problem: Option<String>,
) -> BidPage {
    BidPage {
        lang,
        me: visitor.me(),
        id: t.id.clone(),
        title: t.title(lang.tag()).to_owned(),
        deadline: deadline(lang, t),
        countdown: countdown(lang, t, now),
        open: t.open,
        replacing: !t.receipts.is_empty(),
        fields: form::fields(lang, &t.form, values, errors),
        slots: slot_fields(lang, t, errors),
        problem,
        nonce: crate::session::random_token(),
    }
}

/// `GET /notices/{id}/bid`: the bid form, filled with the bidder's current bid if it has
/// one (the organisation's name otherwise).
pub(crate) async fn bid_form(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
) -> Response {
    let caller = match bidder(&visitor, &format!("/notices/{id}/bid")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let t = match app.bidder_tender(caller, &id).await {
        Ok(t) => t,
        Err(e) => return error(visitor.lang, &e),
    };
    let mut values = t
        .bid
        .as_ref()
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if values.is_empty() && t.form["properties"].get("organisation").is_some() {
        values.insert(
            "organisation".into(),
            caller.account.display_name.clone().into(),
        );
    }
    let page = bid_page(
        visitor.lang,
        &visitor,
        &t,
        app.clock().now(),
        &values,
        &BTreeMap::new(),
        None,
    );
    render(&page, StatusCode::OK)
}

/// `POST /notices/{id}/bid`: submits (or replaces) the bid. Problems go back to the form,
/// next to their fields, with what was entered kept.
pub(crate) async fn submit(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let caller = match bidder(&visitor, &format!("/notices/{id}/bid")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let t = match app.bidder_tender(caller, &id).await {
        Ok(t) => t,
        Err(e) => return error(lang, &e),
    };
    let posted = match crate::documents::read_form(&app, &visitor, caller, &id, request).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let now = app.clock().now();
    let (content, mut errors) = form::parse(lang, &t.form, &posted.fields);
    for (slot, problem) in &posted.refused {
        errors.insert(format!("doc:{slot}"), problem.clone());
    }
    if !errors.is_empty() {
        let page = bid_page(lang, &visitor, &t, now, &content, &errors, None);
        return render(&page, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // New files replace the current bid's in their slot; the others are kept.
    let mut documents = posted.uploads;
    for d in t
        .receipts
        .first()
        .map(|r| r.documents.as_slice())
        .unwrap_or_default()
    {
        if !documents.iter().any(|n| n.slot == d.slot) {
            documents.push(d.clone());
        }
    }
    let payload = SubmitBid {
        documents,
        lot: None,
        content: Arc::new(Value::Object(content.clone())),
    };
    let body = if t.receipts.is_empty() {
        CommandBody::SubmitBid(payload)
    } else {
        CommandBody::ReplaceBid(payload)
    };
    let s = Submission {
        tender_id: id.clone(),
        body,
        key: posted
            .fields
            .get("nonce")
            .map(|n| n.chars().take(64).collect()),
        if_match: None,
    };
    match app.execute(caller, s).await {
        Ok(_) => {
            Redirect::to(&format!("/notices/{id}/receipt?lang={}", lang.tag())).into_response()
        }
        Err(AppError::Rejected(r)) if r.code == tenderflow_core::RejectionCode::FormInvalid => {
            let errors = form::core_errors(&r.details, &t.form, lang);
            let problem = errors.get("").cloned();
            let page = bid_page(lang, &visitor, &t, now, &content, &errors, problem);
            render(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => match refusal_code(&e) {
            Some(code) => {
                let page = bid_page(
                    lang,
                    &visitor,
                    &t,
                    now,
                    &content,
                    &BTreeMap::new(),
                    Some(refusal(lang, &code)),
                );
                render(&page, StatusCode::CONFLICT)
            }
            None => error(lang, &e),
        },
    }
}

/// The withdrawal form.
#[derive(serde::Deserialize)]
pub(crate) struct WithdrawForm {
    csrf: String,
}

/// `POST /notices/{id}/withdraw`: withdraws the bidder's bid (until the deadline).
pub(crate) async fn withdraw(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<WithdrawForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let caller = match bidder(&visitor, &format!("/notices/{id}/receipt")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let s = Submission {
        tender_id: id.clone(),
        body: CommandBody::WithdrawBid(WithdrawBid { lot: None }),
        key: None,
        if_match: None,
    };
    let lang = visitor.lang;
    match app.execute(caller, s).await {
        Ok(_) => Redirect::to(&format!("/my?lang={}", lang.tag())).into_response(),
        Err(e) => match refusal_code(&e) {
            Some(code) => {
                let page = crate::page::Message::new(
                    &visitor,
                    lang.t("withdraw-refused"),
                    refusal(lang, &code),
                )
                .link(
                    format!("/notices/{id}/receipt?lang={}", lang.tag()),
                    lang.t("receipt-title"),
                );
                render(&page, StatusCode::CONFLICT)
            }
            None => error(lang, &e),
        },
    }
}

#[derive(Template)]
#[template(path = "receipt.html")]
struct ReceiptPage {
    lang: Lang,
    me: Me,
    id: String,
    title: String,
    bidder: String,
    open: bool,
    deadline: String,
    receipts: Vec<ReceiptLine>,
    result: String,
}

/// One receipt on the receipt page.
struct ReceiptLine {
    code: String,
    received: String,
    commitment: String,
    /// The recipe it was made with (`jcs`, `v1`).
    recipe: String,
    /// Its documents as (name, size, SHA-256).
    documents: Vec<(String, u64, String)>,
    /// The documents exactly as the commitment covers them (JSON), for reproducing it.
    documents_json: String,
}

/// What the receipt page's address may say.
#[derive(serde::Deserialize)]
pub(crate) struct ReceiptQuery {
    #[serde(default, rename = "lang")]
    _lang: Option<String>,
}

/// `GET /notices/{id}/receipt`: the bidder's receipt (printable): when the bid was received,
/// its commitment, what that means and how to check it; the result once published.
pub(crate) async fn receipt(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(_q): Query<ReceiptQuery>,
) -> Response {
    let caller = match bidder(&visitor, &format!("/notices/{id}/receipt")) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let t = match app.bidder_tender(caller, &id).await {
        Ok(t) => t,
        Err(e) => return error(lang, &e),
    };
    let page = ReceiptPage {
        lang,
        me: visitor.me(),
        id: t.id.clone(),
        title: t.title(lang.tag()).to_owned(),
        bidder: caller.account.display_name.clone(),
        open: t.open,
        deadline: deadline(lang, &t),
        receipts: t
            .receipts
            .iter()
            .map(|r| ReceiptLine {
                code: r.code.clone(),
                received: lang.when(r.received_at, t.utc_offset_minutes),
                commitment: r.commitment.clone(),
                recipe: serde_json::to_value(r.commitment_recipe)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                documents: r
                    .documents
                    .iter()
                    .map(|d| (d.name.clone(), d.size, d.sha256.clone()))
                    .collect(),
                documents_json: serde_json::to_string_pretty(&r.documents).unwrap_or_default(),
            })
            .collect(),
        result: outcome(lang, &t),
    };
    render(&page, StatusCode::OK)
}
