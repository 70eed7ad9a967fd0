//! Scoring: weighted criteria, the price formula, committee aggregation, thresholds and the
//! tie-break chain. Exact fixed-point arithmetic (see [`crate::numbers`]).
//!
//! Per lot, over the valid (opened, not disqualified) bids:
//! - `price` criterion: lowest price ÷ bid price × 100;
//! - `bid_ratio` criterion: the bid's figure ÷ the highest figure × 100;
//! - `evaluators` criterion: the mean (or trimmed mean) of the active members' scores;
//! - total: Σ score × weight, each product rounded to 0.0001 (comprehensive method), or the
//!   price score (lowest-price method).
//!
//! Ranking: total descending (comprehensive) or price ascending (lowest price), then the
//! definition's tie-break chain, then the bidder id as a last, deterministic resort.

use crate::definition::{Aggregation, CriterionSource, Method, TieBreak, Workflow};
use crate::model::{ActorId, BidKey, Member, Tender};
use crate::numbers::{SCALE, Score};

use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

pub use crate::model::{Candidate, EvaluationReport, ReportRow, SheetRow};

/// Reads a number at `pointer` in a bid as fixed point (× 10 000).
pub(crate) fn figure(content: &Value, pointer: &str) -> Option<i64> {
    crate::canonical::pointer(content, pointer)
        .and_then(Score::from_json)
        .map(Score::raw)
}

/// The draw commitment an inspector made when signing off before the opening: the
/// `drawCommitment` (SHA-256 hex of a value kept secret until finalisation) in the content of
/// a sign-off recorded no later than the opening. Returns the signer and the commitment.
pub fn draw_commitment(t: &Tender) -> Option<(ActorId, String)> {
    let opened_at = t.opening.as_ref().map(|o| o.opened_at)?;
    t.signoffs
        .iter()
        .filter(|s| s.at <= opened_at)
        .find_map(|s| {
            s.content
                .get("drawCommitment")
                .and_then(serde_json::Value::as_str)
                .map(|c| (s.by.clone(), c.to_ascii_lowercase()))
        })
}

/// The tie-break seed: the first eight bytes (big-endian) of SHA-256 over the canonical JSON
/// `{"tender", "commitments", "reveal"}`, where `commitments` are the bids' commitments in
/// receipt order (fixed and sealed before the opening) and `reveal` the inspector's revealed
/// value (or null). Staff choose none of it; anyone can recompute it from the report.
pub fn draw_seed(t: &Tender, reveal: Option<&str>) -> (u64, serde_json::Value) {
    let mut bids: Vec<(&u32, &str)> = t
        .bids
        .values()
        .map(|b| (&b.receipt, b.commitment.as_str()))
        .collect();
    bids.sort_unstable();
    let commitments: Vec<&str> = bids.into_iter().map(|(_, c)| c).collect();
    let inputs =
        serde_json::json!({ "tender": t.id, "commitments": commitments, "reveal": reveal });
    let digest = crate::canonical::sha256_hex(&inputs);
    let seed = u64::from_str_radix(&digest[..16], 16).unwrap_or(0);
    let recipe = serde_json::json!({
        "seed": seed.to_string(),
        "inputs": inputs,
        "commitment": draw_commitment(t).map(|(by, c)| serde_json::json!({ "by": by, "sha256": c })),
        "howToRecompute": "seed = the first 16 hex digits, read as a big-endian u64, of SHA-256 over the canonical JSON of `inputs` (keys sorted, no spaces); the reveal's SHA-256 equals the commitment the inspector signed at opening",
    });
    (seed, recipe)
}

/// A deterministic, well-mixed draw number for `bidder` under `seed` (splitmix64 of FNV-1a).
pub fn draw(seed: u64, bidder: &ActorId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bidder.as_str().bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut z = seed ^ h;
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A valid bid of a lot with the active members' sheets for it.
type LotEntry<'a> = (
    &'a BidKey,
    &'a crate::model::Bid,
    &'a [&'a BTreeMap<Arc<str>, Score>],
);

/// Computes the report from the tender's opened bids and the members' scores.
pub fn evaluate(wf: &Workflow, t: &Tender, draw_seed: u64) -> EvaluationReport {
    let ev = &wf.definition().evaluation;
    let members: Vec<Member> = t.active_members().cloned().collect();
    let mut rows = Vec::new();
    let valid: Vec<(&BidKey, &crate::model::Bid)> = t
        .bids
        .iter()
        .filter(|(k, _)| !t.disqualified.contains_key(*k))
        .collect();
    // Each valid bid's sheets from active members. `scores` is ordered by evaluator, then bid,
    // in the same order as `valid`, so one merge walk per evaluator finds them.
    let mut sheets: Vec<Vec<&BTreeMap<Arc<str>, Score>>> = vec![Vec::new(); valid.len()];
    let mut current: Option<(&ActorId, bool)> = None;
    let mut pos = 0;
    for ((evaluator, key), sheet) in &t.scores {
        if current.is_none_or(|(e, _)| e != evaluator) {
            current = Some((evaluator, members.iter().any(|m| &m.id == evaluator)));
            pos = 0;
        }
        if current.is_some_and(|(_, active)| !active) {
            continue;
        }
        while pos < valid.len() && valid[pos].0 < key {
            pos += 1;
        }
        if pos < valid.len() && valid[pos].0 == key {
            sheets[pos].push(sheet);
        }
    }
    let mut lots: BTreeMap<&str, Vec<LotEntry<'_>>> = BTreeMap::new();
    for ((key, bid), s) in valid.iter().zip(&sheets) {
        lots.entry(&*key.lot).or_default().push((key, bid, s));
    }
    for bids in lots.values() {
        let lowest = bids
            .iter()
            .map(|(_, b, _)| b.price.minor())
            .min()
            .unwrap_or(0);
        let highest: BTreeMap<&str, i64> = ev
            .criteria
            .iter()
            .filter_map(|c| match &c.source {
                CriterionSource::BidRatio { field } => Some(field.as_str()),
                _ => None,
            })
            .map(|field| {
                let max = bids
                    .iter()
                    .filter_map(|(_, b, _)| figure(&b.content, field))
                    .max();
                (field, max.unwrap_or(0))
            })
            .collect();
        let mut lot_rows: Vec<(ReportRow, i64 /* received */)> = Vec::new();
        for (key, bid, bid_sheets) in bids {
            let mut criteria = BTreeMap::new();
            let mut total = Score::default();
            let price_score = Score::ratio(lowest, bid.price.minor());
            for c in &ev.criteria {
                let score = match &c.source {
                    CriterionSource::Price => price_score,
                    CriterionSource::BidRatio { field } => {
                        let top = highest.get(field.as_str()).copied().unwrap_or(0);
                        Score::ratio(figure(&bid.content, field).unwrap_or(0), top)
                    }
                    CriterionSource::Evaluators => {
                        let sheets: Vec<Score> = bid_sheets
                            .iter()
                            .filter_map(|s| s.get(&c.id).copied())
                            .collect();
                        match ev.aggregation {
                            Aggregation::Mean => Score::mean(&sheets),
                            Aggregation::TrimmedMean => Score::trimmed_mean(&sheets),
                        }
                    }
                };
                total = total.plus(score.weighted(c.weight));
                criteria.insert(c.id.clone(), score);
            }
            if ev.method == Method::LowestPrice {
                total = price_score;
            }
            let qualifies =
                ev.method == Method::LowestPrice || ev.min_total.is_none_or(|m| total >= m);
            lot_rows.push((
                ReportRow {
                    lot: bids[0].0.lot.clone(),
                    bidder: key.bidder.clone(),
                    price: bid.price,
                    criteria,
                    total,
                    qualifies,
                    rank: None,
                    disqualified: None,
                },
                bid.received_at.unix_millis(),
            ));
        }
        lot_rows.sort_by(|(a, ra), (b, rb)| compare(wf, a, *ra, b, *rb, draw_seed));
        for (i, (row, _)) in lot_rows.iter_mut().enumerate() {
            row.rank = Some(i as u32 + 1);
        }
        rows.extend(lot_rows.into_iter().map(|(r, _)| r));
    }
    for (key, reason) in &t.disqualified {
        if let Some(bid) = t.bids.get(key) {
            rows.push(ReportRow {
                lot: key.lot.clone(),
                bidder: key.bidder.clone(),
                price: bid.price,
                criteria: BTreeMap::new(),
                total: Score::default(),
                qualifies: false,
                rank: None,
                disqualified: Some(reason.clone()),
            });
        }
    }
    let score_table = t
        .scores
        .iter()
        .filter(|((e, _), _)| members.iter().any(|m| &m.id == e))
        .map(|((e, k), s)| SheetRow {
            evaluator: e.clone(),
            lot: k.lot.clone(),
            bidder: k.bidder.clone(),
            scores: s.clone(),
        })
        .collect();
    EvaluationReport {
        method: ev.method,
        members,
        recused: t
            .recused
            .iter()
            .map(|(e, (b, r))| crate::model::Recusal {
                evaluator: e.clone(),
                bidder: b.clone(),
                reason: r.clone(),
            })
            .collect(),
        draw_seed,
        draw: None,
        removed: t.removed_members.clone(),
        score_table,
        rows,
        min_total: ev.min_total,
    }
}

fn compare(wf: &Workflow, a: &ReportRow, ra: i64, b: &ReportRow, rb: i64, seed: u64) -> Ordering {
    let ev = &wf.definition().evaluation;
    let primary = match ev.method {
        Method::Comprehensive => b.total.cmp(&a.total),
        Method::LowestPrice => a.price.cmp(&b.price),
    };
    let mut ord = primary;
    for tb in &ev.tie_break {
        if ord != Ordering::Equal {
            return ord;
        }
        ord = match tb {
            TieBreak::Total => b.total.cmp(&a.total),
            TieBreak::Price => a.price.cmp(&b.price),
            TieBreak::Criterion { criterion } => {
                let get = |r: &ReportRow| {
                    r.criteria
                        .get(criterion.as_str())
                        .copied()
                        .unwrap_or_default()
                };
                get(b).cmp(&get(a))
            }
            TieBreak::ReceivedAt => ra.cmp(&rb),
            TieBreak::Random => draw(seed, &a.bidder).cmp(&draw(seed, &b.bidder)),
        };
    }
    ord.then_with(|| a.bidder.cmp(&b.bidder))
}

/// Checks a score sheet's `scores` object: every evaluator criterion present, 0–100, at most
/// four decimals. Returns the scores or a list of problems.
pub(crate) fn read_sheet(wf: &Workflow, sheet: &Value) -> Result<crate::model::Sheet, Vec<String>> {
    let ev = &wf.definition().evaluation;
    let mut out = BTreeMap::new();
    let mut problems = Vec::new();
    let scores = sheet.get("scores").and_then(Value::as_object);
    let Some(scores) = scores else {
        return Err(vec![
            "/scores: expected an object of criterion scores".into(),
        ]);
    };
    for c in ev
        .criteria
        .iter()
        .filter(|c| matches!(c.source, CriterionSource::Evaluators))
    {
        match scores.get(&*c.id).map(|v| (v, Score::from_json(v))) {
            None => problems.push(format!("/scores/{}: missing; expected a score 0–100", c.id)),
            Some((v, None)) => problems.push(format!(
                "/scores/{}: found {v}; expected a number 0–100 with at most 4 decimals",
                c.id
            )),
            Some((v, Some(s))) if s.raw() < 0 || s.raw() > 100 * SCALE => {
                problems.push(format!("/scores/{}: found {v}; expected 0–100", c.id));
            }
            Some((_, Some(s))) => {
                out.insert(c.id.clone(), s);
            }
        }
    }
    for k in scores.keys() {
        let known = ev
            .criteria
            .iter()
            .any(|c| *c.id == **k && matches!(c.source, CriterionSource::Evaluators));
        if !known {
            problems.push(format!("/scores/{k}: not a criterion scored by evaluators"));
        }
    }
    if problems.is_empty() {
        Ok(Arc::new(out))
    } else {
        Err(problems)
    }
}
