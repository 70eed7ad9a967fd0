//! What a caller may read. Evaluators read only the tenders whose committee they sit on,
//! bidders only published ones; the core's `view` decides which fields each role sees. Lists
//! and details come from the same verified state, so they never disagree.

use crate::roles::{self, Role};
use crate::{App, AppError, Caller, Result};
use serde::Serialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tenderflow_core::{Tender, Timestamp, Workflow};

/// Largest page of a list.
pub const MAX_PAGE: usize = 1000;
/// Page size when none is asked for.
pub const DEFAULT_PAGE: usize = 100;

/// `invalid_id` unless `value` follows the one id pattern.
pub fn check_id(what: &str, value: &str) -> Result<()> {
    match tenderflow_core::ids::problem(value) {
        None => Ok(()),
        Some(p) => Err(AppError::invalid("invalid_id", format!("{what}: {p}"))),
    }
}

/// A page size: 1–1000, 100 when none is given.
pub fn page_size(limit: Option<usize>) -> Result<usize> {
    match limit {
        None => Ok(DEFAULT_PAGE),
        Some(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid(
            "invalid_query",
            "limit is between 1 and 1000",
        )),
    }
}

/// A tender as the caller sees it, and the tag of exactly that (an ETag).
#[derive(Debug, Clone)]
pub struct TenderView {
    /// The view.
    pub view: Value,
    /// A hash of what the caller sees (quoted, as an ETag).
    pub tag: String,
}

/// One line of the tender list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TenderSummary {
    /// Tender id.
    pub id: String,
    /// State.
    pub state: String,
    /// Events so far, where the count reveals nothing about other bids.
    pub events: Option<i64>,
    /// Bid deadline.
    pub deadline: Option<Timestamp>,
}

/// One event of the audit trail: its place in the chain and its payload (sealed bids stay
/// sealed; scores are withheld until the report is final).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Its number in the tender's chain.
    pub seq: i64,
    /// Its type (`bid_submitted`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// When (null only for a stored time out of range).
    pub at: Option<Timestamp>,
    /// Who.
    pub actor: AuditActor,
    /// The command id that appended it.
    pub command: String,
    /// The event (or what may be shown of it).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// The previous event's hash.
    pub prev_hash: String,
    /// Its hash.
    pub hash: String,
}

/// Who did something.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditActor {
    /// Account id.
    pub id: String,
    /// Role.
    pub role: String,
}

/// One line of the timeline.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineEntry {
    /// Event number, where counts reveal nothing about other bids.
    pub seq: Option<i64>,
    /// When.
    pub at: Option<Timestamp>,
    /// What (the event's type).
    #[serde(rename = "type")]
    pub kind: String,
    /// The role of who did it.
    pub actor_role: String,
}

/// A bidder's receipt for one of its bids.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BidReceipt {
    /// Lot.
    pub lot: String,
    /// The receipt code (derived from the bid itself).
    pub code: String,
    /// Its number in order of receipt, once the bids are opened.
    pub number: Option<u32>,
    /// SHA-256 commitment to the bid's content (and documents).
    pub commitment: String,
    /// How the commitment was made (`jcs`: RFC 8785; `v1`: keys sorted by their bytes);
    /// `tenderflow bid commitment --recipe` reproduces it.
    pub commitment_recipe: tenderflow_core::canonical::Recipe,
    /// When it was received.
    pub received_at: Timestamp,
    /// Its documents, each with its SHA-256 (the commitment covers them).
    pub documents: Vec<tenderflow_core::model::Document>,
}

/// Which tenders to list.
#[derive(Debug, Clone, Default)]
pub struct TenderFilter {
    /// Only in this state.
    pub state: Option<String>,
    /// Only of this definition id.
    pub workflow: Option<String>,
    /// Only whose announcement title contains this text.
    pub text: Option<String>,
    /// After this id (the cursor).
    pub after: Option<String>,
    /// Page size.
    pub limit: Option<usize>,
}

/// A page of a list and the cursor of the next page.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T, C> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page, if there is one.
    pub next: Option<C>,
}

/// The tag of a view: a hash of exactly what the caller sees, so it reveals nothing the view
/// does not (a bidder's does not move with other bids).
pub fn tag(view: &Value) -> String {
    format!(
        "\"{}\"",
        &tenderflow_core::canonical::sha256_hex(view)[..32]
    )
}

impl App {
    /// A tender the caller may read, with its workflow.
    pub async fn readable(&self, caller: &Caller, id: &str) -> Result<(Arc<Workflow>, Tender)> {
        let (wf, t) = self.store.load(id).await?;
        match Role::known(caller.role()) {
            Some(Role::EVALUATOR) if !t.committee.iter().any(|m| m.id == caller.actor.id) => Err(
                AppError::Forbidden("only members of this tender's committee may read it".into()),
            ),
            Some(Role::BIDDER) if t.announcement.is_none() => {
                Err(AppError::NotFound(format!("no tender `{id}`")))
            }
            _ => Ok((wf, t)),
        }
    }

    /// The tag of the tender as the caller sees it (what `If-Match` is checked against).
    pub async fn view_tag(&self, caller: &Caller, id: &str) -> Result<String> {
        let (wf, t) = self.readable(caller, id).await?;
        Ok(tag(&tenderflow_core::view(&wf, &t, &caller.actor)))
    }

    /// The tender as the caller sees it; officials also get the staff's open obligations.
    pub async fn tender_view(&self, caller: &Caller, id: &str) -> Result<TenderView> {
        let (wf, t) = self.readable(caller, id).await?;
        let mut view = tenderflow_core::view(&wf, &t, &caller.actor);
        let tag = tag(&view);
        if roles::is_official(caller.role()) {
            view["obligations"] = json!(tenderflow_core::obligations::obligations(
                &wf,
                &t,
                self.clock().now()
            ));
        }
        Ok(TenderView { view, tag })
    }

    /// The tenders the caller may read, by id, filtered, a page at a time.
    pub async fn tenders(
        &self,
        caller: &Caller,
        f: &TenderFilter,
    ) -> Result<Page<TenderSummary, String>> {
        let limit = page_size(f.limit)?;
        if let Some(a) = &f.after {
            check_id("after", a)?;
        }
        let mut items: Vec<TenderSummary> = Vec::new();
        let mut next = None;
        for row in self.store.tenders().await? {
            if f.after.as_ref().is_some_and(|a| row.tender_id <= *a)
                || f.state.as_ref().is_some_and(|st| *st != row.state)
            {
                continue;
            }
            if let Some(w) = &f.workflow {
                let wf = self.store.workflow(&row.workflow_sha256).await?;
                if wf.definition().id != *w {
                    continue;
                }
            }
            if let Some(text) = &f.text {
                let (_, t) = self.store.load(&row.tender_id).await?;
                let title = t
                    .announcement
                    .as_deref()
                    .and_then(|a| a.get("title"))
                    .map(Value::to_string)
                    .unwrap_or_default();
                if !title.contains(text.as_str()) {
                    continue;
                }
            }
            if items.len() == limit {
                next = items.last().map(|s| s.id.clone());
                break;
            }
            if roles::is_official(caller.role()) {
                items.push(TenderSummary {
                    id: row.tender_id,
                    state: row.state,
                    events: Some(row.seq),
                    deadline: row.deadline_ms.and_then(Timestamp::from_unix_millis),
                });
            } else if let Ok((_, t)) = self.readable(caller, &row.tender_id).await {
                // From the verified replay, like the detail; the event count only where it
                // reveals nothing about other bids.
                let events = tenderflow_core::view::counts_visible(&t, caller.role())
                    .then(|| i64::try_from(t.seq).unwrap_or(i64::MAX));
                items.push(TenderSummary {
                    id: row.tender_id,
                    state: t.state,
                    events,
                    deadline: t.deadline,
                });
            }
        }
        Ok(Page { items, next })
    }

    /// The audit trail of a tender for officials: the stored events after sequence number
    /// `after`, `limit` at a time (1000 by default: most tenders in one page), with their
    /// hashes; payloads the role may not see yet are withheld. Loading verifies the chain first.
    pub async fn audit_trail(
        &self,
        caller: &Caller,
        id: &str,
        after: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Page<AuditEvent, i64>> {
        caller.require(roles::OFFICIALS)?;
        let limit = page_size(Some(limit.unwrap_or(MAX_PAGE)))?;
        let (_, t) = self.store.load(id).await?;
        let first = after.unwrap_or(0).max(0).saturating_add(1);
        let last = first.saturating_add(i64::try_from(limit).unwrap_or(i64::MAX));
        // One more than the page, to know whether there is a next one.
        let rows = self.store.event_rows_between(id, first, last).await?;
        let next = (rows.len() > limit).then(|| rows[limit - 1].seq);
        let items = rows
            .iter()
            .take(limit)
            .map(|r| {
                let payload: Value = if tenderflow_core::view::audit_payload_visible(&t, &r.kind) {
                    serde_json::from_str(&r.payload).unwrap_or(Value::Null)
                } else {
                    tenderflow_core::view::withheld_payload(&r.kind)
                };
                AuditEvent {
                    seq: r.seq,
                    kind: r.kind.clone(),
                    at: Timestamp::from_unix_millis(r.at_ms),
                    actor: AuditActor {
                        id: r.actor_id.clone(),
                        role: r.actor_role.clone(),
                    },
                    command: r.command_id.clone(),
                    payload,
                    prev_hash: r.prev_hash.clone(),
                    hash: r.hash.clone(),
                }
            })
            .collect();
        Ok(Page { items, next })
    }

    /// What happened when, as the caller may see it: before the opening a bidder sees only
    /// its own bid events and no sequence numbers.
    pub async fn timeline(&self, caller: &Caller, id: &str) -> Result<Vec<TimelineEntry>> {
        let (_, t) = self.readable(caller, id).await?;
        let rows = self.store.event_rows(id).await?;
        let officials = roles::is_official(caller.role()) || caller.is(Role::EVALUATOR);
        let counts = tenderflow_core::view::counts_visible(&t, caller.role());
        Ok(rows
            .iter()
            .filter(|r| {
                officials
                    || t.opened()
                    || !tenderflow_core::view::is_bid_event(&r.kind)
                    || r.actor_id == caller.account.id
            })
            .map(|r| TimelineEntry {
                seq: counts.then_some(r.seq),
                at: Timestamp::from_unix_millis(r.at_ms),
                kind: r.kind.clone(),
                actor_role: r.actor_role.clone(),
            })
            .collect())
    }

    /// A bidder's own receipts (numbers only after the opening).
    pub async fn receipts(&self, caller: &Caller, id: &str) -> Result<Vec<BidReceipt>> {
        caller.require(&[Role::BIDDER])?;
        let (_, t) = self.readable(caller, id).await?;
        Ok(t.bids
            .iter()
            .filter(|(k, _)| k.bidder == caller.actor.id)
            .map(|(k, b)| BidReceipt {
                lot: k.lot.to_string(),
                code: k.receipt_code(&t.id, &b.commitment),
                number: t.opened().then_some(b.receipt),
                commitment: b.commitment.clone(),
                commitment_recipe: b.commitment_recipe,
                received_at: b.received_at,
                documents: b.documents.clone(),
            })
            .collect())
    }

    /// The opening record, once the bids are opened.
    pub async fn opening_record(&self, caller: &Caller, id: &str) -> Result<Value> {
        let (_, t) = self.readable(caller, id).await?;
        let record = t
            .opening
            .as_deref()
            .ok_or_else(|| AppError::not_now("not_opened", "the bids have not been opened"))?;
        Ok(json!(record))
    }

    /// The evaluation report, once it is final and visible to the caller.
    pub async fn report(&self, caller: &Caller, id: &str) -> Result<Value> {
        let (wf, t) = self.readable(caller, id).await?;
        let view = tenderflow_core::view(&wf, &t, &caller.actor);
        match view.get("report") {
            Some(r) if !r.is_null() => Ok(r.clone()),
            _ => Err(AppError::not_now(
                "not_final",
                "the evaluation report is not final or not yet visible to you",
            )),
        }
    }
}
