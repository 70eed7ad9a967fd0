//! What the demo prints as the procedure runs: each event told in words, the evaluation table
//! and its columns.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use tenderflow_app::{App, Caller};
use tenderflow_core::definition::CriterionSource;
use tenderflow_core::present::{Language, Names, Presenter};
use tenderflow_core::{EventBody, Timestamp};

/// How the demo shows money and times: in English, in the definition's zone and currency
/// (the parties are named from the demo's own list).
pub(super) fn presenter(wf: &tenderflow_core::Workflow) -> Presenter<'_> {
    static NO_NAMES: Names = Names::new();
    let d = wf.definition();
    Presenter {
        lang: Language::En,
        utc_offset_minutes: d.calendar.utc_offset_minutes,
        currency: d.publication.currency.as_deref().unwrap_or("CNY"),
        names: &NO_NAMES,
    }
}

pub(super) fn section(title: &str) {
    println!("\n== {title}");
}

pub(super) fn share_of(wf: &tenderflow_core::Workflow, content: &Value) -> Option<String> {
    wf.definition()
        .evaluation
        .criteria
        .iter()
        .find_map(|c| match &c.source {
            CriterionSource::BidRatio { field } => content.pointer(field).map(|v| v.to_string()),
            _ => None,
        })
}

pub(super) async fn describe(
    wf: &tenderflow_core::Workflow,
    app: &App,
    tender: &str,
    ev: &tenderflow_core::Event,
    names: &BTreeMap<String, String>,
    scored: &mut usize,
    sheets: usize,
) -> anyhow::Result<()> {
    let p = presenter(wf);
    let time = |t: Timestamp| p.time(t);
    let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_owned());
    match &ev.body {
        EventBody::DraftCreated { tender_id, .. } => {
            section("Announcement");
            println!(
                "  draft {tender_id} created by {}",
                name(ev.actor.id.as_str())
            );
        }
        EventBody::AnnouncementPublished {
            announcement,
            channels,
            deadline,
            content_sha256,
            documents,
            ..
        } => {
            println!(
                "  published {}: {}",
                time(ev.at),
                announcement
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
            );
            println!(
                "  the same text (sha256 {}…) on {} channels:",
                &content_sha256[..16],
                channels.len()
            );
            for c in channels {
                println!("    - {c}");
            }
            for d in documents {
                println!(
                    "  document {} ({} bytes, sha256 {}…)",
                    d.name,
                    d.size,
                    &d.sha256[..16]
                );
            }
            println!("  bid deadline and opening: {}", time(*deadline));
            section(
                "Bids received (sealed: only receipts are visible; documents sealed with them)",
            );
        }
        EventBody::BidSubmitted {
            key,
            receipt,
            commitment,
            documents,
            ..
        } => {
            // Sealed: the receipt shows who, when and the commitment, never the content.
            println!(
                "  [{receipt:>3}] {}  {} commitment {}…{}",
                time(ev.at),
                pad(&name(key.bidder.as_str()), 34),
                &commitment[..16],
                if documents.is_empty() {
                    String::new()
                } else {
                    format!(" + {} document(s)", documents.len())
                }
            );
        }
        EventBody::SubmissionClosed { bids, deadline } => {
            println!(
                "  ⏰ {} the deadline passes: submission closed with {bids} bids",
                time(*deadline)
            );
        }
        EventBody::SignedOff { gate, .. } => {
            println!(
                "  ✔ {} ({}) signs off `{gate}` at {}",
                name(ev.actor.id.as_str()),
                ev.actor.role,
                time(ev.at)
            );
        }
        EventBody::BidsOpened { record } => {
            section("Opening record (开标记录)");
            println!(
                "  opened {} by {}",
                time(record.opened_at),
                name(record.opened_by.as_str())
            );
            for e in &record.entries {
                let extra: Vec<String> = e.read_out.values().map(|v| format!("{v} %")).collect();
                println!(
                    "  {:>3}. {} price {:>12}  {:<8} received {}",
                    e.receipt,
                    pad(&name(e.bidder.as_str()), 34),
                    p.money(e.price),
                    extra.join(" "),
                    time(e.received_at)
                );
            }
            // Every commitment matches the opened content and documents, by the recipe it
            // was made with.
            let (_, t) = app.readable(&Caller::operator(), tender).await?;
            let ok = t.bids.values().all(|b| {
                tenderflow_core::decide::bid_commitment(
                    &b.content,
                    &b.documents,
                    b.commitment_recipe,
                ) == b.commitment
            });
            println!(
                "  every opened bid matches its receipt's commitment: {}",
                if ok { "yes" } else { "NO" }
            );
        }
        EventBody::CommitteeAppointed { members, .. } => {
            section("Evaluation");
            println!(
                "  committee of {} appointed (names kept from bidders until the result)",
                members.len()
            );
        }
        EventBody::ScoresSubmitted { .. } => {
            *scored += 1;
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() {
                print!("\r  score sheets submitted: {scored}/{sheets}");
                let _ = std::io::stdout().flush();
                if *scored == sheets {
                    println!();
                }
            } else if *scored == sheets || *scored % 30 == 0 {
                println!("  score sheets submitted: {scored}/{sheets}");
            }
        }
        EventBody::EvaluationFinalized { report } => {
            println!(
                "  report final at {}: {} rows, random draw seed {}",
                time(ev.at),
                report.rows.len(),
                report.draw_seed
            );
        }
        EventBody::AwardProposed {
            winners,
            publicity_ends,
        } => {
            section("Award");
            println!(
                "  {} candidates proposed; publicity until {}",
                winners.len(),
                time(*publicity_ends)
            );
        }
        EventBody::PublicityEnded => {
            println!("  ⏰ {} publicity over, no objection pending", time(ev.at))
        }
        EventBody::Awarded { winners } => {
            println!("  awarded at {} to {} partners", time(ev.at), winners.len())
        }
        EventBody::ProcedureFailed { reason, .. } => {
            println!("  ✖ procedure unsuccessful: {reason}")
        }
        EventBody::AgreementDrafted {
            partner, sign_by, ..
        } => println!(
            "  agreement with {} drafted from its bid; sign by {}",
            name(partner.as_str()),
            time(*sign_by)
        ),
        EventBody::AgreementInForce { partner } => println!(
            "  ✔ agreement with {} in force {} (both sides and the inspector signed)",
            name(partner.as_str()),
            time(ev.at)
        ),
        EventBody::DeliveryShortfall {
            partner,
            offered,
            given,
            share,
            promised,
        } => println!(
            "  ⚠ {} {}: behind its promise — {given} of {offered} places free or discounted ({share} % against {promised} %)",
            time(ev.at),
            name(partner.as_str())
        ),
        EventBody::DeliveryRecovered { partner, share, .. } => {
            println!("  {} back on track ({share} %)", name(partner.as_str()))
        }
        EventBody::ObservationRecorded { content, .. } => println!(
            "  inspector's observation {}: {}",
            time(ev.at),
            content
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or_default()
        ),
        EventBody::PerformanceEvaluated {
            partner,
            round,
            total,
            warning,
            ..
        } => println!(
            "  performance round {round}: {} total {total}{}",
            pad(&name(partner.as_str()), 34),
            if *warning {
                "  ⚠ below the minimum: WARNING"
            } else {
                ""
            }
        ),
        EventBody::AgreementTerminated { partner, reason } => println!(
            "  ✖ agreement with {} terminated: {reason}",
            name(partner.as_str())
        ),
        _ => {}
    }
    Ok(())
}

pub(super) fn print_table(
    wf: &tenderflow_core::Workflow,
    t: &tenderflow_core::Tender,
    report: &tenderflow_core::scoring::EvaluationReport,
    names: &BTreeMap<String, String>,
) {
    let criteria = &wf.definition().evaluation.criteria;
    let mut header = format!("  {:>4}  {:<34}", "rank", "bidder");
    for c in criteria {
        header.push_str(&format!(" {:>13}", short(&c.id)));
    }
    header.push_str(&format!(" {:>9} {:>8}", "total", "places %"));
    println!("{header}");
    for row in &report.rows {
        let mut line = format!(
            "  {:>4}  {}",
            row.rank.map_or("-".into(), |r| r.to_string()),
            pad(
                names
                    .get(row.bidder.as_str())
                    .map_or(row.bidder.as_str(), String::as_str),
                34
            )
        );
        for c in criteria {
            line.push_str(&format!(
                " {:>13}",
                row.criteria
                    .get(&c.id)
                    .map_or("-".into(), ToString::to_string)
            ));
        }
        let mark = if t
            .awarded
            .as_ref()
            .is_some_and(|w| w.iter().any(|c| c.bidder == row.bidder))
        {
            "  selected"
        } else if !row.qualifies {
            "  below minimum"
        } else {
            ""
        };
        let share = t
            .bids
            .iter()
            .find(|(k, _)| k.bidder == row.bidder && k.lot == row.lot)
            .and_then(|(_, b)| share_of(wf, &b.content))
            .unwrap_or_else(|| "-".into());
        line.push_str(&format!(" {:>9} {share:>8}{mark}", row.total.to_string()));
        println!("{line}");
    }
    let weights: Vec<String> = criteria
        .iter()
        .map(|c| format!("{} × {}", c.id, c.weight))
        .collect();
    println!("  total = {}", weights.join(" + "));
    if let Some(min) = report.min_total {
        println!(
            "  minimum total {min}; {} evaluators; scores are means of their sheets (4 decimals, half away from zero)",
            report.members.len()
        );
    }
}

/// Display width in a terminal: CJK characters take two columns.
pub(super) fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let c = c as u32;
            let wide = (0x1100..=0x115F).contains(&c)
                || (0x2E80..=0xA4CF).contains(&c)
                || (0xAC00..=0xD7A3).contains(&c)
                || (0xF900..=0xFAFF).contains(&c)
                || (0xFE30..=0xFE4F).contains(&c)
                || (0xFF00..=0xFF60).contains(&c)
                || (0xFFE0..=0xFFE6).contains(&c);
            if wide { 2 } else { 1 }
        })
        .sum()
}

/// `s` padded with spaces to `w` display columns.
pub(super) fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

pub(super) fn short(id: &str) -> String {
    id.chars().take(12).collect()
}
