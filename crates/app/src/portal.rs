//! The bidder portal's use cases: the tenders a bidder takes part in with its receipts and
//! result, and what its bid form needs (the definition's bid form, its own current bid, the
//! deadline). What a bidder may see is the core's view; nothing here widens it.

use crate::roles::Role;
use crate::views::BidReceipt;
use crate::{App, AppError, Caller, Result};
use serde_json::Value;
use std::sync::Arc;
use tenderflow_core::{Timestamp, Workflow};

/// A bidder's outcome in a tender, as the definition lets it see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// No award has been proposed yet.
    Pending,
    /// Proposed as a winner (publicity under way).
    Won,
    /// Awarded: selected for good.
    Awarded,
    /// Not among the winners.
    NotChosen,
}

/// A bidder's own result: its outcome, and its rank and total where the definition
/// discloses them.
#[derive(Debug, Clone)]
pub struct BidderResult {
    /// The outcome.
    pub outcome: Outcome,
    /// Rank within the lot (when disclosed).
    pub rank: Option<u64>,
    /// Total score (when disclosed).
    pub total: Option<String>,
    /// Whether the bid qualified.
    pub qualifies: Option<bool>,
}

/// A tender in the bidder's portal.
#[derive(Debug, Clone)]
pub struct BidderTender {
    /// Tender id.
    pub id: String,
    /// The announcement (its title and language variants: [`BidderTender::title`]).
    pub announcement: Value,
    /// The tender's state.
    pub state: String,
    /// The bid deadline.
    pub deadline: Option<Timestamp>,
    /// Whether bids may be submitted, replaced or withdrawn now.
    pub open: bool,
    /// The definition's time zone, minutes east of UTC.
    pub utc_offset_minutes: i32,
    /// The bidder's receipts.
    pub receipts: Vec<BidReceipt>,
    /// Its own bid's content (the last one submitted), if any.
    pub bid: Option<Value>,
    /// Its result, once the evaluation is published to it.
    pub result: Option<BidderResult>,
    /// The definition's bid form (a JSON Schema).
    pub form: Value,
    /// The documents a bid carries (the definition's slots).
    pub slots: Vec<tenderflow_core::definition::DocumentSlot>,
}

impl BidderTender {
    /// The announcement's title in `language` (its `title_{language}` variant) or as given.
    pub fn title(&self, language: &str) -> &str {
        self.announcement[format!("title_{language}")]
            .as_str()
            .or_else(|| self.announcement["title"].as_str())
            .unwrap_or_default()
    }
}

impl App {
    /// A tender as the calling bidder's portal shows it.
    pub async fn bidder_tender(&self, caller: &Caller, id: &str) -> Result<BidderTender> {
        caller.require(&[Role::BIDDER])?;
        let (wf, t) = self.readable(caller, id).await?;
        let view = tenderflow_core::view(&wf, &t, &caller.actor);
        let receipts = self.receipts(caller, id).await?;
        let now = self.clock().now();
        Ok(BidderTender {
            id: t.id.to_string(),
            announcement: t.announcement.as_deref().cloned().unwrap_or(Value::Null),
            state: t.state.to_string(),
            deadline: t.deadline,
            open: accepts_bids(&wf, &t.state) && t.deadline.is_some_and(|d| now < d),
            utc_offset_minutes: wf.definition().calendar.utc_offset_minutes,
            bid: view["bids"]
                .as_array()
                .and_then(|b| b.iter().find(|b| b["bidder"] == caller.account.id.as_str()))
                .map(|b| b["content"].clone())
                .filter(|c| !c.is_null()),
            result: result(&view, &caller.account.id),
            receipts,
            form: wf
                .definition()
                .forms
                .get("bid")
                .cloned()
                .unwrap_or(Value::Null),
            slots: wf.definition().documents.bid.slots.clone(),
        })
    }

    /// The tenders the calling bidder has bid in, newest deadline first.
    pub async fn bidder_tenders(&self, caller: &Caller) -> Result<Vec<BidderTender>> {
        caller.require(&[Role::BIDDER])?;
        let mut out = Vec::new();
        // The tenders' own rows, not the notice board (which compiles every OCDS release).
        for row in self.store.tenders().await? {
            let t = match self.bidder_tender(caller, &row.tender_id).await {
                Ok(t) => t,
                // Not announced yet: nothing a bidder may see.
                Err(AppError::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            if !t.receipts.is_empty() || t.result.is_some() {
                out.push(t);
            }
        }
        out.sort_by(|a, b| b.deadline.cmp(&a.deadline).then(a.id.cmp(&b.id)));
        Ok(out)
    }
}

/// Whether the definition allows `submit_bid` in `state`.
fn accepts_bids(wf: &Arc<Workflow>, state: &str) -> bool {
    wf.definition().transitions.iter().any(|tr| {
        tr.command == Some(tenderflow_core::definition::CommandName::SubmitBid)
            && tr.from.iter().any(|f| f == state || f == "*")
    })
}

/// The bidder's result from its view: its report rows (as disclosed) and whether it is
/// among the proposed or awarded candidates.
fn result(view: &Value, bidder: &str) -> Option<BidderResult> {
    let row = view["report"]["ownRows"]
        .as_array()
        .and_then(|r| r.first())
        .cloned();
    let winners = if view["awarded"].is_array() {
        &view["awarded"]
    } else {
        &view["proposed"]
    };
    let awarded = view["awarded"].is_array();
    let outcome = match winners.as_array() {
        None => Outcome::Pending,
        Some(list) if list.iter().any(|c| c["bidder"] == bidder) && awarded => Outcome::Awarded,
        Some(list) if list.iter().any(|c| c["bidder"] == bidder) => Outcome::Won,
        Some(_) => Outcome::NotChosen,
    };
    if outcome == Outcome::Pending && row.is_none() {
        return None;
    }
    Some(BidderResult {
        outcome,
        rank: row.as_ref().and_then(|r| r["rank"].as_u64()),
        total: row.as_ref().and_then(|r| match &r["total"] {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        }),
        qualifies: row.as_ref().and_then(|r| r["qualifies"].as_bool()),
    })
}
