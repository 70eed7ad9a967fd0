//! The dispatcher: claims due outbox rows, renders and sends them, and records the outcome.

use crate::NotifyError;
use crate::render::{Renderer, context};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tenderflow_core::definition::MessageKind;
use tenderflow_core::present::Names;
use tenderflow_store::{Account, AccountMail, Mail, OutboxRow, RecipientKind, Store};

/// Where messages go.
#[derive(Debug, Clone)]
pub enum Transport {
    /// `.eml` files in a directory (the embedded default).
    File(AsyncFileTransport<Tokio1Executor>),
    /// An SMTP server, through a connection pool.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// An SMTP server, one connection per message (the baseline the pool is measured
    /// against; also for relays that drop idle connections).
    SmtpPerMessage(String, Duration),
}

impl Transport {
    /// `.eml` files in `dir` (created if missing).
    pub fn file(dir: impl Into<PathBuf>) -> Result<Self, NotifyError> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)
            .map_err(|e| NotifyError::Transport(format!("{}: {e}", dir.display())))?;
        Ok(Self::File(AsyncFileTransport::<Tokio1Executor>::new(&dir)))
    }

    /// An SMTP server from a URL: `smtp://user:pass@host:587?tls=required`,
    /// `smtps://host:465`, or `smtp://127.0.0.1:2525` (plain, for a local relay).
    pub fn smtp(url: &str, pool_size: u32, timeout: Duration) -> Result<Self, NotifyError> {
        let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| NotifyError::Transport(format!("{url}: {e}")))?
            .timeout(Some(timeout))
            .pool_config(PoolConfig::new().max_size(pool_size.max(1)))
            .build();
        Ok(Self::Smtp(t))
    }

    /// An SMTP server with a new connection for every message.
    pub fn smtp_per_message(url: &str, timeout: Duration) -> Result<Self, NotifyError> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| NotifyError::Transport(format!("{url}: {e}")))?;
        Ok(Self::SmtpPerMessage(url.to_owned(), timeout))
    }

    async fn send(&self, msg: Message) -> Result<(), Failure> {
        match self {
            Self::SmtpPerMessage(url, timeout) => {
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| Failure::Permanent(e.to_string()))?
                    .timeout(Some(*timeout))
                    .build();
                t.send(msg).await.map(|_| ()).map_err(classify)
            }
            Self::File(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| Failure::Transient(e.to_string())),
            Self::Smtp(t) => t.send(msg).await.map(|_| ()).map_err(classify),
        }
    }
}

/// 5xx replies are permanent; 4xx replies, refused connections and timeouts are not.
fn classify(e: lettre::transport::smtp::Error) -> Failure {
    if e.is_permanent() {
        Failure::Permanent(e.to_string())
    } else {
        Failure::Transient(e.to_string())
    }
}

enum Failure {
    Transient(String),
    Permanent(String),
}

/// Backoff for transient failures: `base × 2^(attempts-1)`, capped, ±20 % jitter.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// First delay.
    pub base: Duration,
    /// Longest delay.
    pub max: Duration,
    /// Attempts before a transient failure becomes a dead letter.
    pub max_attempts: i32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max: Duration::from_secs(600),
            max_attempts: 50,
        }
    }
}

impl RetryPolicy {
    fn delay_ms(&self, attempts: i32) -> i64 {
        let exp = (attempts.max(1) - 1).min(20) as u32;
        let raw = self
            .base
            .as_millis()
            .saturating_mul(1u128 << exp)
            .min(self.max.as_millis()) as i64;
        let mut b = [0u8; 2];
        let jitter = if getrandom::getrandom(&mut b).is_ok() {
            i64::from(u16::from_le_bytes(b))
        } else {
            32_768
        };
        // ±20 %: spreads retries of many messages after an outage.
        raw + raw * (jitter - 32_768) / 163_840
    }
}

/// What one dispatch round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Delivered.
    pub sent: usize,
    /// Failed transiently; scheduled again.
    pub retried: usize,
    /// Failed permanently; now dead letters.
    pub dead: usize,
    /// Sent after this worker's claim had expired (another worker may have sent them too).
    pub lost: usize,
}

/// Delivers the outbox.
#[derive(Debug)]
pub struct Dispatcher {
    store: Arc<Store>,
    renderer: Renderer,
    transport: Transport,
    from: Mailbox,
    domain: String,
    /// This installation's id, in every Message-ID.
    installation: String,
    /// Where people read the pages, for links to a tender's notice.
    public_url: Option<String>,
    worker: String,
    retry: RetryPolicy,
    concurrency: usize,
    lease: Duration,
    /// How long `run` waits between rounds.
    poll: Duration,
}

impl Dispatcher {
    /// A dispatcher sending as `from` (e.g. `招募工作组 <recruitment@union.example>`).
    pub fn new(
        store: Arc<Store>,
        transport: Transport,
        from: &str,
        worker: &str,
    ) -> Result<Self, NotifyError> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| NotifyError::Message(format!("from address `{from}`: {e}")))?;
        let domain = from.email.domain().to_owned();
        let installation = store.installation_id();
        Ok(Self {
            installation,
            public_url: None,
            store,
            renderer: Renderer::new(),
            transport,
            from,
            domain,
            worker: worker.to_owned(),
            retry: RetryPolicy::default(),
            concurrency: 32,
            lease: Duration::from_secs(120),
            poll: Duration::from_millis(250),
        })
    }

    /// Uses `renderer` (e.g. [`Renderer::with_overrides`]) instead of the shipped templates.
    pub fn with_renderer(mut self, renderer: Renderer) -> Self {
        self.renderer = renderer;
        self
    }

    /// Links every message to its tender's notice at `url` (`{url}/notices/{tender}`).
    pub fn with_public_url(mut self, url: Option<&str>) -> Self {
        self.public_url = url.map(|u| u.trim_end_matches('/').to_owned());
        self
    }

    /// Where links in mail point: the public URL, or the default listen address.
    fn base_url(&self) -> &str {
        self.public_url
            .as_deref()
            .unwrap_or("http://127.0.0.1:8080")
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Sets how many messages are sent at once.
    pub fn with_concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Sets how long `run` waits between rounds.
    pub fn with_poll(mut self, poll: Duration) -> Self {
        self.poll = poll.max(Duration::from_millis(10));
        self
    }

    /// Sets how long a claim on a message lasts before another worker may take it over. The
    /// dispatcher renews its claims while it sends, so a slow relay never makes a message
    /// look abandoned.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(30));
        self
    }

    /// The Message-ID of an outbox row: stable across retries.
    pub fn message_id(&self, outbox_id: i64) -> String {
        format!(
            "<tenderflow-{}-outbox-{outbox_id}@{}>",
            self.installation, self.domain
        )
    }

    /// The id every message about `tender_id` refers to (`References`, `In-Reply-To`), so
    /// that mail clients thread a tender's messages together.
    pub fn thread_id(&self, tender_id: &str) -> String {
        format!(
            "<tenderflow-{}-tender-{tender_id}@{}>",
            self.installation, self.domain
        )
    }

    /// Builds the message of one outbox row from the data it was queued with and the
    /// recipient's account (its name, address and language now).
    async fn build(&self, row: &OutboxRow, names: &Arc<Names>) -> Result<Message, NotifyError> {
        let account = match row.recipient_kind {
            RecipientKind::Account => {
                self.store
                    .account(&row.recipient_id)
                    .await?
                    .ok_or_else(|| {
                        NotifyError::Message(format!("no account `{}`", row.recipient_id))
                    })?
            }
            // A notice-board subscriber: the address, in the language it subscribed in.
            RecipientKind::Email => Account {
                id: row.recipient_id.clone(),
                role: "subscriber".to_owned(),
                display_name: row.recipient_id.clone(),
                email: Some(row.recipient_id.clone()),
                locale: row.data["locale"].as_str().unwrap_or("zh-CN").to_owned(),
            },
        };
        let email = account.email.clone().ok_or_else(|| {
            NotifyError::Message(format!("account `{}` has no email address", account.id))
        })?;
        // A subscriber is only an address: no name before it.
        let name = (account.display_name != email).then(|| account.display_name.clone());
        let to = Mailbox::new(
            name,
            email
                .parse()
                .map_err(|e| NotifyError::Message(format!("`{email}`: {e}")))?,
        );
        let reply_to = row.data["reply_to"]["email"].as_str().and_then(|email| {
            let name = row.data["reply_to"]["name"].as_str().map(str::to_owned);
            email.parse().ok().map(|addr| Mailbox::new(name, addr))
        });
        let mut ctx = context(&row.data, &account);
        if let Mail::Account(kind) = row.message {
            let secret = self
                .store
                .mail_secret(row)
                .map_err(|e| {
                    NotifyError::Message(format!("the link of outbox row {}: {e}", row.id))
                })?
                .ok_or_else(|| {
                    NotifyError::Message(format!("outbox row {} has no link", row.id))
                })?;
            let path = match kind {
                AccountMail::VerifyEmail => "verify",
                AccountMail::PasswordReset | AccountMail::RegistrationAttempt => "reset",
                AccountMail::ConfirmSubscription => "subscribe",
            };
            ctx["link"] = format!("{}/{path}/{secret}", self.base_url()).into();
            if let Some(obj) = ctx.as_object_mut() {
                obj.remove("secret");
            }
        } else if let Some(base) = &self.public_url {
            ctx["tender"]["url"] = format!("{base}/notices/{}", row.tender_id).into();
            if row.message == Mail::Tender(MessageKind::CommitteeAppointment) {
                ctx["desk_url"] = format!("{base}/desk/tenders/{}", row.tender_id).into();
            }
        }
        let mut unsubscribe = None;
        if row.recipient_kind == RecipientKind::Email
            && row.message != Mail::Account(AccountMail::ConfirmSubscription)
        {
            let url = format!(
                "{}/unsubscribe?email={}&token={}",
                self.base_url(),
                percent_encode(&row.recipient_id),
                self.store.unsubscribe_token(&row.recipient_id)
            );
            ctx["unsubscribe_url"] = url.clone().into();
            unsubscribe = Some(url);
        }
        let rendered = self
            .renderer
            .render_named(row.message, &account.locale, &ctx, names)?;
        let mut builder = Message::builder().from(self.from.clone());
        if let Some(r) = reply_to {
            builder = builder.reply_to(r);
        }
        // A tender's messages form one thread in the recipient's mail client.
        if matches!(row.message, Mail::Tender(_)) {
            let thread = self.thread_id(&row.tender_id);
            builder = builder.in_reply_to(thread.clone()).references(thread);
        }
        // Subscription mail says how to leave (RFC 2369; one click, RFC 8058).
        if let Some(url) = unsubscribe {
            builder = builder
                .header(ListUnsubscribe(format!("<{url}>")))
                .header(ListUnsubscribePost);
        }
        builder
            .to(to)
            .subject(rendered.subject)
            .message_id(Some(self.message_id(row.id)))
            // Machine mail: no out-of-office replies to it (RFC 3834), and its language.
            .header(AutoSubmitted)
            .header(ContentLanguage(account.locale.clone()))
            .multipart(MultiPart::alternative_plain_html(
                rendered.text,
                rendered.html,
            ))
            .map_err(|e| NotifyError::Message(e.to_string()))
    }

    /// Claims and delivers the messages due at `now_ms`; returns what happened.
    ///
    /// Exactly-once as far as a lease can make it: a round claims no more than it sends at
    /// once (`2 × concurrency`), renews the claims of unsent messages every second (or third
    /// of the lease) while it sends, and marks messages sent in small groups as they go
    /// (every 16 sends or every tick). Another worker can take a message over only when this one has
    /// stopped renewing (it died); the remaining duplicate window is a message that the relay
    /// accepted but whose "sent" mark had not committed when this process died. A mark that
    /// updates nothing (the claim was lost) is logged as an error and counted in
    /// [`Stats::lost`].
    pub async fn dispatch_due(&self, now_ms: i64) -> Result<Stats, NotifyError> {
        use futures_util::stream::{self, StreamExt};
        let mut stats = Stats::default();
        let lease_ms = self.lease.as_millis() as i64;
        let limit = (self.concurrency * 2) as i64;
        let rows = self
            .store
            .claim_outbox(now_ms, &self.worker, lease_ms, limit)
            .await?;
        if rows.is_empty() {
            return Ok(stats);
        }
        let started = std::time::Instant::now();
        let clock = || now_ms + started.elapsed().as_millis() as i64;
        // Messages are built first (database reads), then sent (no database): bookkeeping can
        // then wait on the database while sends are in flight without deadlocking a
        // single-connection SQLite pool.
        // The parties' registered names, read once for the batch: mail names people, not ids.
        let names: Arc<Names> = Arc::new(
            self.store
                .accounts()
                .await?
                .into_iter()
                .map(|a| (a.id, a.display_name))
                .collect(),
        );
        let mut built = Vec::with_capacity(rows.len());
        for row in &rows {
            let msg = match self.build(row, &names).await {
                Ok(m) => Ok(m),
                Err(NotifyError::Store(e)) => Err(Failure::Transient(e.to_string())),
                // A message that cannot be built will not build next time either.
                Err(e) => Err(Failure::Permanent(e.to_string())),
            };
            built.push((row, msg));
        }
        // Boxed so the stream is `Send` inside spawned tasks (a closure-built stream of
        // borrowing futures trips the compiler's higher-ranked lifetime inference).
        let sends: Vec<Sending<'_>> = built
            .into_iter()
            .map(|(row, msg)| {
                Box::pin(async move {
                    let result = match msg {
                        Ok(m) => self.transport.send(m).await,
                        Err(f) => Err(f),
                    };
                    (row, result)
                }) as _
            })
            .collect();
        let mut outcomes = stream::iter(sends).buffer_unordered(self.concurrency);
        let mut in_flight: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.id).collect();
        let mut sent: Vec<i64> = Vec::new();
        // Renew the claims and mark what was sent at least every second (or a third of the
        // lease, if shorter): a process that dies mid-round leaves at most 16 messages or
        // one second of sends unmarked (the duplicate window).
        let mut tick = tokio::time::interval((self.lease / 3).min(Duration::from_secs(1)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tokio::select! {
                next = outcomes.next() => {
                    let Some((row, result)) = next else { break };
                    in_flight.remove(&row.id);
                    match result {
                        Ok(()) => {
                            sent.push(row.id);
                            stats.sent += 1;
                            if sent.len() >= 16 {
                                stats.lost += self.flush_sent(&mut sent).await?;
                            }
                        }
                        Err(Failure::Transient(e)) if row.attempts < self.retry.max_attempts => {
                            tracing::warn!(outbox = row.id, attempt = row.attempts, error = %e, "delivery failed; will retry");
                            self.store
                                .mark_retry(row.id, &self.worker, clock() + self.retry.delay_ms(row.attempts), &e)
                                .await?;
                            stats.retried += 1;
                        }
                        Err(Failure::Transient(e) | Failure::Permanent(e)) => {
                            tracing::error!(outbox = row.id, error = %e, "delivery failed permanently; dead letter");
                            self.store.mark_dead(row.id, &self.worker, &e).await?;
                            stats.dead += 1;
                        }
                    }
                }
                _ = tick.tick() => {
                    stats.lost += self.flush_sent(&mut sent).await?;
                    let ids: Vec<i64> = in_flight.iter().copied().collect();
                    let kept = self.store.renew_outbox(&ids, &self.worker, clock() + lease_ms).await?;
                    if kept < ids.len() {
                        tracing::error!(lost = ids.len() - kept, "outbox claims expired while sending; another worker may send those messages too");
                    }
                }
            }
        }
        stats.lost += self.flush_sent(&mut sent).await?;
        Ok(stats)
    }

    /// Marks the messages sent so far; returns how many of them were no longer ours.
    async fn flush_sent(&self, sent: &mut Vec<i64>) -> Result<usize, NotifyError> {
        if sent.is_empty() {
            return Ok(0);
        }
        let marked = self.store.mark_sent_many(sent, &self.worker).await?;
        let lost = sent.len() - marked.min(sent.len());
        if lost > 0 {
            tracing::error!(lost, ids = ?sent, "marked sent after the claim was lost: another worker may have sent these too");
        }
        sent.clear();
        Ok(lost)
    }

    /// Runs until `shutdown` resolves: delivers what is due, then waits a little. Leases and
    /// retries are real time (`tenderflow_store::clock::wall_ms`), whatever the procedure's clock.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            match self.dispatch_due(tenderflow_store::clock::wall_ms()).await {
                Ok(s) if s.sent + s.retried + s.dead > 0 => tracing::info!(
                    sent = s.sent,
                    retried = s.retried,
                    dead = s.dead,
                    "outbox dispatched"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "outbox dispatch failed"),
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }
}

/// A send in flight, boxed (see `dispatch_due`).
type Sending<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = (&'a OutboxRow, Result<(), Failure>)> + Send + 'a>,
>;

/// `Auto-Submitted: auto-generated` (RFC 3834).
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl lettre::message::header::Header for AutoSubmitted {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `List-Unsubscribe` (RFC 2369): where a subscriber leaves.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl lettre::message::header::Header for ListUnsubscribe {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post` (RFC 8058): the address above ends the subscription on a POST
/// of `List-Unsubscribe=One-Click`, without a page.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl lettre::message::header::Header for ListUnsubscribePost {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(
            Self::name(),
            "List-Unsubscribe=One-Click".to_owned(),
        )
    }
}

/// `Content-Language`: the recipient's language the message is written in.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl lettre::message::header::Header for ContentLanguage {
    fn name() -> lettre::message::header::HeaderName {
        lettre::message::header::HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> lettre::message::header::HeaderValue {
        lettre::message::header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `text` with everything but letters, digits and `.-_~` percent-encoded (a query value).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
