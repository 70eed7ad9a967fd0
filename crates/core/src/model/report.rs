//! The evaluation report as data: rows, score table, candidates (`scoring` computes it).

use super::*;
use crate::definition::Method;
use crate::numbers::{Money, Score};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A ranked candidate for award.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// Lot.
    pub lot: Arc<str>,
    /// Bidder.
    pub bidder: ActorId,
    /// Rank within the lot (1 = best).
    pub rank: u32,
    /// Total score.
    pub total: Score,
    /// Price.
    pub price: Money,
}

/// One bid's line in the evaluation report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportRow {
    /// Lot.
    pub lot: Arc<str>,
    /// Bidder.
    pub bidder: ActorId,
    /// Price.
    pub price: Money,
    /// Score per criterion (aggregated or computed).
    pub criteria: BTreeMap<Arc<str>, Score>,
    /// Weighted total.
    pub total: Score,
    /// Whether it reaches the minimum total and was not disqualified.
    pub qualifies: bool,
    /// Rank within the lot among valid bids.
    pub rank: Option<u32>,
    /// Why it was rejected, if it was.
    pub disqualified: Option<String>,
}

/// One evaluator's sheet in the score table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SheetRow {
    /// Evaluator.
    pub evaluator: ActorId,
    /// Lot.
    pub lot: Arc<str>,
    /// Bidder.
    pub bidder: ActorId,
    /// Scores.
    pub scores: Sheet,
}

/// A member who withdrew for a conflict of interest with one bidder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recusal {
    /// The member.
    pub evaluator: ActorId,
    /// The bidder concerned.
    pub bidder: ActorId,
    /// Why.
    pub reason: String,
}

/// The evaluation report (评标报告).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationReport {
    /// Method.
    pub method: Method,
    /// Members whose scores count.
    pub members: Vec<Member>,
    /// Members who withdrew for a conflict of interest.
    pub recused: Vec<Recusal>,
    /// The seed of the random draw, for the audit trail.
    pub draw_seed: u64,
    /// Members removed after they scored: when, why, approved by whom (their sheets do not
    /// count).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<RemovedMember>,
    /// How the seed was derived, with its inputs, so anyone can recompute it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draw: Option<serde_json::Value>,
    /// Every member's scores.
    pub score_table: Vec<SheetRow>,
    /// Rows in lot order, ranked.
    pub rows: Vec<ReportRow>,
    /// The threshold applied.
    pub min_total: Option<Score>,
}

impl EvaluationReport {
    /// The top `per_lot` qualifying bids of each lot, in rank order.
    pub fn candidates(&self, per_lot: u32) -> Vec<Candidate> {
        let mut out = Vec::new();
        let mut taken: BTreeMap<&str, u32> = BTreeMap::new();
        for row in &self.rows {
            let (Some(rank), true) = (row.rank, row.qualifies) else {
                continue;
            };
            let n = taken.entry(&*row.lot).or_default();
            if *n < per_lot {
                *n += 1;
                out.push(Candidate {
                    lot: row.lot.clone(),
                    bidder: row.bidder.clone(),
                    rank,
                    total: row.total,
                    price: row.price,
                });
            }
        }
        out
    }

    /// The row of a bid.
    pub fn row(&self, key: &BidKey) -> Option<&ReportRow> {
        self.rows
            .iter()
            .find(|r| r.lot == key.lot && r.bidder == key.bidder)
    }
}
