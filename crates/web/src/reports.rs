//! The quarterly report for the body's leadership (`/console/reports/quarterly`): per venue
//! and partner, what was delivered against the promise, with a chart, the evaluations, the
//! terminations and the inspectors' observations; and the same report as a PDF made by the
//! server (`…/quarterly.pdf`) and as CSV (`…/quarterly.csv`).

use crate::i18n::Lang;
use crate::page::{error, render};
use crate::session::official;
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use tenderflow_app::App;
use tenderflow_core::quarterly::{Quarter, QuarterlyReport};

/// `?quarter=2026-Q2` (the current quarter when absent).
#[derive(Debug, Deserialize)]
pub(crate) struct QuarterQuery {
    quarter: Option<String>,
}

/// One bar of the chart: label, share delivered, share promised, behind.
pub(crate) struct Bar {
    label: String,
    share: f64,
    promised: f64,
    behind: bool,
}

/// Where the chart's track starts and how long it is, in SVG units.
const TRACK_X: f64 = 220.0;
const TRACK_W: f64 = 360.0;

impl Bar {
    /// The bar's length on the track.
    fn width(&self) -> String {
        format!("{:.1}", self.share.clamp(0.0, 100.0) / 100.0 * TRACK_W)
    }
    /// Where the promise's mark stands.
    fn mark(&self) -> String {
        format!(
            "{:.1}",
            TRACK_X + self.promised.clamp(0.0, 100.0) / 100.0 * TRACK_W
        )
    }
    /// The share delivered as text.
    fn share_text(&self) -> String {
        format!("{:.1}", self.share)
    }
}

#[derive(Template)]
#[template(path = "quarterly.html")]
struct QuarterlyPage {
    lang: Lang,
    me: Me,
    report: QuarterlyReport,
    bars: Vec<Bar>,
    previous: Quarter,
    next: Quarter,
}

fn share(s: tenderflow_core::Score) -> f64 {
    s.raw() as f64 / 10_000.0
}

/// The chart's bars: each partner's delivered share against its promise.
fn bars(report: &QuarterlyReport) -> Vec<Bar> {
    report
        .partners
        .iter()
        .map(|p| Bar {
            label: if p.venue.is_empty() {
                p.partner_name.clone()
            } else {
                format!("{} · {}", p.venue, p.partner_name)
            },
            share: share(p.share),
            promised: share(p.promised),
            behind: p.behind,
        })
        .collect()
}

async fn load(
    app: &App,
    visitor: &Visitor,
    q: &QuarterQuery,
    here: &str,
) -> Result<QuarterlyReport, Response> {
    let caller = official(visitor, here)?;
    let quarter = match q.quarter.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => {
            tenderflow_app::reports::parse_quarter(text).map_err(|e| error(visitor.lang, &e))?
        }
        None => app.current_quarter(),
    };
    app.quarterly_report(caller, quarter)
        .await
        .map_err(|e| error(visitor.lang, &e))
}

/// `GET /console/reports/quarterly`.
pub(crate) async fn quarterly(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(q): Query<QuarterQuery>,
) -> Response {
    let report = match load(&app, &visitor, &q, "/console/reports/quarterly").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let quarter = report.quarter;
    let previous = quarter.previous();
    let page = QuarterlyPage {
        lang: visitor.lang,
        me: visitor.me(),
        bars: bars(&report),
        report,
        previous,
        next: quarter.next(),
    };
    render(&page, StatusCode::OK)
}

/// `GET /console/reports/quarterly.csv`.
pub(crate) async fn quarterly_csv(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(q): Query<QuarterQuery>,
) -> Response {
    match load(&app, &visitor, &q, "/console/reports/quarterly").await {
        Ok(r) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"quarterly-{}.csv\"", r.quarter),
                ),
            ],
            r.to_csv(),
        )
            .into_response(),
        Err(r) => r,
    }
}

/// `GET /console/reports/quarterly.pdf`.
pub(crate) async fn quarterly_pdf(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Query(q): Query<QuarterQuery>,
) -> Response {
    let report = match load(&app, &visitor, &q, "/console/reports/quarterly").await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let name = format!("quarterly-{}.pdf", report.quarter);
    crate::pdf::answer(name, move || quarterly_report_pdf(&report, lang)).await
}

/// The quarterly report as a PDF in `lang`: totals, the chart of shares delivered against
/// promised, the table per partner and per item, evaluations, terminations, oversight.
pub fn quarterly_report_pdf(report: &QuarterlyReport, lang: Lang) -> Result<Vec<u8>, String> {
    use crate::pdf::Block;
    let t = |k: &str| lang.t(k);
    let mut blocks = vec![
        Block::Title(format!("{} {}", t("quarterly-title"), report.quarter)),
        Block::Text(format!("{} – {}", report.from, report.to)),
        Block::Text(format!(
            "{}: {} · {}: {} · {}: {} · {}: {}",
            t("quarterly-activities"),
            report.totals.activities,
            t("quarterly-participants"),
            report.totals.participants,
            t("quarterly-offered"),
            report.totals.offered,
            t("quarterly-given"),
            report.totals.given
        )),
        Block::Heading(t("quarterly-chart")),
        Block::Bars {
            bars: bars(report)
                .into_iter()
                .map(|b| (b.label, b.share, Some(b.promised)))
                .collect(),
            max: 100.0,
            legend: t("quarterly-legend"),
        },
        Block::Heading(t("quarterly-partners")),
    ];
    let headers = [
        "quarterly-venue",
        "quarterly-partner",
        "quarterly-activities",
        "quarterly-participants",
        "quarterly-offered",
        "quarterly-given",
        "quarterly-share",
        "quarterly-complaints",
        "quarterly-evaluation",
        "col-status",
    ]
    .iter()
    .map(|k| t(k))
    .collect();
    let rows = report
        .partners
        .iter()
        .map(|p| {
            vec![
                p.venue.clone(),
                p.partner_name.clone(),
                p.activities.to_string(),
                p.participants.to_string(),
                p.offered.to_string(),
                (p.free + p.discounted).to_string(),
                format!(
                    "{:.1} / {:.1}{}",
                    share(p.share),
                    share(p.promised),
                    if p.behind { " !" } else { "" }
                ),
                p.complaints.to_string(),
                p.evaluations
                    .iter()
                    .map(|e| {
                        format!(
                            "{}: {}{}",
                            e.round,
                            e.total,
                            if e.warning { " !" } else { "" }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                status(lang, &p.status),
            ]
        })
        .collect();
    blocks.push(Block::Table(headers, rows));
    let items: Vec<Vec<String>> = report
        .partners
        .iter()
        .flat_map(|p| {
            p.items.iter().map(|i| {
                vec![
                    p.partner_name.clone(),
                    i.item.clone(),
                    i.activities.to_string(),
                    i.offered.to_string(),
                    i.given.to_string(),
                    format!("{:.1}", share(i.share)),
                ]
            })
        })
        .collect();
    if !items.is_empty() {
        blocks.push(Block::Heading(t("quarterly-items")));
        let headers = [
            "quarterly-partner",
            "quarterly-item",
            "quarterly-activities",
            "quarterly-offered",
            "quarterly-given",
            "quarterly-share",
        ]
        .iter()
        .map(|k| t(k))
        .collect();
        blocks.push(Block::Table(headers, items));
    }
    let ended: Vec<String> = report
        .partners
        .iter()
        .filter_map(|p| {
            p.terminated
                .as_ref()
                .map(|r| format!("{}: {r}", p.partner_name))
        })
        .collect();
    if !ended.is_empty() {
        blocks.push(Block::Heading(t("quarterly-terminations")));
        blocks.extend(ended.into_iter().map(Block::Text));
    }
    blocks.push(Block::Heading(t("quarterly-oversight")));
    if report.oversight.is_empty() {
        blocks.push(Block::Text(t("quarterly-no-oversight")));
    }
    for o in &report.oversight {
        blocks.push(Block::Text(format!(
            "{} · {} · {} · {}: {}",
            o.at, o.tender_id, o.by, o.kind, o.text
        )));
    }
    crate::pdf::render(&blocks)
}

fn status(lang: Lang, s: &str) -> String {
    lang.try_t(&format!("agreement-{s}"))
        .unwrap_or_else(|| s.to_owned())
}
