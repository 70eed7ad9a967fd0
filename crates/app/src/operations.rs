//! Operations: the outbox, stuck timers, verification of the record, and the manual clock.

use crate::roles::{self, Role};
use crate::views::{Page, page_size};
use crate::{App, AppError, Caller, Result};
use serde::Serialize;
use tenderflow_core::Timestamp;
use tenderflow_store::{AuditReport, Executed, OutboxRow, OutboxStatus, PublishedHead, StuckTimer};

/// The result of verifying the record.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// Whether every tender verified.
    pub intact: bool,
    /// One report per tender.
    pub tenders: Vec<AuditReport>,
}

/// What moving the manual clock did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClockMoved {
    /// The clock's time now.
    pub now: Timestamp,
    /// Timers that fell due and fired.
    pub timers_fired: usize,
}

/// The stored documents, counted by state.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DocumentCensus {
    /// Referenced by events (checked with them).
    pub attached: u64,
    /// Uploaded and not used yet.
    pub stored: u64,
    /// Uploads cut off before their end (never acknowledged; removed after an hour).
    pub partial: u64,
    /// Stored bytes with no record.
    pub unrecorded: u64,
}

impl App {
    /// Outbox messages (with a status, or all), by id, a page at a time after `after`.
    pub async fn outbox(
        &self,
        caller: &Caller,
        status: Option<OutboxStatus>,
        after: Option<i64>,
        limit: Option<usize>,
    ) -> Result<Page<OutboxRow, i64>> {
        caller.require(&[Role::STAFF, Role::ADMIN])?;
        let limit = page_size(limit)?;
        let mut items: Vec<OutboxRow> = self
            .store
            .outbox(status)
            .await?
            .into_iter()
            .filter(|m| after.is_none_or(|a| m.id > a))
            .collect();
        let next = (items.len() > limit).then(|| items[limit - 1].id);
        items.truncate(limit);
        Ok(Page { items, next })
    }

    /// Puts a dead letter back in the queue.
    pub async fn resend(&self, caller: &Caller, id: i64) -> Result<()> {
        caller.require(&[Role::STAFF, Role::ADMIN])?;
        if self.store.resend(id).await? {
            Ok(())
        } else {
            Err(AppError::not_now(
                "not_dead",
                format!("message {id} is not a dead letter"),
            ))
        }
    }

    /// Timers that failed to fire.
    pub async fn stuck_timers(&self, caller: &Caller) -> Result<Vec<StuckTimer>> {
        caller.require(&[Role::INSPECTOR, Role::ADMIN])?;
        Ok(self.store.stuck_timers().await?)
    }

    /// Verifies every tender's record (or one).
    pub async fn verify(&self, caller: &Caller, tender: Option<&str>) -> Result<Verification> {
        caller.require(roles::OFFICIALS)?;
        if let Some(t) = tender {
            crate::views::check_id("tender", t)?;
        }
        let tenders = self.store.verify(tender).await?;
        let intact = tenders.iter().all(|r| r.problem.is_none());
        Ok(Verification { intact, tenders })
    }

    /// Verifies the tenders named in chain heads published earlier against them (an
    /// inspector's signed records, an OCDS export): a head the database no longer reaches is
    /// a problem.
    pub async fn verify_against(
        &self,
        caller: &Caller,
        heads: &[PublishedHead],
    ) -> Result<Verification> {
        caller.require(roles::OFFICIALS)?;
        let tenders = self.store.verify_against(heads).await?;
        let intact = tenders.iter().all(|r| r.problem.is_none());
        Ok(Verification { intact, tenders })
    }

    /// The stored documents by state: `attached` (referenced by events), `stored` (uploaded,
    /// not used yet), `partial` (cut off), `unrecorded` (bytes with no record).
    pub async fn document_census(&self, caller: &Caller) -> Result<DocumentCensus> {
        caller.require(&[Role::INSPECTOR, Role::ADMIN])?;
        let census = self.store.blob_census().await?;
        let count = |k: &str| census.get(k).copied().unwrap_or(0);
        Ok(DocumentCensus {
            attached: count("attached"),
            stored: count("stored"),
            partial: count("partial"),
            unrecorded: count("unrecorded"),
        })
    }

    /// Fires the timers due at the clock's time, as `worker`: what each did.
    pub async fn fire_due_timers(&self, worker: &str) -> Result<Vec<Executed>> {
        Ok(self
            .store
            .fire_due_timers(self.clock().now(), worker)
            .await?)
    }

    /// Moves the manual clock forward (admins; servers on a manual clock only) and fires the
    /// timers that passed with the jump, at the new time.
    pub async fn set_clock(&self, caller: &Caller, now: Timestamp) -> Result<ClockMoved> {
        caller.require(&[Role::ADMIN])?;
        let clock = self.manual_clock.as_ref().ok_or_else(|| {
            AppError::not_now("system_clock", "this server runs on the system clock")
        })?;
        let now = clock.set(now);
        let fired = self.store.fire_due_timers(now, "clock").await?;
        Ok(ClockMoved {
            now,
            timers_fired: fired.len(),
        })
    }
}
