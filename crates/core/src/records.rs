//! The procedure's records, as data rendered from the tender's history: the receipt log,
//! the opening record (开标记录), the record of objections, the evaluation report (评标报告),
//! the publicity notice, and the inspectors' supervision record. No national template
//! exists; these are the facts each record needs, typed, for the pages, the PDF and the API
//! to present (see [`crate::present`]).

use crate::definition::{Localized, Workflow};
use crate::draw::DrawRecord;
use crate::model::{
    ActorId, Candidate, Member, ObjectionAnswer, OpeningRecord, Question, Recusal, RemovedMember,
    ReportRow, Resolution, ScoreCorrection, SheetRow, Tender,
};
use crate::numbers::Weight;
use crate::time::Timestamp;
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

/// The exact definition version a tender runs on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DefinitionRef {
    /// Its id.
    pub id: String,
    /// Its version.
    pub version: String,
    /// The SHA-256 of its file.
    pub sha256: String,
}

/// A line of the receipt log: a bid as received (never its content).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptLine {
    /// Its number in order of receipt.
    pub receipt: u32,
    /// Lot.
    pub lot: Arc<str>,
    /// Bidder.
    pub bidder: ActorId,
    /// When it was received.
    pub received_at: Timestamp,
    /// Its commitment, as on the receipt.
    pub commitment: String,
}

/// An objection in the record of objections.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectionLine {
    /// Its number.
    pub id: u32,
    /// Who raised it.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
    /// The state it was raised in.
    pub stage: String,
    /// Its subject.
    pub subject: Option<String>,
    /// Its grounds.
    pub grounds: Option<String>,
    /// When the answer is due.
    pub answer_due: Option<Timestamp>,
    /// The answer, once given.
    pub answer: Option<ObjectionAnswer>,
}

/// One entry of the inspectors' supervision record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum SupervisionEntry {
    /// An observation.
    Observation {
        /// Who.
        inspector: ActorId,
        /// When.
        at: Timestamp,
        /// The state it was made in.
        stage: String,
        /// What was observed.
        text: Option<String>,
    },
    /// A gate's sign-off (an inspector's, or a committee member's on the evaluation report).
    SignOff {
        /// Who signed.
        inspector: ActorId,
        /// When.
        at: Timestamp,
        /// The gate.
        gate: String,
        /// The gate's title in both languages.
        gate_title: Option<Localized>,
        /// The partner a per-partner gate concerns.
        #[serde(skip_serializing_if = "Option::is_none")]
        partner: Option<ActorId>,
        /// The statement signed.
        text: Option<String>,
        /// Observations made with it.
        observations: Option<String>,
    },
    /// An irregularity and its resolution.
    Irregularity {
        /// Its number.
        id: u32,
        /// Who recorded it.
        inspector: ActorId,
        /// When.
        at: Timestamp,
        /// The state it was recorded in.
        stage: String,
        /// What is irregular.
        text: Option<String>,
        /// How it was resolved, once it was.
        resolution: Option<Resolution>,
    },
}

impl SupervisionEntry {
    /// When it was made.
    pub fn at(&self) -> Timestamp {
        match self {
            Self::Observation { at, .. }
            | Self::SignOff { at, .. }
            | Self::Irregularity { at, .. } => *at,
        }
    }

    /// Who made it.
    pub fn inspector(&self) -> &ActorId {
        match self {
            Self::Observation { inspector, .. }
            | Self::SignOff { inspector, .. }
            | Self::Irregularity { inspector, .. } => inspector,
        }
    }

    /// Its text.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Observation { text, .. }
            | Self::SignOff { text, .. }
            | Self::Irregularity { text, .. } => text.as_deref(),
        }
    }
}

/// A criterion as the evaluation report lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CriterionLine {
    /// Its id.
    pub id: Arc<str>,
    /// Its title in both languages.
    pub title: Localized,
    /// Its weight.
    pub weight: Weight,
}

/// A bid the committee rejected, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RejectedBid {
    /// Bidder.
    pub bidder: ActorId,
    /// Lot.
    pub lot: Arc<str>,
    /// Why.
    pub reason: Option<String>,
}

/// The evaluation report as the records show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRecord {
    /// The members whose scores count.
    pub members: Vec<Member>,
    /// Members who withdrew for a conflict of interest.
    pub recused: Vec<Recusal>,
    /// The seed of the random draw.
    pub draw_seed: u64,
    /// How the seed was derived, with its inputs.
    pub draw: Option<Value>,
    /// Members removed after they scored.
    pub removed_members: Vec<RemovedMember>,
    /// The criteria with their weights.
    pub criteria: Vec<CriterionLine>,
    /// The opening record it rests on.
    pub opening_record: Option<Arc<OpeningRecord>>,
    /// Bids rejected, with the reasons.
    pub rejected: Vec<RejectedBid>,
    /// Every member's scores.
    pub score_table: Vec<SheetRow>,
    /// The ranked bids.
    pub ranking: Vec<ReportRow>,
    /// The candidates recommended.
    pub candidates: Vec<Candidate>,
}

/// The publicity notice of the proposed candidates.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicityRecord {
    /// The candidates proposed.
    pub candidates: Vec<Candidate>,
    /// When publicity ends.
    pub publicity_ends: Option<Timestamp>,
    /// Where it was published.
    pub channels: Vec<String>,
}

/// Every record of a procedure, for staff and inspectors (bid contents are not part of any
/// record; the evaluation report appears once final).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Records {
    /// The tender.
    pub tender: String,
    /// The exact definition version it runs on.
    pub definition: DefinitionRef,
    /// Its state.
    pub state: String,
    /// The bids as received.
    pub receipt_log: Vec<ReceiptLine>,
    /// The opening record, once opened.
    pub opening_record: Option<Arc<OpeningRecord>>,
    /// The objections.
    pub objections: Vec<ObjectionLine>,
    /// The clarification questions and answers.
    pub questions: Vec<Question>,
    /// The expert draw (pool, seed, order, skips, result): `core::draw::verify` recomputes it.
    pub committee_draw: Option<DrawRecord>,
    /// Sheets corrected after submission (both sheets are in the event log).
    pub score_corrections: Vec<ScoreCorrection>,
    /// The evaluation report, once final.
    pub evaluation_report: Option<ReportRecord>,
    /// The publicity notice, once candidates are proposed.
    pub publicity_notice: Option<PublicityRecord>,
    /// The award.
    pub award: Option<Vec<Candidate>>,
    /// The inspectors' record, in time order.
    pub supervision_record: Vec<SupervisionEntry>,
}

impl Records {
    /// The sign-offs of `gate`, in time order.
    pub fn signatures<'a>(&'a self, gate: &'a str) -> impl Iterator<Item = &'a SupervisionEntry> {
        self.supervision_record
            .iter()
            .filter(move |s| matches!(s, SupervisionEntry::SignOff { gate: g, .. } if g == gate))
    }
}

/// A form field's text (a string field of a sign-off, an observation, an objection).
fn field(content: &Value, key: &str) -> Option<String> {
    match content.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Every record of `t`.
pub fn records(wf: &Workflow, t: &Tender) -> Records {
    let mut receipt_log: Vec<ReceiptLine> = t
        .bids
        .iter()
        .map(|(k, b)| ReceiptLine {
            receipt: b.receipt,
            lot: k.lot.clone(),
            bidder: k.bidder.clone(),
            received_at: b.received_at,
            commitment: b.commitment.clone(),
        })
        .collect();
    receipt_log.sort_by_key(|r| r.receipt);
    let objections = t
        .objections
        .iter()
        .map(|o| ObjectionLine {
            id: o.id,
            by: o.by.clone(),
            at: o.at,
            stage: o.stage.clone(),
            subject: field(&o.content, "subject"),
            grounds: field(&o.content, "grounds"),
            answer_due: o.answer_due,
            answer: o.answer.clone(),
        })
        .collect();
    let mut supervision: Vec<SupervisionEntry> = Vec::new();
    for o in &t.observations {
        supervision.push(SupervisionEntry::Observation {
            inspector: o.by.clone(),
            at: o.at,
            stage: o.stage.clone(),
            text: field(&o.content, "text"),
        });
    }
    for s in &t.signoffs {
        supervision.push(SupervisionEntry::SignOff {
            inspector: s.by.clone(),
            at: s.at,
            gate: s.gate.clone(),
            gate_title: wf.gate(&s.gate).map(|g| g.title.clone()),
            partner: s.partner.clone(),
            text: field(&s.content, "statement"),
            observations: field(&s.content, "observations"),
        });
    }
    for i in &t.irregularities {
        supervision.push(SupervisionEntry::Irregularity {
            id: i.id,
            inspector: i.by.clone(),
            at: i.at,
            stage: i.stage.clone(),
            text: field(&i.content, "text"),
            resolution: i.resolution.clone(),
        });
    }
    supervision.sort_by_key(SupervisionEntry::at);
    let d = wf.definition();
    let evaluation_report = t.report.as_ref().map(|r| ReportRecord {
        members: r.members.clone(),
        recused: r.recused.clone(),
        draw_seed: r.draw_seed,
        draw: r.draw.clone(),
        removed_members: r.removed.clone(),
        criteria: d
            .evaluation
            .criteria
            .iter()
            .map(|c| CriterionLine {
                id: c.id.clone(),
                title: c.title.clone(),
                weight: c.weight,
            })
            .collect(),
        opening_record: t.opening.clone(),
        rejected: r
            .rows
            .iter()
            .filter(|row| row.disqualified.is_some())
            .map(|row| RejectedBid {
                bidder: row.bidder.clone(),
                lot: row.lot.clone(),
                reason: row.disqualified.clone(),
            })
            .collect(),
        score_table: r.score_table.clone(),
        ranking: r
            .rows
            .iter()
            .filter(|row| row.rank.is_some())
            .cloned()
            .collect(),
        candidates: r.candidates(d.award.winners_per_lot),
    });
    let publicity_notice = t.proposed.as_ref().map(|c| PublicityRecord {
        candidates: c.clone(),
        publicity_ends: t.publicity_ends,
        channels: t.channels.clone(),
    });
    Records {
        tender: t.id.clone(),
        definition: DefinitionRef {
            id: t.definition_id.clone(),
            version: t.definition_version.clone(),
            sha256: wf.sha256().to_owned(),
        },
        state: t.state.clone(),
        receipt_log,
        opening_record: t.opening.clone(),
        objections,
        questions: t.questions.clone(),
        committee_draw: t.committee_draw.clone(),
        score_corrections: t.score_corrections.clone(),
        evaluation_report,
        publicity_notice,
        award: t.awarded.clone(),
        supervision_record: supervision,
    }
}
