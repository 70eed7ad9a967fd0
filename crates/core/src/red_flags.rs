//! Red flags for inspectors, computed from a tender's event log (and, for patterns across
//! procedures, from several tenders' logs). A flag is not a finding: it tells an inspector
//! where to look. Each names its rule, the events that are its evidence (their sequence
//! numbers, 1-based) and the threshold it was measured against, taken from the definition
//! where the law fixes it (the bid period, the clarification cut-off, publicity, objection
//! answers) and from [`Thresholds`] otherwise.
//!
//! Ids follow the Open Contracting Partnership's Cardinal indicators where one exists
//! (`R003`, `R028`, `R035`, `R036`); the others are ours (`TF…`).

use crate::definition::Workflow;
use crate::model::{ActorId, Candidate, Event, EventBody};
use crate::time::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The thresholds the law does not fix (configuration, with these defaults; a missing key
/// keeps its default, an unknown one is refused).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Thresholds {
    /// Fewer bids than this (at the close) is a flag.
    pub min_bids: u32,
    /// A bid period less than this many hours above the legal minimum is a flag.
    pub period_margin_hours: i64,
    /// An amendment or answer affecting bids this many hours or less before the deadline.
    pub late_amendment_hours: i64,
    /// This share (percent) of the bids or more received in the last hour is a flag…
    pub last_hour_share: u32,
    /// …when there are at least this many bids.
    pub last_hour_min_bids: usize,
    /// Different prices within this many basis points (0.01 %) of each other are
    /// near-identical.
    pub near_price_basis_points: i64,
    /// Across tenders of one buyer: an organisation winning in this share (percent) of them…
    pub concentration_share: u32,
    /// …out of at least this many tenders.
    pub concentration_min_tenders: usize,
    /// Two bidders meeting in at least this many tenders, one always winning and the other
    /// always losing (bid rotation).
    pub rotation_min_tenders: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_bids: 3,
            period_margin_hours: 24,
            late_amendment_hours: 72,
            last_hour_share: 50,
            last_hour_min_bids: 3,
            near_price_basis_points: 5,
            concentration_share: 50,
            concentration_min_tenders: 3,
            rotation_min_tenders: 3,
        }
    }
}

/// One red flag.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RedFlag {
    /// The indicator's id (`R028`, `TF01`).
    pub id: &'static str,
    /// A stable code (`identical_prices`).
    pub code: &'static str,
    /// What it flags, in one sentence.
    pub rule: &'static str,
    /// The tender (or tenders) concerned.
    pub tenders: Vec<String>,
    /// The events that are its evidence: sequence numbers (1-based) in the tender's log.
    pub evidence: Vec<u64>,
    /// The threshold measured against.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub threshold: Value,
    /// What was measured.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Value,
}

/// Every indicator: id, code and rule (for documentation and the pages).
pub const INDICATORS: &[(&str, &str, &str)] = &[
    (
        "TF01",
        "too_few_bids",
        "fewer bids than the threshold when submission closed",
    ),
    (
        "R003",
        "short_submission_period",
        "a bid period at or near the legal minimum",
    ),
    (
        "TF02",
        "late_amendment",
        "an amendment or answer affecting bids close to the deadline",
    ),
    (
        "TF03",
        "bids_in_last_hour",
        "a large share of the bids received in the last hour",
    ),
    (
        "R028",
        "identical_prices",
        "two or more bids with the same price",
    ),
    (
        "TF04",
        "near_identical_prices",
        "different bids with prices within a small ratio",
    ),
    (
        "TF05",
        "identical_documents",
        "two bidders' bids with the same content (commitment)",
    ),
    (
        "TF06",
        "committee_changed_after_scoring",
        "the committee changed after scores were submitted",
    ),
    (
        "R036",
        "lowest_bid_disqualified",
        "the lowest-priced bid was disqualified",
    ),
    (
        "R035",
        "all_except_winner_disqualified",
        "every bid but the winners' was disqualified",
    ),
    (
        "TF07",
        "award_outside_ranking",
        "a winner ranked below a qualifying bid that did not win",
    ),
    (
        "TF08",
        "short_publicity",
        "publicity shorter than the definition's rule",
    ),
    (
        "TF09",
        "objection_answered_late",
        "an objection answered after its due date",
    ),
    (
        "TF10",
        "winners_concentrated",
        "one organisation winning many of one buyer's tenders",
    ),
    (
        "TF11",
        "bid_rotation",
        "two bidders who meet often, exactly one of them winning each time",
    ),
];

fn flag(
    code: &'static str,
    tender: &str,
    evidence: Vec<u64>,
    threshold: Value,
    details: Value,
) -> RedFlag {
    let (id, _, rule) = INDICATORS
        .iter()
        .find(|(_, c, _)| *c == code)
        .copied()
        .unwrap_or(("TF00", code, ""));
    RedFlag {
        id,
        code,
        rule,
        tenders: vec![tender.to_owned()],
        evidence,
        threshold,
        details,
    }
}

/// The live bids at the end of a log: bidder and lot → (event seq, time, price, commitment).
type Live = BTreeMap<(ActorId, Arc<str>), (u64, Timestamp, i64, String)>;

/// The red flags of one tender, from its event log (`events[i]` is event `i + 1`).
pub fn red_flags(wf: &Workflow, tender: &str, events: &[Event], th: &Thresholds) -> Vec<RedFlag> {
    let d = wf.definition();
    let hours = |a: Timestamp, b: Timestamp| (b.unix() - a.unix()) / 3600;
    let mut out = Vec::new();
    let mut published: Option<(u64, Timestamp)> = None;
    let mut deadline: Option<Timestamp> = None;
    let mut live: Live = BTreeMap::new();
    let mut scored = false;
    let mut disqualified: Vec<(u64, (ActorId, Arc<str>))> = Vec::new();
    let mut report = None;
    let mut winners: Option<(u64, Vec<Candidate>)> = None;
    let mut objections: BTreeMap<u32, (u64, Option<Timestamp>)> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        let seq = i as u64 + 1;
        match &e.body {
            EventBody::AnnouncementPublished { deadline: dl, .. } => {
                published = Some((seq, e.at));
                deadline = Some(*dl);
            }
            EventBody::AmendmentPublished {
                affects_bids,
                deadline_after,
                ..
            }
            | EventBody::QuestionAnswered {
                affects_bids,
                deadline_after,
                ..
            } => {
                deadline = Some(*deadline_after);
                let left = hours(e.at, *deadline_after);
                if *affects_bids && left <= th.late_amendment_hours {
                    out.push(flag(
                        "late_amendment",
                        tender,
                        vec![seq],
                        json!({ "hoursBeforeDeadline": th.late_amendment_hours }),
                        json!({ "hoursBeforeDeadline": left }),
                    ));
                }
            }
            EventBody::BidSubmitted {
                key,
                commitment,
                price,
                ..
            }
            | EventBody::BidReplaced {
                key,
                commitment,
                price,
                ..
            } => {
                live.insert(
                    (key.bidder.clone(), key.lot.clone()),
                    (seq, e.at, price.minor(), commitment.clone()),
                );
            }
            EventBody::BidWithdrawn { key } => {
                live.remove(&(key.bidder.clone(), key.lot.clone()));
            }
            EventBody::SubmissionClosed { bids, .. } if *bids < th.min_bids => {
                out.push(flag(
                    "too_few_bids",
                    tender,
                    vec![seq],
                    json!({ "minBids": th.min_bids }),
                    json!({ "bids": bids }),
                ));
            }
            EventBody::ScoresSubmitted { .. } => scored = true,
            EventBody::CommitteeAppointed { removed, .. } if scored || !removed.is_empty() => {
                out.push(flag(
                    "committee_changed_after_scoring",
                    tender,
                    vec![seq],
                    json!({ "after": "the first score sheet" }),
                    json!({ "removedWithSheets": removed.len() }),
                ));
            }
            EventBody::BidDisqualified { key, .. } => {
                disqualified.push((seq, (key.bidder.clone(), key.lot.clone())));
            }
            EventBody::EvaluationFinalized { report: r } => report = Some(r.clone()),
            EventBody::AwardProposed {
                winners: w,
                publicity_ends,
            } => {
                winners = Some((seq, w.clone()));
                if let Some(rule) = &d.schedule.publicity {
                    let least = d.calendar.add(e.at, rule.period());
                    if least.is_some_and(|l| *publicity_ends < l) {
                        out.push(flag(
                            "short_publicity",
                            tender,
                            vec![seq],
                            json!({ "publicity": rule, "endsNoEarlierThan": least }),
                            json!({ "publicityEnds": publicity_ends }),
                        ));
                    }
                }
            }
            EventBody::Awarded { winners: w } => winners = Some((seq, w.clone())),
            EventBody::ObjectionRaised { id, answer_due, .. } => {
                objections.insert(*id, (seq, *answer_due));
            }
            EventBody::ObjectionAnswered { id, .. } => {
                if let Some((raised, Some(due))) = objections.get(id).copied() {
                    if e.at > due {
                        out.push(flag(
                            "objection_answered_late",
                            tender,
                            vec![raised, seq],
                            json!({ "due": due }),
                            json!({ "answered": e.at, "objection": id }),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    // The bid period against the legal minimum (with the final deadline).
    if let (Some((seq, at)), Some(dl)) = (published, deadline) {
        if let Some(least) = d.calendar.add(at, d.schedule.min_bid_period.period()) {
            if hours(least, dl) < th.period_margin_hours {
                out.push(flag(
                    "short_submission_period",
                    tender,
                    vec![seq],
                    json!({ "legalMinimum": d.schedule.min_bid_period, "marginHours": th.period_margin_hours }),
                    json!({ "deadline": dl, "earliestLegalDeadline": least }),
                ));
            }
        }
        let last_hour: Vec<u64> = live
            .values()
            .filter(|(_, t, _, _)| t.unix() > dl.unix() - 3600 && *t <= dl)
            .map(|(s, ..)| *s)
            .collect();
        if live.len() >= th.last_hour_min_bids
            && last_hour.len() * 100 >= live.len() * th.last_hour_share as usize
        {
            out.push(flag(
                "bids_in_last_hour",
                tender,
                last_hour.clone(),
                json!({ "sharePercent": th.last_hour_share, "minBids": th.last_hour_min_bids }),
                json!({ "inLastHour": last_hour.len(), "bids": live.len() }),
            ));
        }
    }
    price_flags(tender, &live, th, &mut out);
    if let Some(r) = &report {
        outcome_flags(
            tender,
            &live,
            &disqualified,
            &r.rows,
            winners.as_ref(),
            &mut out,
        );
    }
    out
}

/// Identical and near-identical prices, identical documents.
fn price_flags(tender: &str, live: &Live, th: &Thresholds, out: &mut Vec<RedFlag>) {
    let mut by_price: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    let mut by_doc: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for (seq, _, price, commitment) in live.values() {
        by_price.entry(*price).or_default().push(*seq);
        by_doc.entry(commitment.as_str()).or_default().push(*seq);
    }
    for (price, seqs) in &by_price {
        if seqs.len() > 1 {
            out.push(flag(
                "identical_prices",
                tender,
                seqs.clone(),
                json!({ "equal": true }),
                json!({ "priceMinor": price, "bids": seqs.len() }),
            ));
        }
    }
    let prices: Vec<(&i64, &Vec<u64>)> = by_price.iter().collect();
    for pair in prices.windows(2) {
        let ((a, sa), (b, sb)) = (pair[0], pair[1]);
        let near = (*b - *a) * 10_000 <= th.near_price_basis_points * (*a).abs().max(1);
        if near {
            out.push(flag(
                "near_identical_prices",
                tender,
                sa.iter().chain(sb.iter()).copied().collect(),
                json!({ "basisPoints": th.near_price_basis_points }),
                json!({ "pricesMinor": [a, b] }),
            ));
        }
    }
    for seqs in by_doc.values() {
        if seqs.len() > 1 {
            out.push(flag(
                "identical_documents",
                tender,
                seqs.clone(),
                json!({ "equal": "commitment" }),
                json!({ "bids": seqs.len() }),
            ));
        }
    }
}

/// The lowest bid disqualified, everyone but the winners disqualified, a winner outside the
/// ranking.
fn outcome_flags(
    tender: &str,
    live: &Live,
    disqualified: &[(u64, (ActorId, Arc<str>))],
    rows: &[crate::model::ReportRow],
    winners: Option<&(u64, Vec<Candidate>)>,
    out: &mut Vec<RedFlag>,
) {
    let lowest = live
        .iter()
        .min_by_key(|(_, (_, _, p, _))| *p)
        .map(|(k, _)| k.clone());
    if let Some(low) = &lowest {
        if let Some((seq, _)) = disqualified.iter().find(|(_, k)| k == low) {
            out.push(flag(
                "lowest_bid_disqualified",
                tender,
                vec![*seq],
                json!({ "lowest": "price" }),
                json!({ "bidder": low.0 }),
            ));
        }
    }
    let Some((seq, winners)) = winners else {
        return;
    };
    let won: BTreeSet<(&str, &str)> = winners
        .iter()
        .map(|c| (c.bidder.as_str(), &*c.lot))
        .collect();
    let others = live
        .keys()
        .filter(|(b, l)| !won.contains(&(b.as_str(), &**l)))
        .count();
    if others > 0 && disqualified.len() >= others {
        out.push(flag(
            "all_except_winner_disqualified",
            tender,
            disqualified.iter().map(|(s, _)| *s).chain([*seq]).collect(),
            json!({ "allOthers": true }),
            json!({ "disqualified": disqualified.len() }),
        ));
    }
    for c in winners {
        let outranked = rows.iter().any(|r| {
            r.lot == c.lot
                && r.qualifies
                && !won.contains(&(r.bidder.as_str(), &*r.lot))
                && r.rank.is_some_and(|rank| rank < c.rank)
        });
        if outranked {
            out.push(flag(
                "award_outside_ranking",
                tender,
                vec![*seq],
                json!({ "ranking": "the evaluation report" }),
                json!({ "bidder": c.bidder, "rank": c.rank }),
            ));
        }
    }
}

/// One tender's facts for the flags across tenders.
#[derive(Debug, Clone)]
pub struct TenderOutcome {
    /// Tender id.
    pub tender: String,
    /// Its buyer (the procuring entity's name or id).
    pub buyer: String,
    /// Every bidder.
    pub bidders: BTreeSet<String>,
    /// The winners.
    pub winners: BTreeSet<String>,
}

impl TenderOutcome {
    /// The outcome of a tender from its log (`None` before an award).
    pub fn of(tender: &str, buyer: &str, events: &[Event]) -> Option<Self> {
        let mut bidders = BTreeSet::new();
        let mut winners = None;
        for e in events {
            match &e.body {
                EventBody::BidSubmitted { key, .. } => {
                    bidders.insert(key.bidder.as_str().to_owned());
                }
                EventBody::Awarded { winners: w } => {
                    winners = Some(w.iter().map(|c| c.bidder.as_str().to_owned()).collect());
                }
                _ => {}
            }
        }
        Some(Self {
            tender: tender.to_owned(),
            buyer: buyer.to_owned(),
            bidders,
            winners: winners?,
        })
    }
}

/// Flags across awarded tenders: one organisation winning much of one buyer's business, and
/// pairs of bidders who meet often with one always winning and the other always losing.
pub fn across_tenders(outcomes: &[TenderOutcome], th: &Thresholds) -> Vec<RedFlag> {
    let mut out = Vec::new();
    let mut by_buyer: BTreeMap<&str, Vec<&TenderOutcome>> = BTreeMap::new();
    for o in outcomes {
        by_buyer.entry(o.buyer.as_str()).or_default().push(o);
    }
    for (buyer, list) in &by_buyer {
        if list.len() < th.concentration_min_tenders {
            continue;
        }
        let mut wins: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for o in list {
            for w in &o.winners {
                wins.entry(w.as_str()).or_default().push(o.tender.as_str());
            }
        }
        for (org, tenders) in wins {
            if tenders.len() * 100 >= list.len() * th.concentration_share as usize {
                let mut f = flag(
                    "winners_concentrated",
                    tenders[0],
                    Vec::new(),
                    json!({ "sharePercent": th.concentration_share, "minTenders": th.concentration_min_tenders }),
                    json!({ "buyer": buyer, "organisation": org, "won": tenders.len(), "tenders": list.len() }),
                );
                f.tenders = tenders.iter().map(|t| (*t).to_owned()).collect();
                out.push(f);
            }
        }
    }
    // Pairs: (a, b) with a winning and b losing every time they meet.
    let mut met: BTreeMap<(&str, &str), (usize, usize, Vec<&str>)> = BTreeMap::new();
    for o in outcomes {
        for a in &o.bidders {
            for b in &o.bidders {
                if a < b {
                    let e = met.entry((a.as_str(), b.as_str())).or_default();
                    e.0 += 1;
                    let (wa, wb) = (o.winners.contains(a), o.winners.contains(b));
                    if wa != wb {
                        e.1 += 1;
                    }
                    e.2.push(o.tender.as_str());
                }
            }
        }
    }
    for ((a, b), (together, split, tenders)) in met {
        if together >= th.rotation_min_tenders && split == together {
            let mut f = flag(
                "bid_rotation",
                tenders[0],
                Vec::new(),
                json!({ "minTenders": th.rotation_min_tenders }),
                json!({ "bidders": [a, b], "metIn": together }),
            );
            f.tenders = tenders.iter().map(|t| (*t).to_owned()).collect();
            out.push(f);
        }
    }
    out
}
