//! Evaluation (criteria, method, committee, tie-breaks) and award rules.

use super::*;
use crate::numbers::{Score, Weight};
use serde::{Deserialize, Serialize};

/// How a criterion's score is obtained.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CriterionSource {
    /// Each evaluator scores 0–100; the committee aggregates.
    Evaluators,
    /// lowest qualifying price ÷ bid price × 100.
    Price,
    /// A number from the bid (JSON Pointer `field`) ÷ the highest among qualifying bids × 100.
    BidRatio {
        /// JSON Pointer into the bid content.
        field: String,
    },
}

/// An award criterion.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Criterion id (shared, not copied, into every score map).
    pub id: std::sync::Arc<str>,
    /// Display name.
    pub title: Localized,
    /// Weight in [0, 1]; all weights sum to 1.
    pub weight: Weight,
    /// How it is scored.
    pub source: CriterionSource,
}

/// Evaluation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 综合评分法 / most economically advantageous tender: weighted criteria.
    Comprehensive,
    /// Lowest evaluated price wins.
    LowestPrice,
}

/// How members' scores combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// The mean of all members' scores.
    Mean,
    /// The mean without one highest and one lowest score.
    TrimmedMean,
}

/// Committee composition rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CommitteeRules {
    /// Fewest members.
    pub min_members: u32,
    /// Whether the number of members must be odd.
    #[serde(default)]
    pub odd: bool,
    /// Least share of experts among members (e.g. 0.6667 for two thirds).
    #[serde(default)]
    pub min_expert_share: Option<Weight>,
    /// Rule cited.
    #[serde(default)]
    pub rule: Option<String>,
}

/// One step of the tie-break chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum TieBreak {
    /// Higher total first.
    Total,
    /// Lower price first.
    Price,
    /// Higher score in a criterion first.
    Criterion {
        /// Criterion id.
        criterion: String,
    },
    /// Earlier receipt first.
    ReceivedAt,
    /// A random draw from the seed given when the report is finalized (recorded in the audit
    /// trail).
    Random,
}

/// Evaluation rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Evaluation {
    /// Method.
    pub method: Method,
    /// JSON Pointer to the bid's price in integer minor units.
    pub price_field: String,
    /// Criteria with weights (comprehensive method).
    #[serde(default)]
    pub criteria: Vec<Criterion>,
    /// Committee rules.
    pub committee: CommitteeRules,
    /// Aggregation across evaluators.
    pub aggregation: Aggregation,
    /// Bids below this total are not candidates.
    #[serde(default)]
    pub min_total: Option<Score>,
    /// Tie-break chain after the method's own order.
    pub tie_break: Vec<TieBreak>,
    /// Whether an unsuccessful bidder learns its rank and score.
    #[serde(default)]
    pub disclose_scores_to_bidders: bool,
}

/// How winners are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardMode {
    /// One winner per lot.
    Single,
    /// The top N per lot (multi-award).
    TopN,
    /// The top N per lot join a framework agreement.
    Framework,
}

/// Award rules.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwardRules {
    /// Single, multi-award or framework.
    pub mode: AwardMode,
    /// Winners per lot.
    pub winners_per_lot: u32,
    /// Most ranked candidates per lot the law allows (Reg 53: 3).
    #[serde(default)]
    pub max_candidates_per_lot: Option<u32>,
    /// Fewer valid bids in a lot than this: the procedure fails.
    pub min_valid_bids: u32,
    /// Most lots an announcement may declare.
    #[serde(default = "one")]
    pub max_lots: u32,
    /// Most bids expected (invited procedures); a top-N above it is impossible.
    #[serde(default)]
    pub max_bidders: Option<u32>,
    /// Largest bid security as a share of the estimated price (e.g. 0.02).
    #[serde(default)]
    pub max_bid_security_share: Option<Weight>,
    /// Rule cited.
    #[serde(default)]
    pub rule: Option<String>,
}

pub(super) fn one() -> u32 {
    1
}
