//! The public notice board (no sign-in): open tenders first, each with its buyer, procedure,
//! deadline and a countdown; a tender's page with the announcement, amendments, the opening
//! (bids received, after opening) and the award. Rendered from the compiled OCDS release, so
//! it shows the same facts as the OCDS feed and never more.

use crate::i18n::Lang;
use crate::page::{error, render};
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;
use std::sync::Arc;
use tenderflow_app::App;
use tenderflow_app::board::Notice;
use tenderflow_app::commands::Submission;
use tenderflow_core::Timestamp;
use tenderflow_core::model::{AskQuestion, CommandBody};

/// One line of the board.
struct Row {
    id: String,
    title: String,
    buyer: String,
    procedure: String,
    status: String,
    deadline: String,
    countdown: String,
    open: bool,
}

#[derive(Template)]
#[template(path = "board.html")]
struct Board {
    lang: Lang,
    me: Me,
    rows: Vec<Row>,
}

/// An amendment as shown.
struct Amendment {
    date: String,
    text: String,
}

/// A published tender document.
struct NoticeDocument {
    id: String,
    name: String,
    published: String,
    /// When it was replaced, if it was.
    superseded: Option<String>,
    /// Size and SHA-256, as the record holds them.
    fingerprint: String,
}

/// A published question and its answer.
struct Enquiry {
    question: String,
    answer: String,
    answered: String,
}

/// A bid as the opening record shows it (public once the bids are opened).
struct OpenedBid {
    tenderer: String,
    received: String,
    price: String,
    valid: bool,
}

/// An award as shown.
struct Award {
    title: String,
    supplier: String,
    value: String,
}

/// A partner's agreement on the notice board: its published service list.
struct Agreement {
    supplier: String,
    terminated: bool,
    /// The service items (title and discount).
    items: Vec<String>,
    /// The published terms (opening hours, how to sign up, …) and, when terminated, why.
    terms: String,
    signed: String,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    lang: Lang,
    me: Me,
    row: Row,
    /// A signed-in bidder's own bid, if any: its receipt codes.
    my_receipts: Vec<String>,
    /// The question form's outcome (after asking): a message, and whether it is an error.
    asked: Option<(String, bool)>,
    /// The question form's idempotency key.
    nonce: String,
    description: String,
    ocid: String,
    published: String,
    amendments: Vec<Amendment>,
    documents: Vec<NoticeDocument>,
    enquiries: Vec<Enquiry>,
    /// The opened bids, once the bids are opened.
    opened: Option<Vec<OpenedBid>>,
    awards: Vec<Award>,
    agreements: Vec<Agreement>,
    /// A delegated procedure: who runs it, for whom.
    delegation: Option<(String, String)>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The `name`s of a list of organisations, comma-separated.
fn names(list: &Value) -> String {
    items(list)
        .map(|o| text(&o["name"]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The items of a JSON array (none when it is absent).
fn items(v: &Value) -> impl Iterator<Item = &Value> {
    v.as_array().into_iter().flatten()
}

/// A text field of the release in the page's language (its OCDS language variant,
/// `title_zh-CN`), or as published.
fn variant(v: &Value, field: &str, lang: Lang) -> String {
    v[format!("{field}_{}", lang.tag())]
        .as_str()
        .map_or_else(|| text(&v[field]), str::to_owned)
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().and_then(Timestamp::parse)
}

/// A known code's human name from the catalogue (`{prefix}-{code}`), or the catalogue's word
/// for "other": never the slug itself.
fn named(lang: Lang, prefix: &str, code: &str, known: &[&str]) -> String {
    if known.contains(&code) {
        lang.t(&format!("{prefix}-{code}"))
    } else {
        lang.t(&format!("{prefix}-other"))
    }
}

fn row(lang: Lang, n: &Notice, now: Timestamp) -> Row {
    let t = &n.release["tender"];
    let status = text(&t["status"]);
    let end = time(&t["tenderPeriod"]["endDate"]);
    let open = status == "active" && end.is_some_and(|e| e > now);
    // Bids are no longer taken once the deadline has passed, whatever the release's status
    // says until the award: the notice says so.
    let status = if status == "active" && !open && end.is_some() {
        "closed".to_owned()
    } else {
        status
    };
    Row {
        id: n.id.clone(),
        title: variant(t, "title", lang),
        buyer: text(&n.release["buyer"]["name"]),
        procedure: named(
            lang,
            "method",
            t["procurementMethod"].as_str().unwrap_or_default(),
            &["open", "selective", "limited", "direct"],
        ),
        status: named(
            lang,
            "status",
            &status,
            &[
                "planning",
                "active",
                "closed",
                "complete",
                "cancelled",
                "unsuccessful",
                "withdrawn",
            ],
        ),
        deadline: end
            .map(|e| lang.when(e, n.utc_offset_minutes))
            .unwrap_or_default(),
        countdown: match end {
            Some(e) if status == "active" => lang.countdown(now, e),
            _ => String::new(),
        },
        open,
    }
}

/// `GET /`: the notice board.
pub(crate) async fn board(State(app): State<Arc<App>>, visitor: Visitor) -> Response {
    let lang = visitor.lang;
    let now = app.clock().now();
    match app.notices().await {
        Ok(notices) => {
            let rows = notices.iter().map(|n| row(lang, n, now)).collect();
            let page = Board {
                lang,
                me: visitor.me(),
                rows,
            };
            render(&page, StatusCode::OK)
        }
        Err(e) => error(lang, &e),
    }
}

/// `GET /notices/{id}`: one tender's notice.
pub(crate) async fn notice(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let lang = visitor.lang;
    let n = match app.notice(&id).await {
        Ok(n) => n,
        Err(e) => return error(lang, &e),
    };
    let now = app.clock().now();
    let t = &n.release["tender"];
    // An instant of the release as people read it in the tender's zone.
    let when = |v: &Value| {
        time(v)
            .map(|d| lang.when(d, n.utc_offset_minutes))
            .unwrap_or_default()
    };
    let amendments = items(&t["amendments"])
        .map(|a| Amendment {
            date: when(&a["date"]),
            text: text(&a["description"]),
        })
        .collect();
    // Money as the currency's amount, read exactly from the release's decimal.
    let nobody = tenderflow_core::present::Names::new();
    let money = |v: &Value| match (
        v["amount"]
            .as_number()
            .and_then(tenderflow_core::Money::from_major),
        v["currency"].as_str(),
    ) {
        (Some(amount), Some(cur)) => lang
            .presenter(n.utc_offset_minutes, cur, &nobody)
            .money(amount),
        _ => String::new(),
    };
    // Present once the bids are opened.
    let opened = n.release["bids"]["details"].as_array().map(|bids| {
        bids.iter()
            .map(|b| OpenedBid {
                tenderer: names(&b["tenderers"]),
                received: when(&b["date"]),
                price: money(&b["value"]),
                valid: b["status"] != "disqualified",
            })
            .collect()
    });
    let documents = items(&t["documents"])
        .map(|d| NoticeDocument {
            id: text(&d["id"]),
            name: text(&d["title"]),
            published: when(&d["datePublished"]),
            superseded: d.get("dateModified").map(&when),
            fingerprint: text(&d["description"])
                .split(" · superseded")
                .next()
                .unwrap_or_default()
                .to_owned(),
        })
        .collect();
    let enquiries = items(&t["enquiries"])
        .map(|q| Enquiry {
            question: text(&q["description"]),
            answer: text(&q["answer"]),
            answered: when(&q["dateAnswered"]),
        })
        .collect();
    let awards = items(&n.release["awards"])
        .map(|a| Award {
            title: text(&a["title"]),
            supplier: names(&a["suppliers"]),
            value: money(&a["value"]),
        })
        .collect();
    // Agreements in force (and terminated ones, with their reason), as OCDS publishes them.
    let agreements = items(&n.release["contracts"])
        .map(|c| Agreement {
            supplier: text(&c["title"]),
            terminated: c["status"] == "terminated",
            items: items(&c["items"])
                .map(|i| text(&i["description"]))
                .collect(),
            terms: text(&c["description"]),
            signed: c["dateSigned"]
                .as_str()
                .and_then(tenderflow_core::Timestamp::parse)
                .map(|t| lang.when(t, n.utc_offset_minutes))
                .unwrap_or_default(),
        })
        .collect();
    let interested = items(&n.release["parties"])
        .find(|p| items(&p["roles"]).any(|r| r == "interestedParty"))
        .map(|p| text(&p["name"]));
    let delegation =
        interested.map(|by| (text(&n.release["tender"]["procuringEntity"]["name"]), by));
    let my_receipts = match &visitor.caller {
        Some(c) if c.is(tenderflow_core::Role::BIDDER) => app
            .receipts(c, &id)
            .await
            .map(|r| r.into_iter().map(|r| r.code).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let asked = match q.asked.as_deref() {
        Some("ok") => Some((lang.t("question-sent"), false)),
        Some(code) => Some((crate::page::refusal(lang, code), true)),
        None => None,
    };
    let page = NoticePage {
        lang,
        me: visitor.me(),
        my_receipts,
        asked,
        nonce: crate::session::random_token(),
        description: variant(t, "description", lang),
        ocid: n.ocid.clone(),
        published: when(&t["tenderPeriod"]["startDate"]),
        amendments,
        documents,
        enquiries,
        opened,
        awards,
        agreements,
        delegation,
        row: row(lang, &n, now),
    };
    render(&page, StatusCode::OK)
}

/// What a notice's address may say.
#[derive(serde::Deserialize)]
pub(crate) struct NoticeQuery {
    /// The outcome of asking a question (`ok` or a refusal's code).
    #[serde(default)]
    asked: Option<String>,
    #[serde(default, rename = "lang")]
    _lang: Option<String>,
}

/// The question form.
#[derive(serde::Deserialize)]
pub(crate) struct QuestionForm {
    csrf: String,
    text: String,
    /// The form's idempotency key (a repeated post asks once).
    nonce: String,
}

/// `POST /notices/{id}/questions`: a signed-in bidder asks a clarification question; the
/// answer is published to every bidder without naming who asked.
pub(crate) async fn ask(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<QuestionForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let here = format!("/notices/{id}");
    let caller = match visitor.require(&here) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let s = Submission {
        tender_id: id.clone(),
        body: CommandBody::AskQuestion(AskQuestion {
            text: form.text.trim().to_owned(),
        }),
        key: Some(form.nonce.chars().take(64).collect()),
        if_match: None,
    };
    let outcome = match app.execute(caller, s).await {
        Ok(_) => "ok".to_owned(),
        Err(e) => match crate::page::refusal_code(&e) {
            Some(code) => code,
            None => return error(visitor.lang, &e),
        },
    };
    Redirect::to(&format!(
        "{here}?lang={}&asked={outcome}#questions",
        visitor.lang.tag()
    ))
    .into_response()
}
