//! The procedure's records for printing (`/console/tenders/{id}/records`) and as a PDF made
//! by the server (`…/records.pdf`): each record with the chain head it describes and the
//! signatures of its gate.

use crate::console::{Line, line};
use crate::i18n::Lang;
use crate::page::{error, render};
use crate::session::official;
use crate::session::{Me, Visitor};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;
use tenderflow_app::App;
use tenderflow_core::model::Candidate;
use tenderflow_core::present::Presenter;
use tenderflow_core::records::SupervisionEntry;

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

/// A table: (caption, headers, rows), or nothing when it has no rows; the caption and the
/// headers are catalogue keys.
fn table(
    lang: Lang,
    caption: &str,
    headers: &[&str],
    rows: Vec<Vec<String>>,
) -> Option<(String, Vec<String>, Vec<Vec<String>>)> {
    let headers = headers.iter().map(|h| lang.t(h)).collect();
    table_with(lang, caption, headers, rows)
}

/// A table whose headers are given as they are shown.
fn table_with(
    lang: Lang,
    caption: &str,
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
) -> Option<(String, Vec<String>, Vec<Vec<String>>)> {
    (!rows.is_empty()).then(|| (lang.t(caption), headers, rows))
}

/// A fact: (label, value).
fn fact(lang: Lang, label: &str, value: String) -> (String, String) {
    (lang.t(label), value)
}

/// A hash shortened for reading (the full one is in the API and the chain).
fn short(hash: &str) -> String {
    hash.get(..16)
        .map_or_else(|| hash.to_owned(), |h| format!("{h}…"))
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

/// Every record of a tender for printing (the page and the PDF): parties by name, money
/// with its currency, times in the tender's zone, the definition's labels in the reader's
/// language.
async fn records_page(app: &App, visitor: &Visitor, id: &str) -> Result<RecordsPage, Response> {
    let caller = official(visitor, &format!("/console/tenders/{id}/records"))?;
    let lang = visitor.lang;
    let (c, readable) = match (
        app.console_tender(caller, id).await,
        app.readable_records(caller, id).await,
    ) {
        (Ok(c), Ok(r)) => (c, r),
        (Err(e), _) | (_, Err(e)) => return Err(error(lang, &e)),
    };
    let wf = &readable.workflow;
    let d = wf.definition();
    let r = &readable.records.records;
    let currency = d.publication.currency.as_deref().unwrap_or("CNY");
    let p = lang.presenter(c.utc_offset_minutes, currency, &readable.names);
    let party = |id: &str| p.party(id).to_owned();
    let signatures = |gate: &str| -> Option<(String, Vec<String>)> {
        let signed = r
            .signatures(gate)
            .map(|s| {
                format!(
                    "{} · {} · {}",
                    party(s.inspector().as_str()),
                    p.time(s.at()),
                    s.text().unwrap_or_default()
                )
            })
            .collect();
        Some((p.gate(wf, gate).to_owned(), signed))
    };
    let mut sections = Vec::new();

    // The title page: the procedure, its buyer and rules, and the chain head.
    let mut cover = vec![
        fact(
            lang,
            "col-title",
            format!("{} ({})", c.title(lang.tag()), r.tender),
        ),
        fact(
            lang,
            "record-procedure",
            format!("{} {}", p.text(&d.title), d.version),
        ),
        fact(
            lang,
            "record-rule-pack",
            lang.t(&format!("rule-pack-{:?}", d.rule_pack)),
        ),
        fact(lang, "record-state", p.state(wf, &r.state).to_owned()),
        fact(lang, "record-definition-hash", r.definition.sha256.clone()),
    ];
    if let Some(buyer) = &d.publication.buyer {
        cover.insert(1, fact(lang, "record-buyer", buyer.name.clone()));
    }
    sections.push(RecordSection {
        id: "cover",
        title: lang.t("records-title"),
        tables: Vec::new(),
        facts: cover,
        signatures: None,
    });

    // The opening record.
    let receipts = r
        .receipt_log
        .iter()
        .map(|l| {
            vec![
                l.receipt.to_string(),
                l.lot.to_string(),
                party(l.bidder.as_str()),
                p.time(l.received_at),
                short(&l.commitment),
            ]
        })
        .collect();
    let mut opened_headers: Vec<String> = ["key-receipt", "key-bidder", "key-price"]
        .iter()
        .map(|k| lang.t(k))
        .collect();
    let opened: Vec<Vec<String>> = r
        .opening_record
        .iter()
        .flat_map(|o| &o.entries)
        .map(|e| {
            let mut row = vec![
                e.receipt.to_string(),
                party(e.bidder.as_str()),
                p.money(e.price),
            ];
            for (field, value) in &e.read_out {
                let (label, figure) = p.read_out(wf, field, value);
                if !opened_headers.iter().skip(3).any(|l| l == label) {
                    opened_headers.push(label.to_owned());
                }
                row.push(figure);
            }
            row
        })
        .collect();
    let opened_table = table_with(lang, "record-opened", opened_headers, opened);
    let opening_facts = r
        .opening_record
        .iter()
        .flat_map(|o| {
            [
                fact(lang, "key-openedAt", p.time(o.opened_at)),
                fact(lang, "key-openedBy", party(o.opened_by.as_str())),
            ]
        })
        .collect();
    sections.push(RecordSection {
        id: "opening",
        title: lang.t("record-opening"),
        tables: [
            table(
                lang,
                "record-receipts",
                &[
                    "key-receipt",
                    "key-lot",
                    "key-bidder",
                    "key-receivedAt",
                    "key-commitment",
                ],
                receipts,
            ),
            opened_table,
        ]
        .into_iter()
        .flatten()
        .collect(),
        facts: opening_facts,
        signatures: signatures("opening"),
    });

    // The evaluation report.
    let report = r.evaluation_report.as_ref();
    let mut report_tables = Vec::new();
    let mut report_facts = Vec::new();
    if let Some(report) = report {
        let members = report
            .members
            .iter()
            .map(|m| {
                let signed = r
                    .signatures("evaluation_report")
                    .find(|s| s.inspector() == &m.id)
                    .map_or_else(
                        || lang.t("record-member-unsigned"),
                        |s| format!("{} · {}", p.time(s.at()), s.text().unwrap_or_default()),
                    );
                vec![party(m.id.as_str()), p.yes_no(m.expert).to_owned(), signed]
            })
            .collect();
        report_tables.push(table(
            lang,
            "record-members",
            &["key-member", "key-expert", "key-signature"],
            members,
        ));
        let criteria = report
            .criteria
            .iter()
            .map(|c| vec![p.text(&c.title).to_owned(), p.weight(c.weight)])
            .collect();
        report_tables.push(table(
            lang,
            "record-criteria",
            &["key-criterion", "key-weight"],
            criteria,
        ));
        let key = |k: &str| lang.t(k);
        let ranking_headers: Vec<String> = ["key-rank", "key-lot", "key-bidder", "key-price"]
            .into_iter()
            .map(key)
            .chain(report.criteria.iter().map(|c| p.text(&c.title).to_owned()))
            .chain(["key-total", "key-qualifies"].into_iter().map(key))
            .collect();
        let ranking = report
            .ranking
            .iter()
            .map(|row| {
                let mut cells = vec![
                    row.rank.map(|n| n.to_string()).unwrap_or_default(),
                    row.lot.to_string(),
                    party(row.bidder.as_str()),
                    p.money(row.price),
                ];
                cells.extend(report.criteria.iter().map(|c| {
                    row.criteria
                        .get(&c.id)
                        .map(|s| p.score(*s))
                        .unwrap_or_default()
                }));
                cells.push(p.score(row.total));
                cells.push(p.yes_no(row.qualifies).to_owned());
                cells
            })
            .collect();
        report_tables.push(table_with(lang, "record-ranking", ranking_headers, ranking));
        let rejected = report
            .rejected
            .iter()
            .map(|x| {
                vec![
                    party(x.bidder.as_str()),
                    x.lot.to_string(),
                    x.reason.clone().unwrap_or_default(),
                ]
            })
            .collect();
        report_tables.push(table(
            lang,
            "record-rejected",
            &["key-bidder", "key-lot", "key-reason"],
            rejected,
        ));
        report_tables.push(candidates_table(
            &p,
            lang,
            "record-candidates",
            &report.candidates,
        ));
        report_facts.push(fact(lang, "key-drawSeed", report.draw_seed.to_string()));
    }
    if let Some(draw) = &r.committee_draw {
        let pool = draw
            .pool
            .iter()
            .map(|e| {
                vec![
                    party(e.id.as_str()),
                    e.fields.join(", "),
                    e.ties
                        .iter()
                        .map(|t| party(t))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect();
        report_tables.push(table(
            lang,
            "record-draw",
            &["key-expert", "key-fields", "key-ties"],
            pool,
        ));
        let names =
            |ids: &mut dyn Iterator<Item = &str>| ids.map(&party).collect::<Vec<_>>().join(", ");
        report_facts.push(fact(lang, "key-committeeDrawSeed", draw.seed.clone()));
        report_facts.push(fact(
            lang,
            "key-committeeDrawn",
            names(&mut draw.drawn.iter().map(|a| a.as_str())),
        ));
        if !draw.skipped.is_empty() {
            report_facts.push(fact(
                lang,
                "key-committeeSkipped",
                draw.skipped
                    .iter()
                    .map(|s| format!("{} ({})", party(s.id.as_str()), party(&s.bidder)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
    }
    sections.push(RecordSection {
        id: "report",
        title: lang.t("record-report"),
        tables: report_tables.into_iter().flatten().collect(),
        facts: report_facts,
        signatures: signatures("evaluation_report"),
    });

    // The publicity notice.
    let mut publicity_facts = Vec::new();
    let mut publicity_tables = Vec::new();
    if let Some(n) = &r.publicity_notice {
        if let Some(ends) = n.publicity_ends {
            publicity_facts.push(fact(lang, "key-publicityEnds", p.time(ends)));
        }
        publicity_facts.push(fact(
            lang,
            "key-channels",
            n.channels
                .iter()
                .map(|ch| {
                    lang.try_t(&format!("channel-{ch}"))
                        .unwrap_or_else(|| ch.clone())
                })
                .collect::<Vec<_>>()
                .join(lang.t("list-separator").as_str()),
        ));
        publicity_tables.push(candidates_table(
            &p,
            lang,
            "record-candidates",
            &n.candidates,
        ));
    }
    sections.push(RecordSection {
        id: "publicity",
        title: lang.t("record-publicity"),
        tables: publicity_tables.into_iter().flatten().collect(),
        facts: publicity_facts,
        signatures: None,
    });

    // The award.
    sections.push(RecordSection {
        id: "award",
        title: lang.t("record-award"),
        tables: r
            .award
            .as_deref()
            .and_then(|w| candidates_table(&p, lang, "record-winners", w))
            .into_iter()
            .collect(),
        facts: Vec::new(),
        signatures: signatures("award"),
    });

    // The supervision record.
    let supervision = r
        .supervision_record
        .iter()
        .map(|s| {
            let (kind, what) = match s {
                SupervisionEntry::Observation { stage, .. } => {
                    ("supervision-observation", p.state(wf, stage).to_owned())
                }
                SupervisionEntry::SignOff { gate, partner, .. } => (
                    "supervision-sign-off",
                    match partner {
                        Some(x) => format!("{} ({})", p.gate(wf, gate), party(x.as_str())),
                        None => p.gate(wf, gate).to_owned(),
                    },
                ),
                SupervisionEntry::Irregularity { stage, .. } => {
                    ("supervision-irregularity", p.state(wf, stage).to_owned())
                }
            };
            vec![
                lang.t(kind),
                party(s.inspector().as_str()),
                p.time(s.at()),
                what,
                s.text().unwrap_or_default().to_owned(),
            ]
        })
        .collect();
    sections.push(RecordSection {
        id: "supervision",
        title: lang.t("record-supervision"),
        tables: table(
            lang,
            "record-supervision",
            &[
                "key-kind",
                "key-inspector",
                "key-at",
                "key-stage",
                "key-text",
            ],
            supervision,
        )
        .into_iter()
        .collect(),
        facts: Vec::new(),
        signatures: None,
    });
    let head = &readable.records.chain_head;
    let page = RecordsPage {
        lang,
        me: visitor.me(),
        chain_head: head.hash.clone(),
        events: head.seq.to_string(),
        printed: lang.when(app.clock().now(), c.utc_offset_minutes),
        sections,
        line: line(lang, &c, String::new()),
    };
    Ok(page)
}

/// Candidates (or winners) as a table: rank, lot, bidder, total score, price.
fn candidates_table(
    p: &Presenter<'_>,
    lang: Lang,
    caption: &str,
    candidates: &[Candidate],
) -> Option<(String, Vec<String>, Vec<Vec<String>>)> {
    let rows = candidates
        .iter()
        .map(|c| {
            vec![
                c.rank.to_string(),
                c.lot.to_string(),
                p.party(c.bidder.as_str()).to_owned(),
                p.score(c.total),
                p.money(c.price),
            ]
        })
        .collect();
    table(
        lang,
        caption,
        &[
            "key-rank",
            "key-lot",
            "key-bidder",
            "key-total",
            "key-price",
        ],
        rows,
    )
}
