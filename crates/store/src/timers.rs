//! Durable timers: at most one per tender (the deadline of its current state), replaced in
//! the transaction that changes the state, claimed by workers under a lease and fired as
//! commands whose id derives from the timer, so a timer fired twice appends once.

use crate::sql::{Order, Timers, get, insert};
use crate::{Action, Executed, Request, Result, Store, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LockBehavior, LockType, Query};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult};
use serde::Serialize;
use tenderflow_core::Timestamp;
use tenderflow_core::definition::TimerName;

/// A timer that fell due and was claimed by this worker.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DueTimer {
    /// Tender.
    pub tender_id: String,
    /// Timer kind.
    pub kind: String,
    /// Due time, ms.
    pub due_ms: i64,
    /// Failures so far (not business refusals).
    pub failures: i32,
}

/// A timer that failed to fire (see [`Store::fire_due_timers`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StuckTimer {
    /// Tender.
    pub tender_id: String,
    /// Timer kind.
    pub kind: String,
    /// Due time, ms.
    pub due_ms: i64,
    /// Consecutive failures.
    pub failures: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// Not retried before this time, ms.
    pub claimed_until_ms: Option<i64>,
}

impl Store {
    /// Replaces the tender's timer inside `txn` (none when `timer` is `None`).
    pub(crate) async fn replace_timer<C: ConnectionTrait>(
        &self,
        txn: &C,
        tender_id: &str,
        timer: Option<(TimerName, Timestamp)>,
    ) -> Result<()> {
        let delete = Query::delete()
            .from_table(Timers::Table)
            .and_where(Expr::col(Timers::TenderId).eq(tender_id))
            .to_owned();
        txn.execute(&delete).await?;
        if let Some((kind, due)) = timer {
            let row = insert(
                Timers::Table,
                [
                    (Timers::TenderId, tender_id.into()),
                    (Timers::Kind, kind.as_str().into()),
                    (Timers::DueMs, due.unix_millis().into()),
                ],
            );
            txn.execute(&row).await?;
        }
        Ok(())
    }

    /// Claims up to `limit` due timers for `worker` for `lease_ms`. With PostgreSQL several
    /// processes may call this at once: `FOR UPDATE SKIP LOCKED` hands each timer to one.
    pub async fn claim_due_timers(
        &self,
        now: Timestamp,
        worker: &str,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<DueTimer>> {
        let now_ms = now.unix_millis();
        let mut due = Query::select()
            .column(Timers::TenderId)
            .from(Timers::Table)
            .and_where(Expr::col(Timers::DueMs).lte(now_ms))
            .and_where(
                Expr::col(Timers::ClaimedUntilMs)
                    .is_null()
                    .or(Expr::col(Timers::ClaimedUntilMs).lt(now_ms)),
            )
            .order_by(Timers::DueMs, Order::Asc)
            .limit(Ord::max(limit, 0) as u64)
            .to_owned();
        if self.backend == DbBackend::Postgres {
            due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let claim = Query::update()
            .table(Timers::Table)
            .value(Timers::ClaimedBy, worker)
            .value(Timers::ClaimedUntilMs, now_ms + lease_ms)
            .and_where(Expr::col(Timers::TenderId).in_subquery(due))
            .returning(Query::returning().columns([
                Timers::TenderId,
                Timers::Kind,
                Timers::DueMs,
                Timers::Failures,
            ]))
            .to_owned();
        let _gate = self.gate().await;
        self.all(&self.db, &claim).await
    }

    /// Fires every due timer once: claims it and executes `advance_time` with a command id
    /// derived from the timer, so a timer fired by two workers still appends once.
    ///
    /// A timer that fails (a broken tender, a corrupt row, a database error on that tender)
    /// never stops the others: it is released with an exponential backoff, its failures and
    /// last error are recorded for administrators ([`Store::stuck_timers`]), an error is
    /// logged, and every other due timer still fires.
    pub async fn fire_due_timers(&self, now: Timestamp, worker: &str) -> Result<Vec<Executed>> {
        let mut fired = Vec::new();
        let lease = i64::try_from(self.tuning.timer_lease.as_millis()).unwrap_or(i64::MAX);
        let batch = i64::try_from(self.tuning.timer_batch).unwrap_or(i64::MAX);
        for t in self.claim_due_timers(now, worker, lease, batch).await? {
            let id = format!("timer:{}:{}:{}", t.tender_id, t.kind, t.due_ms);
            let request = Request::with(&t.tender_id, &id, Action::Timer, now);
            match self.execute_request(request).await {
                Ok(done) => fired.push(done),
                Err(StoreError::Rejected(r)) => {
                    // Halted, suspended or moved: release the claim so it is tried again later.
                    tracing::debug!(tender = %t.tender_id, code = %r.code, "timer not fired");
                    self.release_timer(&t, worker, now.unix_millis() + 1000, None)
                        .await?;
                }
                Err(e) => {
                    let failures = t.failures + 1;
                    let backoff_ms = Ord::min(1_000i64 << failures.clamp(0, 12), 3_600_000);
                    tracing::error!(
                        tender = %t.tender_id, timer = %t.kind, failures, error = %e,
                        "ALERT: a deadline could not fire; it is retried with backoff (see `tenderflow timers stuck`)"
                    );
                    self.release_timer(
                        &t,
                        worker,
                        now.unix_millis() + backoff_ms,
                        Some(&e.to_string()),
                    )
                    .await?;
                }
            }
        }
        Ok(fired)
    }

    /// Gives a claimed timer back, to be tried again at `retry_ms`; with an error, counts a
    /// failure.
    async fn release_timer(
        &self,
        t: &DueTimer,
        worker: &str,
        retry_ms: i64,
        error: Option<&str>,
    ) -> Result<()> {
        let mut q = Query::update()
            .table(Timers::Table)
            .value(Timers::ClaimedBy, Option::<String>::None)
            .value(Timers::ClaimedUntilMs, retry_ms)
            .and_where(Expr::col(Timers::TenderId).eq(t.tender_id.as_str()))
            .and_where(Expr::col(Timers::ClaimedBy).eq(worker))
            .to_owned();
        if let Some(err) = error {
            q.value(Timers::Failures, Expr::col(Timers::Failures).add(1))
                .value(Timers::LastError, err);
        }
        let _gate = self.gate().await;
        self.db.execute(&q).await?;
        Ok(())
    }

    /// The due time of the oldest timer due at `now` (fired or not yet), for the lag gauge.
    pub async fn oldest_due_timer(&self, now: Timestamp) -> Result<Option<i64>> {
        let q = Query::select()
            .expr_as(Func::min(Expr::col(Timers::DueMs)), Timers::DueMs)
            .from(Timers::Table)
            .and_where(Expr::col(Timers::DueMs).lte(now.unix_millis()))
            .to_owned();
        Ok(match self.db.query_one(&q).await? {
            Some(r) => get::<Option<i64>>(&r, Timers::DueMs)?,
            None => None,
        })
    }

    /// Timers that failed to fire at least once (not business refusals), most failures first:
    /// what administrators must look at.
    pub async fn stuck_timers(&self) -> Result<Vec<StuckTimer>> {
        let q = Query::select()
            .columns([
                Timers::TenderId,
                Timers::Kind,
                Timers::DueMs,
                Timers::Failures,
                Timers::LastError,
                Timers::ClaimedUntilMs,
            ])
            .from(Timers::Table)
            .and_where(Expr::col(Timers::Failures).gt(0))
            .order_by(Timers::Failures, Order::Desc)
            .order_by(Timers::TenderId, Order::Asc)
            .to_owned();
        self.all(&self.db, &q).await
    }
}
