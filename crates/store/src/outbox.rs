//! The transactional outbox: messages are queued in the transaction of the events that cause
//! them, claimed by dispatchers under a lease, and marked sent, retried or dead.

use crate::clock::wall_ms;
use crate::sql::{Accounts, Order, Outbox, get, insert};
use crate::{Result, Store};
use sea_orm::Iden;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query, UpdateStatement};
use sea_orm::{
    ColIdx, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, FromQueryResult, QueryResult,
    TryGetError, TryGetable,
};
use serde::Serialize;
use std::collections::HashSet;
use tenderflow_core::definition::MessageKind;
use tenderflow_core::effects::Recipient;
use tenderflow_core::{Event, Tender, Workflow};

/// Where a message is in its life.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Waiting to be sent (or being sent under a claim).
    Pending,
    /// Accepted by the mail server.
    Sent,
    /// Refused for good; kept with the server's reply until resent by an administrator.
    Dead,
}

impl OutboxStatus {
    /// Every status.
    pub const ALL: [Self; 3] = [Self::Pending, Self::Sent, Self::Dead];

    /// The status as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Dead => "dead",
        }
    }
}

impl std::fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not one of pending, sent, dead"))
    }
}

impl From<OutboxStatus> for sea_orm::Value {
    fn from(s: OutboxStatus) -> Self {
        s.as_str().into()
    }
}

impl TryGetable for OutboxStatus {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let text = String::try_get_by(res, index)?;
        text.parse()
            .map_err(|e: String| TryGetError::DbErr(DbErr::Type(e)))
    }
}

/// A message waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboxRow {
    /// Row id (stable: the Message-ID derives from it).
    pub id: i64,
    /// Tender.
    pub tender_id: String,
    /// The event that caused it.
    pub event_seq: i64,
    /// Message kind.
    #[schema(value_type = String)]
    pub message: MessageKind,
    /// Recipient account id.
    pub recipient_id: String,
    /// Where it is.
    pub status: OutboxStatus,
    /// Delivery attempts so far.
    pub attempts: i32,
    /// The last error (the server's reply for dead letters).
    pub last_error: Option<String>,
    /// What the message says, fixed when it was queued (`core::messages::message_data`).
    #[serde(skip)]
    #[schema(ignore)]
    pub data: serde_json::Value,
}

impl FromQueryResult for OutboxRow {
    fn from_query_result(res: &QueryResult, pre: &str) -> std::result::Result<Self, DbErr> {
        let col = |c: Outbox| c.unquoted().to_owned();
        let text: String = res.try_get(pre, &col(Outbox::Message))?;
        let data: String = res.try_get(pre, &col(Outbox::Data))?;
        let message = MessageKind::parse(&text)
            .ok_or_else(|| DbErr::Type(format!("unknown message kind `{text}` in the outbox")))?;
        Ok(Self {
            id: res.try_get(pre, &col(Outbox::Id))?,
            tender_id: res.try_get(pre, &col(Outbox::TenderId))?,
            event_seq: res.try_get(pre, &col(Outbox::EventSeq))?,
            message,
            recipient_id: res.try_get(pre, &col(Outbox::RecipientId))?,
            status: res.try_get(pre, &col(Outbox::Status))?,
            attempts: res.try_get(pre, &col(Outbox::Attempts))?,
            last_error: res.try_get(pre, &col(Outbox::LastError))?,
            data: serde_json::from_str(&data)
                .map_err(|e| DbErr::Type(format!("outbox data is not JSON: {e}")))?,
        })
    }
}

/// The columns of an [`OutboxRow`].
const ROW: [Outbox; 9] = [
    Outbox::Id,
    Outbox::TenderId,
    Outbox::EventSeq,
    Outbox::Message,
    Outbox::RecipientId,
    Outbox::Status,
    Outbox::Attempts,
    Outbox::LastError,
    Outbox::Data,
];

impl Store {
    /// Queues the messages `events` cause (the tender is `after` them; the first of them is
    /// event `seq + 1`) inside `txn`: one per recipient, kind and event, however many
    /// audiences name them. Returns how many.
    pub(crate) async fn queue(
        &self,
        txn: &DatabaseTransaction,
        tender_id: &str,
        seq: i64,
        wf: &Workflow,
        after: &Tender,
        events: &[Event],
    ) -> Result<usize> {
        let mut queued = HashSet::new();
        let now = wall_ms();
        for note in tenderflow_core::notifications(wf, after, events) {
            let recipients: Vec<String> = match &note.recipient {
                Recipient::Actor(id) => vec![id.as_str().to_owned()],
                Recipient::Role(role) => {
                    let q = Query::select()
                        .column(Accounts::Id)
                        .from(Accounts::Table)
                        .and_where(Expr::col(Accounts::Role).eq(role.as_str()))
                        .order_by(Accounts::Id, Order::Asc)
                        .to_owned();
                    txn.query_all(&q)
                        .await?
                        .iter()
                        .map(|r| get::<String>(r, Accounts::Id))
                        .collect::<Result<_>>()?
                }
            };
            let Some(event) = events.get(note.event_index) else {
                continue;
            };
            for to in recipients {
                if !queued.insert((note.event_index, note.message, to.clone())) {
                    continue;
                }
                let data = tenderflow_core::messages::message_data(wf, after, event, &to);
                let row = insert(
                    Outbox::Table,
                    [
                        (Outbox::TenderId, tender_id.into()),
                        (Outbox::EventSeq, (seq + 1 + note.event_index as i64).into()),
                        (Outbox::Message, note.message.as_str().into()),
                        (Outbox::RecipientKind, "account".into()),
                        (Outbox::RecipientId, to.into()),
                        (Outbox::Status, OutboxStatus::Pending.into()),
                        (Outbox::Attempts, 0i32.into()),
                        (Outbox::NextAttemptMs, now.into()),
                        (Outbox::CreatedMs, now.into()),
                        (Outbox::Data, data.to_string().into()),
                    ],
                );
                txn.execute(&row).await?;
            }
        }
        Ok(queued.len())
    }

    /// Claims up to `limit` messages due for delivery.
    pub async fn claim_outbox(
        &self,
        now_ms: i64,
        worker: &str,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>> {
        let mut due = Query::select()
            .column(Outbox::Id)
            .from(Outbox::Table)
            .and_where(Expr::col(Outbox::Status).eq(OutboxStatus::Pending))
            .and_where(Expr::col(Outbox::NextAttemptMs).lte(now_ms))
            .and_where(
                Expr::col(Outbox::ClaimedUntilMs)
                    .is_null()
                    .or(Expr::col(Outbox::ClaimedUntilMs).lt(now_ms)),
            )
            .order_by(Outbox::Id, Order::Asc)
            .limit(Ord::max(limit, 0) as u64)
            .to_owned();
        if self.backend == DbBackend::Postgres {
            // Several processes may claim at once: each row goes to one of them.
            due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        let claim = Query::update()
            .table(Outbox::Table)
            .value(Outbox::ClaimedBy, worker)
            .value(Outbox::ClaimedUntilMs, now_ms + lease_ms)
            .value(Outbox::Attempts, Expr::col(Outbox::Attempts).add(1))
            .and_where(Expr::col(Outbox::Id).in_subquery(due))
            .returning(Query::returning().columns(ROW))
            .to_owned();
        let _gate = self.gate().await;
        let mut out: Vec<OutboxRow> = self.all(&self.db, &claim).await?;
        out.sort_by_key(|r| r.id);
        Ok(out)
    }

    /// Marks a claimed message sent; false when the claim was no longer `worker`'s.
    pub async fn mark_sent(&self, id: i64, worker: &str) -> Result<bool> {
        Ok(self.mark_sent_many(&[id], worker).await? == 1)
    }

    /// Marks many claimed messages sent in one statement (one commit); returns how many were
    /// still claimed by `worker` (the others' claims had expired and were taken over).
    pub async fn mark_sent_many(&self, ids: &[i64], worker: &str) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let q = Query::update()
            .table(Outbox::Table)
            .value(Outbox::Status, OutboxStatus::Sent)
            .value(Outbox::SentMs, wall_ms())
            .value(Outbox::LastError, Option::<String>::None)
            .and_where(Expr::col(Outbox::Id).is_in(ids.iter().copied()))
            .to_owned();
        self.update_claimed(q, worker).await
    }

    /// Extends `worker`'s claims on these messages to `until_ms`; returns how many it still
    /// held.
    pub async fn renew_outbox(&self, ids: &[i64], worker: &str, until_ms: i64) -> Result<usize> {
        if ids.is_empty() {
            return Ok(0);
        }
        let q = Query::update()
            .table(Outbox::Table)
            .value(Outbox::ClaimedUntilMs, until_ms)
            .and_where(Expr::col(Outbox::Id).is_in(ids.iter().copied()))
            .to_owned();
        self.update_claimed(q, worker).await
    }

    /// Schedules another attempt at `next_ms` after a transient failure.
    pub async fn mark_retry(
        &self,
        id: i64,
        worker: &str,
        next_ms: i64,
        error: &str,
    ) -> Result<usize> {
        let q = Query::update()
            .table(Outbox::Table)
            .value(Outbox::NextAttemptMs, next_ms)
            .value(Outbox::LastError, error)
            .and_where(Expr::col(Outbox::Id).eq(id))
            .to_owned();
        self.release_claimed(q, worker).await
    }

    /// Makes a message a dead letter after a permanent failure, keeping the server's reply.
    pub async fn mark_dead(&self, id: i64, worker: &str, error: &str) -> Result<usize> {
        let q = Query::update()
            .table(Outbox::Table)
            .value(Outbox::Status, OutboxStatus::Dead)
            .value(Outbox::LastError, error)
            .and_where(Expr::col(Outbox::Id).eq(id))
            .to_owned();
        self.release_claimed(q, worker).await
    }

    /// Runs `q` on the rows of it still claimed by `worker` and still pending.
    async fn update_claimed(&self, mut q: UpdateStatement, worker: &str) -> Result<usize> {
        q.and_where(Expr::col(Outbox::ClaimedBy).eq(worker))
            .and_where(Expr::col(Outbox::Status).eq(OutboxStatus::Pending));
        let _gate = self.gate().await;
        Ok(self.db.execute(&q).await?.rows_affected() as usize)
    }

    /// Runs `q` on the row if it is still claimed by `worker`, and gives the claim up.
    async fn release_claimed(&self, mut q: UpdateStatement, worker: &str) -> Result<usize> {
        q.value(Outbox::ClaimedBy, Option::<String>::None)
            .value(Outbox::ClaimedUntilMs, Option::<i64>::None)
            .and_where(Expr::col(Outbox::ClaimedBy).eq(worker));
        let _gate = self.gate().await;
        Ok(self.db.execute(&q).await?.rows_affected() as usize)
    }

    /// Puts a dead letter back in the queue.
    pub async fn resend(&self, id: i64) -> Result<bool> {
        let q = Query::update()
            .table(Outbox::Table)
            .value(Outbox::Status, OutboxStatus::Pending)
            .value(Outbox::NextAttemptMs, wall_ms())
            .value(Outbox::ClaimedBy, Option::<String>::None)
            .value(Outbox::ClaimedUntilMs, Option::<i64>::None)
            .and_where(Expr::col(Outbox::Id).eq(id))
            .and_where(Expr::col(Outbox::Status).eq(OutboxStatus::Dead))
            .to_owned();
        let _gate = self.gate().await;
        Ok(self.db.execute(&q).await?.rows_affected() == 1)
    }

    /// Outbox rows with a status, or all, by id.
    pub async fn outbox(&self, status: Option<OutboxStatus>) -> Result<Vec<OutboxRow>> {
        let mut q = Query::select()
            .columns(ROW)
            .from(Outbox::Table)
            .order_by(Outbox::Id, Order::Asc)
            .to_owned();
        if let Some(s) = status {
            q.and_where(Expr::col(Outbox::Status).eq(s));
        }
        self.all(&self.db, &q).await
    }
}
