//! Reads: a tender's projection row (locked for a write on PostgreSQL), its event rows, and
//! its state, from the cache when it is the committed head or else replayed from verified
//! rows.

use crate::chain::{self, EventRow};
use crate::sql::{Events, Order, Tenders};
use crate::{Result, Store, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, LockType, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};
use serde::Serialize;
use std::sync::Arc;
use tenderflow_core::{Event, Tender, Workflow};

/// A tender's projection row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
#[serde(rename_all = "camelCase")]
pub struct TenderRow {
    /// Tender id.
    pub tender_id: String,
    /// The workflow version it pins.
    pub workflow_sha256: String,
    /// Current state.
    pub state: String,
    /// Events so far.
    pub seq: i64,
    /// Hash of the last event.
    pub last_hash: String,
    /// Bid deadline, ms.
    pub deadline_ms: Option<i64>,
}

/// The columns of a [`TenderRow`].
fn select_tenders() -> SelectStatement {
    Query::select()
        .columns([
            Tenders::TenderId,
            Tenders::WorkflowSha256,
            Tenders::State,
            Tenders::Seq,
            Tenders::LastHash,
            Tenders::DeadlineMs,
        ])
        .from(Tenders::Table)
        .to_owned()
}

impl Store {
    /// The tender's row, locked for this transaction on PostgreSQL so that concurrent
    /// writers of one tender queue instead of failing and retrying. (SQLite's IMMEDIATE
    /// transactions already serialise writers.)
    pub(crate) async fn lock_tender<C: ConnectionTrait>(
        &self,
        txn: &C,
        tender_id: &str,
    ) -> Result<Option<TenderRow>> {
        let mut q = select_tenders();
        q.and_where(Expr::col(Tenders::TenderId).eq(tender_id));
        if self.backend == DbBackend::Postgres {
            q.lock(LockType::Update);
        }
        self.one(txn, &q).await
    }

    pub(crate) async fn tender_row_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        tender_id: &str,
    ) -> Result<Option<TenderRow>> {
        let q = select_tenders()
            .and_where(Expr::col(Tenders::TenderId).eq(tender_id))
            .to_owned();
        self.one(conn, &q).await
    }

    pub(crate) async fn tender_row(&self, tender_id: &str) -> Result<Option<TenderRow>> {
        self.tender_row_in(&self.db, tender_id).await
    }

    /// The tender's row, or [`StoreError::NotFound`].
    pub(crate) async fn existing_tender(&self, tender_id: &str) -> Result<TenderRow> {
        self.tender_row(tender_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tender `{tender_id}`")))
    }

    /// The projection row of every tender.
    pub async fn tenders(&self) -> Result<Vec<TenderRow>> {
        let q = select_tenders()
            .order_by(Tenders::TenderId, Order::Asc)
            .to_owned();
        self.all(&self.db, &q).await
    }

    /// The tender's workflow and current state (replayed from its events, bids decrypted).
    pub async fn load(&self, tender_id: &str) -> Result<(Arc<Workflow>, Tender)> {
        let head = self.existing_tender(tender_id).await?;
        let wf = self.workflow(&head.workflow_sha256).await?;
        let t = self.state_on(&self.db, &head).await?;
        Ok((wf, t))
    }

    /// The state at head `h`: the kept one if it is that head; the kept one brought up to `h`
    /// by the events after it when it is an earlier head (another process wrote since: only
    /// those events are read, their chain checked from the kept hash to `h`); otherwise
    /// replayed whole from verified rows. What was read is kept for the next use (a later
    /// head kept meanwhile is not replaced).
    pub(crate) async fn state_on<C: ConnectionTrait>(
        &self,
        conn: &C,
        h: &TenderRow,
    ) -> Result<Tender> {
        let kept = {
            let mut cache = self.cache.lock().await;
            cache.get(&h.tender_id).cloned()
        };
        let t = match kept {
            Some(c) if c.seq == h.seq && c.hash == h.last_hash => return Ok(c.tender),
            Some(c) if c.seq < h.seq => match self.catch_up(conn, h, c).await? {
                Some(t) => t,
                None => self.replay_verified(conn, h).await?,
            },
            _ => self.replay_verified(conn, h).await?,
        };
        self.cache.lock().await.offer(
            h.tender_id.clone(),
            crate::cache::Cached {
                seq: h.seq,
                hash: h.last_hash.clone(),
                tender: t.clone(),
            },
        );
        Ok(t)
    }

    /// `kept` brought up to head `h` by the events after it, or `None` when they do not
    /// continue its chain to `h` (the whole replay then names the problem).
    async fn catch_up<C: ConnectionTrait>(
        &self,
        conn: &C,
        h: &TenderRow,
        kept: crate::cache::Cached,
    ) -> Result<Option<Tender>> {
        let rows = self
            .rows_in(conn, &h.tender_id, kept.seq + 1, i64::MAX)
            .await?;
        if !chain::continues(
            &rows,
            kept.seq,
            &kept.hash,
            h.seq,
            &h.last_hash,
            &self.chain_key,
        ) {
            return Ok(None);
        }
        let key = self.data_key_ro(conn, &h.tender_id).await?;
        let mut t = kept.tender;
        for row in &rows {
            match chain::decode(row, key.as_ref()) {
                Ok(e) => t = tenderflow_core::apply(t, &e),
                Err(_) => return Ok(None),
            }
        }
        if t.state != h.state
            || t.deadline.map(tenderflow_core::Timestamp::unix_millis) != h.deadline_ms
        {
            return Ok(None);
        }
        self.replays.caught_up(rows.len());
        Ok(Some(t))
    }

    /// Event rows `first..=last` of a tender, read through `conn`.
    pub(crate) async fn rows_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        tender_id: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<EventRow>> {
        let q = Query::select()
            .columns(crate::sql::EVENT_COLUMNS)
            .from(Events::Table)
            .and_where(Expr::col(Events::TenderId).eq(tender_id))
            .and_where(Expr::col(Events::Seq).gte(first))
            .and_where(Expr::col(Events::Seq).lte(last))
            .order_by(Events::Seq, Order::Asc)
            .to_owned();
        self.all(conn, &q).await
    }

    /// The stored rows of a tender's events (payloads as stored: bids sealed).
    pub async fn event_rows(&self, tender_id: &str) -> Result<Vec<EventRow>> {
        self.rows_in(&self.db, tender_id, 1, i64::MAX).await
    }

    /// The stored rows of events `first..=last` of a tender (payloads as stored).
    pub async fn event_rows_between(
        &self,
        tender_id: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<EventRow>> {
        self.rows_in(&self.db, tender_id, first, last).await
    }

    /// Events `first..=last` of a tender, decrypted.
    pub async fn events_between(
        &self,
        tender_id: &str,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, Event)>> {
        let key = self.data_key_ro(&self.db, tender_id).await?;
        let rows = self.rows_in(&self.db, tender_id, first, last).await?;
        rows.iter()
            .map(|r| Ok((r.seq, chain::decode(r, key.as_ref())?)))
            .collect()
    }
}
