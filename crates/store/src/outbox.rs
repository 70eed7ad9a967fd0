//! The transactional outbox: messages are queued in the transaction of the events that cause
//! them, claimed by dispatchers under a lease, and marked sent, retried or dead.

use crate::clock::wall_ms;
use crate::sql::{Accounts, Order, Outbox, Subscriptions, get};
use crate::{Result, Store, StoreError};
use sea_orm::Iden;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query, UpdateStatement};
use sea_orm::{
    ColIdx, ConnectionTrait, DbBackend, DbErr, FromQueryResult, QueryResult, TryGetError,
    TryGetable,
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

/// Messages about accounts rather than tenders (queued by the store's account use cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountMail {
    /// The link that verifies a self-registered organisation's address.
    VerifyEmail,
    /// The link that sets a new password.
    PasswordReset,
    /// The link that confirms a notice-board subscription.
    ConfirmSubscription,
    /// To an account's owner when someone registers with its address or registration
    /// number: it exists already, and a link to set a new password if it was them.
    RegistrationAttempt,
}

impl AccountMail {
    /// Every account message.
    pub const ALL: [Self; 4] = [
        Self::VerifyEmail,
        Self::PasswordReset,
        Self::ConfirmSubscription,
        Self::RegistrationAttempt,
    ];

    /// The template name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::PasswordReset => "password_reset",
            Self::ConfirmSubscription => "confirm_subscription",
            Self::RegistrationAttempt => "registration_attempt",
        }
    }
}

/// What an outbox row says: a tender's message (a definition's notification) or an account
/// message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum Mail {
    /// A tender's message.
    Tender(MessageKind),
    /// An account message.
    Account(AccountMail),
}

impl Mail {
    /// The template name (as stored).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tender(k) => k.as_str(),
            Self::Account(k) => k.as_str(),
        }
    }

    /// The kind stored as `text`.
    pub fn parse(text: &str) -> Option<Self> {
        MessageKind::parse(text).map(Self::Tender).or_else(|| {
            AccountMail::ALL
                .into_iter()
                .find(|k| k.as_str() == text)
                .map(Self::Account)
        })
    }
}

impl From<MessageKind> for Mail {
    fn from(k: MessageKind) -> Self {
        Self::Tender(k)
    }
}

impl From<AccountMail> for Mail {
    fn from(k: AccountMail) -> Self {
        Self::Account(k)
    }
}

impl std::fmt::Display for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecipientKind {
    /// An account (the row's recipient id is the account id).
    Account,
    /// A notice-board subscriber (the recipient id is the address).
    Email,
}

impl RecipientKind {
    /// As stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Account => "account",
            Self::Email => "email",
        }
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
    /// Message kind (the template's name).
    #[schema(value_type = String)]
    pub message: Mail,
    /// Whether the recipient is an account or a subscribed address.
    pub recipient_kind: RecipientKind,
    /// Recipient account id (or address, for subscribers).
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
        let message = Mail::parse(&text)
            .ok_or_else(|| DbErr::Type(format!("unknown message kind `{text}` in the outbox")))?;
        let kind: String = res.try_get(pre, &col(Outbox::RecipientKind))?;
        let recipient_kind = match kind.as_str() {
            "email" => RecipientKind::Email,
            _ => RecipientKind::Account,
        };
        Ok(Self {
            id: res.try_get(pre, &col(Outbox::Id))?,
            tender_id: res.try_get(pre, &col(Outbox::TenderId))?,
            event_seq: res.try_get(pre, &col(Outbox::EventSeq))?,
            message,
            recipient_kind,
            recipient_id: res.try_get(pre, &col(Outbox::RecipientId))?,
            status: res.try_get(pre, &col(Outbox::Status))?,
            attempts: res.try_get(pre, &col(Outbox::Attempts))?,
            last_error: res.try_get(pre, &col(Outbox::LastError))?,
            data: serde_json::from_str(&data)
                .map_err(|e| DbErr::Type(format!("outbox data is not JSON: {e}")))?,
        })
    }
}

/// The columns a queued message is written with: a tender message's or an account mail's.
pub(crate) const NEW_ROW: [Outbox; 10] = [
    Outbox::TenderId,
    Outbox::EventSeq,
    Outbox::Message,
    Outbox::RecipientKind,
    Outbox::RecipientId,
    Outbox::Status,
    Outbox::Attempts,
    Outbox::NextAttemptMs,
    Outbox::CreatedMs,
    Outbox::Data,
];

/// The columns of an [`OutboxRow`].
const ROW: [Outbox; 10] = [
    Outbox::Id,
    Outbox::TenderId,
    Outbox::EventSeq,
    Outbox::Message,
    Outbox::RecipientKind,
    Outbox::RecipientId,
    Outbox::Status,
    Outbox::Attempts,
    Outbox::LastError,
    Outbox::Data,
];

impl Store {
    /// The outbox rows of the messages `events` cause (the tender is `after` them; the first
    /// of them is event `seq + 1`), recipients read inside `txn`: one per recipient, kind and
    /// event, however many audiences name them. The rows join the batch's writes
    /// ([`crate::writes::Writes::outbox`]), in [`NEW_ROW`] order.
    pub(crate) async fn queue<C: ConnectionTrait>(
        &self,
        txn: &C,
        tender_id: &str,
        seq: i64,
        wf: &Workflow,
        after: &Tender,
        events: &[Event],
    ) -> Result<Vec<Vec<sea_orm::Value>>> {
        let mut queued = HashSet::new();
        let mut rows: Vec<Vec<sea_orm::Value>> = Vec::new();
        let now = wall_ms();
        // Who is told is the core's decision (`Recipient`); here a role or the subscribers
        // only become addresses.
        for note in tenderflow_core::notifications(wf, after, events) {
            let mut locales = std::collections::HashMap::<String, String>::new();
            let mut recipients: Vec<(RecipientKind, String)> = Vec::new();
            match &note.recipient {
                Recipient::Actor(id) => {
                    recipients.push((RecipientKind::Account, id.as_str().to_owned()));
                }
                Recipient::Role(role) | Recipient::RoleOptedIn(role) => {
                    let mut q = Query::select()
                        .column(Accounts::Id)
                        .from(Accounts::Table)
                        .and_where(Expr::col(Accounts::Role).eq(role.as_str()))
                        .and_where(Expr::col(Accounts::DisabledMs).is_null())
                        .order_by(Accounts::Id, Order::Asc)
                        .to_owned();
                    if matches!(note.recipient, Recipient::RoleOptedIn(_)) {
                        q.and_where(Expr::col(Accounts::Announcements).eq(true));
                    }
                    for r in txn.query_all(&q).await? {
                        recipients.push((RecipientKind::Account, get(&r, Accounts::Id)?));
                    }
                }
                Recipient::Subscribers => {
                    let q = Query::select()
                        .columns([Subscriptions::Email, Subscriptions::Locale])
                        .from(Subscriptions::Table)
                        .and_where(Expr::col(Subscriptions::ConfirmedMs).is_not_null())
                        .order_by(Subscriptions::Email, Order::Asc)
                        .to_owned();
                    for r in txn.query_all(&q).await? {
                        let email: String = get(&r, Subscriptions::Email)?;
                        locales.insert(email.clone(), get(&r, Subscriptions::Locale)?);
                        recipients.push((RecipientKind::Email, email));
                    }
                }
            }
            let Some(event) = events.get(note.event_index) else {
                continue;
            };
            for (kind, to) in recipients {
                if !queued.insert((note.event_index, note.message, to.clone())) {
                    continue;
                }
                let mut data = tenderflow_core::messages::message_data(wf, after, event, &to);
                if let Some(locale) = locales.get(&to) {
                    data["locale"] = locale.as_str().into();
                }
                rows.push(vec![
                    tender_id.into(),
                    (seq + 1 + note.event_index as i64).into(),
                    note.message.as_str().into(),
                    kind.as_str().into(),
                    to.into(),
                    OutboxStatus::Pending.into(),
                    0i32.into(),
                    now.into(),
                    now.into(),
                    data.to_string().into(),
                ]);
            }
        }
        Ok(rows)
    }

    /// Queues an account message inside `txn` (the store's account use cases: verification,
    /// password reset, subscription confirmation). The one-use link token travels sealed
    /// with the installation's key (`secret`), so that a reader of the outbox cannot use it.
    pub(crate) async fn queue_account_mail<C: ConnectionTrait>(
        &self,
        conn: &C,
        kind: AccountMail,
        to: (RecipientKind, &str),
        mut data: serde_json::Value,
        secret: &str,
    ) -> Result<()> {
        let now = wall_ms();
        data["secret"] = crate::crypto::seal_with(
            &self.master.derive("outbox-secret"),
            format!("{}:{}", kind.as_str(), to.1).as_bytes(),
            secret.as_bytes(),
        )?
        .into();
        let row = crate::sql::insert_rows(
            Outbox::Table,
            NEW_ROW,
            [vec![
                "".into(),
                0i64.into(),
                kind.as_str().into(),
                to.0.as_str().into(),
                to.1.into(),
                OutboxStatus::Pending.into(),
                0i32.into(),
                now.into(),
                now.into(),
                data.to_string().into(),
            ]],
        );
        conn.execute(&row).await?;
        Ok(())
    }

    /// The one-use token an account message carries (see `queue_account_mail`), opened for
    /// the dispatcher; `None` for other messages.
    pub fn mail_secret(&self, row: &OutboxRow) -> Result<Option<String>> {
        let Some(sealed) = row.data["secret"].as_str() else {
            return Ok(None);
        };
        let plain = crate::crypto::open_with(
            &self.master.derive("outbox-secret"),
            format!("{}:{}", row.message.as_str(), row.recipient_id).as_bytes(),
            sealed,
        )?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|e| StoreError::Corrupt {
                what: format!("outbox row {}: its link token is not text", row.id),
                source: Some(Box::new(e)),
            })
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
    /// How many messages are in `status`, counted by the database (a scrape reads no rows).
    pub async fn outbox_count(&self, status: OutboxStatus) -> Result<u64> {
        let q = Query::select()
            .expr(Expr::col(Outbox::Id).count())
            .from(Outbox::Table)
            .and_where(Expr::col(Outbox::Status).eq(status))
            .to_owned();
        self.count(&self.db, &q).await
    }

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
