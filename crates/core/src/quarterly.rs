//! The quarterly report for the body's leadership: per venue and partner, the activities,
//! participants, places delivered against the promise, evaluations, complaints,
//! irregularities and the inspectors' observations of one calendar quarter, compiled from the
//! tenders' state. Pure: the shell loads the tenders and renders the page, PDF and CSV.

use crate::decide::{delivered, promised_share};
use crate::definition::Workflow;
use crate::model::{ActorId, Tender};
use crate::numbers::Score;
use crate::time::{Calendar, Timestamp};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// A calendar quarter, written `2026-Q2` (also `2026Q2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// Year.
    pub year: i32,
    /// Quarter, 1–4.
    pub q: u8,
}

impl Quarter {
    /// The quarter `date` falls in.
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            q: (date.month0() / 3 + 1) as u8,
        }
    }
    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, u32::from(self.q - 1) * 3 + 1, 1).unwrap_or_default()
    }
    /// The quarter before it.
    pub fn previous(self) -> Self {
        if self.q == 1 {
            Self {
                year: self.year - 1,
                q: 4,
            }
        } else {
            Self {
                year: self.year,
                q: self.q - 1,
            }
        }
    }
    /// The quarter after it.
    pub fn next(self) -> Self {
        if self.q == 4 {
            Self {
                year: self.year + 1,
                q: 1,
            }
        } else {
            Self {
                year: self.year,
                q: self.q + 1,
            }
        }
    }
    /// Whether `date` falls in it.
    pub fn contains(self, date: NaiveDate) -> bool {
        Self::of(date) == self
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-Q{}", self.year, self.q)
    }
}

impl FromStr for Quarter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("`{s}` is not a quarter; write it like 2026-Q2");
        let (y, q) = s
            .split_once("-Q")
            .or_else(|| s.split_once('Q'))
            .ok_or_else(bad)?;
        let year: i32 = y.parse().map_err(|_| bad())?;
        let q: u8 = q.parse().map_err(|_| bad())?;
        if !(1..=4).contains(&q) || !(1970..=9999).contains(&year) {
            return Err(bad());
        }
        Ok(Self { year, q })
    }
}

impl Serialize for Quarter {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Quarter {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One service item's delivery in the quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ItemLine {
    /// The item's id.
    pub item: String,
    /// Activities.
    pub activities: u32,
    /// Places offered.
    pub offered: u64,
    /// Places given free or discounted.
    pub given: u64,
    /// Share given, percent.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub share: Score,
}

impl QuarterlyReport {
    /// Names every partner by its registered name in `names`.
    pub fn name_partners(&mut self, names: &crate::present::Names) {
        for p in &mut self.partners {
            if let Some(n) = names.get(p.partner.as_str()) {
                n.clone_into(&mut p.partner_name);
            }
        }
    }
}

/// One partner's quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PartnerLine {
    /// The tender the partner was recruited by.
    pub tender_id: String,
    /// The venue (the agreement's venue term, if the definition names one).
    pub venue: String,
    /// The partner.
    pub partner: ActorId,
    /// The partner's registered name (its id until the application names it).
    pub partner_name: String,
    /// `drafted`, `in_force` or `terminated` at the end of the quarter.
    pub status: String,
    /// Activities reported in the quarter (queried reports excluded).
    pub activities: u32,
    /// Participants.
    pub participants: u64,
    /// Places offered.
    pub offered: u64,
    /// Places given free.
    pub free: u64,
    /// Places given at a discount.
    pub discounted: u64,
    /// Share given free or discounted, percent.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub share: Score,
    /// Share promised, percent.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub promised: Score,
    /// Whether the share delivered is below the definition's alert threshold.
    pub behind: bool,
    /// Reports staff queried (not counted).
    pub queried: u32,
    /// Complaints reported.
    pub complaints: u64,
    /// Shortfall alerts raised in the quarter.
    pub alerts: u32,
    /// Performance rounds in the quarter.
    pub evaluations: Vec<RoundLine>,
    /// The termination's reason, if terminated in or before the quarter.
    pub terminated: Option<String>,
    /// Per service item.
    pub items: Vec<ItemLine>,
}

/// An inspector's observation or irregularity in the quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OversightLine {
    /// Tender.
    pub tender_id: String,
    /// When.
    pub at: Timestamp,
    /// `observation` or `irregularity`.
    pub kind: String,
    /// Inspector.
    pub by: ActorId,
    /// What was recorded (its text fields joined).
    pub text: String,
    /// For an irregularity: whether resolved.
    pub resolved: Option<bool>,
}

/// The quarterly report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuarterlyReport {
    /// The quarter.
    pub quarter: Quarter,
    /// Its first day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: NaiveDate,
    /// Its last day.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: NaiveDate,
    /// One line per partner, by tender, venue and partner.
    pub partners: Vec<PartnerLine>,
    /// Observations and irregularities.
    pub oversight: Vec<OversightLine>,
    /// Totals over every partner.
    pub totals: Totals,
}

/// A performance round in the quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RoundLine {
    /// Round number.
    pub round: u32,
    /// Weighted total.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub total: Score,
    /// Below the minimum: a warning.
    pub warning: bool,
}

/// Totals of a quarter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Activities.
    pub activities: u32,
    /// Participants.
    pub participants: u64,
    /// Places offered.
    pub offered: u64,
    /// Places given free or discounted.
    pub given: u64,
}

fn n(v: &Value, field: &str) -> u64 {
    v.get(field).and_then(Value::as_u64).unwrap_or(0)
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .values()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" — "),
        other => other.to_string(),
    }
}

/// Compiles the report of `quarter` from tenders and their definitions (those without a
/// stage after the award add nothing).
pub fn compile(tenders: &[(&Workflow, &Tender)], quarter: Quarter) -> QuarterlyReport {
    let from = quarter.first_day();
    let to = quarter.next().first_day().pred_opt().unwrap_or(from);
    let mut partners = Vec::new();
    let mut oversight = Vec::new();
    for (wf, t) in tenders {
        let Some(c) = wf.contracts() else { continue };
        if t.agreements.is_empty() {
            continue;
        }
        let cal: &Calendar = &wf.definition().calendar;
        let in_quarter = |at: Timestamp| quarter.contains(cal.local_date(at));
        // Agreements drafted after the quarter were not there yet.
        for a in t
            .agreements
            .values()
            .filter(|a| cal.local_date(a.drafted_at) <= to)
        {
            let mut line = PartnerLine {
                tender_id: t.id.clone(),
                venue: c
                    .agreement
                    .venue
                    .as_deref()
                    .and_then(|v| a.terms.get(v))
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                partner: a.partner.clone(),
                partner_name: a.partner.to_string(),
                status: match (&a.termination, a.in_force_at) {
                    (Some(x), _) if cal.local_date(x.at) <= to => "terminated",
                    (_, Some(at)) if cal.local_date(at) <= to => "in_force",
                    _ => "drafted",
                }
                .to_owned(),
                activities: 0,
                participants: 0,
                offered: 0,
                free: 0,
                discounted: 0,
                share: Score::default(),
                promised: Score::default(),
                behind: false,
                queried: 0,
                complaints: 0,
                alerts: a
                    .shortfalls
                    .iter()
                    .filter(|(at, _, _)| in_quarter(*at))
                    .count() as u32,
                evaluations: a
                    .rounds
                    .iter()
                    .filter(|r| in_quarter(r.at))
                    .map(|r| RoundLine {
                        round: r.round,
                        total: r.total,
                        warning: r.warning,
                    })
                    .collect(),
                terminated: a
                    .termination
                    .as_ref()
                    .filter(|x| cal.local_date(x.at) <= to)
                    .map(|x| x.reason.clone()),
                items: Vec::new(),
            };
            if let Some(d) = &c.delivery {
                let f = &d.fields;
                let dated = |r: &Value| {
                    r.get(&f.date)
                        .and_then(Value::as_str)
                        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                        .is_some_and(|date| quarter.contains(date))
                };
                let mine: Vec<_> = a.deliveries.iter().filter(|x| dated(&x.report)).collect();
                for x in &mine {
                    if !x.counts() {
                        line.queried += 1;
                        continue;
                    }
                    let r = &x.report;
                    line.activities += 1;
                    line.participants += n(r, &f.participants);
                    line.offered += n(r, &f.places_offered);
                    line.free += n(r, &f.free_places);
                    line.discounted += n(r, &f.discounted_places);
                    if let Some(k) = &f.complaints {
                        line.complaints += n(r, k);
                    }
                    let item = r.get(&f.item).and_then(Value::as_str).unwrap_or("");
                    let i = match line.items.iter().position(|l| l.item == item) {
                        Some(i) => i,
                        None => {
                            line.items.push(ItemLine {
                                item: item.to_owned(),
                                activities: 0,
                                offered: 0,
                                given: 0,
                                share: Score::default(),
                            });
                            line.items.len() - 1
                        }
                    };
                    let l = &mut line.items[i];
                    l.activities += 1;
                    l.offered += n(r, &f.places_offered);
                    l.given += n(r, &f.free_places) + n(r, &f.discounted_places);
                }
                for l in &mut line.items {
                    l.share = Score::ratio(l.given as i64, l.offered as i64);
                }
                let counted: Vec<_> = mine.into_iter().cloned().collect();
                let (offered, given) = delivered(d, &counted);
                line.share = Score::ratio(given as i64, offered as i64);
                line.promised = promised_share(d, a);
                line.behind = offered >= u64::from(d.min_places)
                    && line.share < line.promised.weighted(d.alert_below);
            }
            partners.push(line);
        }
        for o in t.observations.iter().filter(|o| in_quarter(o.at)) {
            oversight.push(OversightLine {
                tender_id: t.id.clone(),
                at: o.at,
                kind: "observation".into(),
                by: o.by.clone(),
                text: text_of(&o.content),
                resolved: None,
            });
        }
        for i in t.irregularities.iter().filter(|i| in_quarter(i.at)) {
            oversight.push(OversightLine {
                tender_id: t.id.clone(),
                at: i.at,
                kind: "irregularity".into(),
                by: i.by.clone(),
                text: text_of(&i.content),
                resolved: Some(i.resolution.is_some()),
            });
        }
    }
    partners.sort_by(|a, b| {
        (&a.tender_id, &a.venue, &a.partner).cmp(&(&b.tender_id, &b.venue, &b.partner))
    });
    oversight.sort_by_key(|o| o.at);
    let totals = partners.iter().fold(Totals::default(), |t, p| Totals {
        activities: t.activities + p.activities,
        participants: t.participants + p.participants,
        offered: t.offered + p.offered,
        given: t.given + p.free + p.discounted,
    });
    QuarterlyReport {
        quarter,
        from,
        to,
        partners,
        oversight,
        totals,
    }
}

impl QuarterlyReport {
    /// The report as CSV (RFC 4180): one row per partner, then one per service item.
    pub fn to_csv(&self) -> String {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        push_row(
            &mut out,
            &[
                "quarter",
                "tender",
                "venue",
                "partner",
                "item",
                "status",
                "activities",
                "participants",
                "places_offered",
                "free_places",
                "discounted_places",
                "delivered_share",
                "promised_share",
                "behind",
                "queried",
                "complaints",
                "alerts",
                "evaluation_total",
                "warnings",
                "terminated",
            ]
            .map(str::to_owned),
        );
        for p in &self.partners {
            let total = p
                .evaluations
                .last()
                .map(|e| e.total.to_string())
                .unwrap_or_default();
            let warnings = p.evaluations.iter().filter(|e| e.warning).count();
            let row = [
                self.quarter.to_string(),
                p.tender_id.clone(),
                p.venue.clone(),
                p.partner_name.clone(),
                String::new(),
                p.status.clone(),
                p.activities.to_string(),
                p.participants.to_string(),
                p.offered.to_string(),
                p.free.to_string(),
                p.discounted.to_string(),
                p.share.to_string(),
                p.promised.to_string(),
                p.behind.to_string(),
                p.queried.to_string(),
                p.complaints.to_string(),
                p.alerts.to_string(),
                total,
                warnings.to_string(),
                p.terminated.clone().unwrap_or_default(),
            ];
            push_row(&mut out, &row);
            for i in &p.items {
                let row = [
                    self.quarter.to_string(),
                    p.tender_id.clone(),
                    p.venue.clone(),
                    p.partner_name.clone(),
                    i.item.clone(),
                    p.status.clone(),
                    i.activities.to_string(),
                    String::new(),
                    i.offered.to_string(),
                    String::new(),
                    String::new(),
                    i.share.to_string(),
                    p.promised.to_string(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ];
                push_row(&mut out, &row);
            }
        }
        // Writing to memory cannot fail.
        out.into_inner()
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .unwrap_or_default()
    }
}

/// One record, quoted as RFC 4180 asks (the `csv` crate), each cell that a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@`, or a tab or carriage return before one)
/// neutralised with a leading apostrophe; numbers stay numbers.
fn push_row(out: &mut csv::Writer<Vec<u8>>, cells: &[String]) {
    let cells = cells.iter().map(|c| {
        if c.starts_with(['=', '+', '-', '@', '\t', '\r']) && c.parse::<f64>().is_err() {
            format!("'{c}")
        } else {
            c.clone()
        }
    });
    // Writing to memory cannot fail.
    let _ = out.write_record(cells);
}

#[cfg(test)]
mod tests {
    use super::push_row;

    #[test]
    fn csv_cells_that_would_run_as_formulas_are_neutralised() {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        let row = [
            "=HYPERLINK(\"x\")",
            "\t=1+1",
            "\r=cmd",
            "@SUM(A1)",
            "-12.5",
            "Partner, \"quoted\"",
            "瓯江文化",
        ]
        .map(str::to_owned);
        push_row(&mut w, &row);
        let out = String::from_utf8(w.into_inner().expect("memory")).expect("utf-8");
        assert_eq!(
            out,
            "\"'=HYPERLINK(\"\"x\"\")\",'\t=1+1,\"'\r=cmd\",'@SUM(A1),-12.5,\"Partner, \"\"quoted\"\"\",瓯江文化\r\n"
        );
    }
}
