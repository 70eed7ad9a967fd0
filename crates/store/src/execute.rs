//! Executing commands: decide against the tender's state, then append the events (chained
//! and, for bids, sealed), record the command id, update the projection, replace the timer and
//! queue the messages, all in one transaction. Several requests share a transaction (group
//! commit); a stale write is retried, and the write gate is never held while waiting.

use crate::cache::Cached;
use crate::chain::{self, EventRow};
use crate::clock::Now;
use crate::lazy::LazyTxn;
use crate::sql::{Commands, Tenders, get, insert};
use crate::writes::Writes;
use crate::{Action, Executed, Request, Result, Store, StoreError};
use sea_orm::ConnectionTrait;
#[cfg(any(test, feature = "testing"))]
use sea_orm::DatabaseTransaction;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use std::collections::HashMap;
use std::sync::Arc;
use tenderflow_core::definition::TimerName;
use tenderflow_core::{Actor, Command, Rejection, Tender, Timestamp, Workflow};

/// A tender touched by a batch, with the state the batch has built so far.
struct Pending {
    wf: Arc<Workflow>,
    tender: Tender,
    base_timer: Option<(TimerName, Timestamp)>,
    base_seq: i64,
    seq: i64,
    hash: String,
    created: bool,
    /// Decided on the state this process kept, without reading the row: another process
    /// may have moved the tender on since.
    from_cache: bool,
    /// The tender's data key as this transaction sees it; it enters the store's key cache
    /// only after the transaction commits.
    key: Option<[u8; 32]>,
}

impl Store {
    /// Creates tender `tender_id` for `actor` from a registered workflow (by SHA-256 or id).
    pub async fn create_tender(
        &self,
        workflow: &str,
        tender_id: &str,
        command_id: &str,
        actor: &Actor,
        now: impl Into<Now>,
    ) -> Result<Executed> {
        let wf = self.workflow_exact(workflow).await?;
        let action = Action::Create {
            workflow: wf.sha256().to_owned(),
            actor: actor.clone(),
        };
        self.execute_request(Request::with(tender_id, command_id, action, now))
            .await
    }

    /// Executes a command on an existing tender: decide, then append the events, update the
    /// projection, set the timer and queue the messages in one transaction. Retries a few
    /// times when another writer got there first, so an update is never lost.
    pub async fn execute(
        &self,
        tender_id: &str,
        command_id: &str,
        command: &Command,
        now: impl Into<Now>,
    ) -> Result<Executed> {
        self.execute_request(Request::new(tender_id, command_id, command.clone(), now))
            .await
    }

    /// Executes one request (a command with its id, time and fingerprint) in its own
    /// transaction.
    pub async fn execute_request(&self, request: Request) -> Result<Executed> {
        let tender_id = request.tender_id.clone();
        let mut results = self.execute_batch(std::slice::from_ref(&request)).await?;
        results
            .pop()
            .unwrap_or_else(|| Err(StoreError::NotFound(tender_id)))
    }

    /// Executes several commands in one transaction (group commit): each is decided against
    /// the state the ones before it left, a rejected one writes nothing, a repeated command
    /// id is answered with its first result, and none is acknowledged before the single
    /// commit. A conflict with another writer fails the whole batch, which is then retried;
    /// the write gate is never held while waiting to retry.
    pub async fn execute_batch(&self, requests: &[Request]) -> Result<Vec<Result<Executed>>> {
        // Load workflows before the transaction: SQLite has a single connection.
        for r in requests {
            if let Some(sha) = r.creates() {
                self.workflow(sha).await?;
            } else {
                self.preload_workflow(&r.tender_id).await?;
            }
        }
        let mut attempt = 0;
        loop {
            let result = {
                let _gate = self.gate().await;
                let _tenders = self
                    .lock_tenders(requests.iter().map(|r| r.tender_id.as_str()))
                    .await;
                // The first attempt looks up no command id: a repeated one collides with its
                // record's key when the batch is written, and the batch is tried again, this
                // time looking every id up (a read per command saved on the common path).
                self.try_batch(requests, attempt > 0).await
            };
            match result {
                Err(StoreError::Conflict { .. }) if attempt < 8 => {
                    attempt += 1;
                    // The retry reads every tender's row (the key that collided need not be
                    // the tender the conflict names); a kept state that proves older is
                    // caught up by the events after it, not replayed whole.
                    if attempt > 1 {
                        tokio::time::sleep(std::time::Duration::from_millis(
                            2 << Ord::min(attempt, 6),
                        ))
                        .await;
                    }
                }
                other => return other,
            }
        }
    }

    /// Caches the workflow a tender pins, so that the write transaction finds it in memory.
    async fn preload_workflow(&self, tender_id: &str) -> Result<()> {
        let known = self
            .tender_workflows
            .read()
            .ok()
            .and_then(|m| m.get(tender_id).cloned());
        let sha = match known {
            Some(sha) => Some(sha),
            None => self.tender_row(tender_id).await?.map(|h| h.workflow_sha256),
        };
        if let Some(sha) = sha {
            let wf = self.workflow(&sha).await?;
            if let Ok(mut m) = self.tender_workflows.write() {
                m.insert(tender_id.to_owned(), wf.sha256().to_owned());
            }
        }
        Ok(())
    }

    /// The first result of a command id already recorded (read inside `txn`), or
    /// [`StoreError::KeyReused`] when it was recorded for another request.
    async fn repeated_in(
        &self,
        txn: &LazyTxn<'_>,
        open: &HashMap<String, Pending>,
        r: &Request,
    ) -> Result<Option<Result<Executed>>> {
        let q = Query::select()
            .columns([
                Commands::TenderId,
                Commands::FirstSeq,
                Commands::LastSeq,
                Commands::Fingerprint,
            ])
            .from(Commands::Table)
            .and_where(Expr::col(Commands::CommandId).eq(r.command_id.as_str()))
            .to_owned();
        let Some(row) = txn.query_one(&q).await? else {
            return Ok(None);
        };
        let tender_id: String = get(&row, Commands::TenderId)?;
        let first: i64 = get(&row, Commands::FirstSeq)?;
        let last: i64 = get(&row, Commands::LastSeq)?;
        let fingerprint: Option<String> = get(&row, Commands::Fingerprint)?;
        if tender_id != r.tender_id || fingerprint != r.fingerprint {
            return Ok(Some(Err(StoreError::KeyReused {
                command_id: r.command_id.clone(),
            })));
        }
        let key = match open.get(&tender_id).and_then(|p| p.key) {
            Some(k) => Some(k),
            None => self.data_key_ro(txn, &tender_id).await?,
        };
        let events = self
            .rows_in(txn, &tender_id, first, last)
            .await?
            .iter()
            .map(|row| Ok((row.seq, chain::decode(row, key.as_ref())?)))
            .collect::<Result<Vec<_>>>()?;
        let state = match open.get(&tender_id) {
            Some(p) => p.tender.state.clone(),
            None => self
                .tender_row_in(txn, &tender_id)
                .await?
                .map(|t| t.state)
                .unwrap_or_default(),
        };
        Ok(Some(Ok(Executed {
            tender_id,
            events,
            repeated: true,
            state,
            queued_messages: 0,
        })))
    }

    async fn try_batch(
        &self,
        requests: &[Request],
        checked: bool,
    ) -> Result<Vec<Result<Executed>>> {
        #[cfg(test)]
        {
            use std::sync::atomic::Ordering;
            let forced = &self.forced_conflicts;
            if forced
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
            {
                let t = requests.first().map(|r| r.tender_id.clone());
                return Err(StoreError::Conflict {
                    tender_id: t.unwrap_or_default(),
                });
            }
        }
        let txn = LazyTxn::new(self);
        let mut open: HashMap<String, Pending> = HashMap::new();
        let mut writes = Writes::default();
        // What this batch has decided so far, by command id: a repeat inside the batch is
        // answered from here (its rows are not written yet, so no read would find them).
        let mut decided: HashMap<&str, (Option<&str>, usize)> = HashMap::new();
        let mut results: Vec<Result<Executed>> = Vec::with_capacity(requests.len());
        for r in requests {
            if let Some(&(fingerprint, at)) = decided.get(r.command_id.as_str()) {
                let first = results.get(at).and_then(|a| a.as_ref().ok());
                results.push(match first {
                    Some(e)
                        if e.tender_id == r.tender_id
                            && fingerprint == r.fingerprint.as_deref() =>
                    {
                        Ok(Executed {
                            repeated: true,
                            queued_messages: 0,
                            ..e.clone()
                        })
                    }
                    _ => Err(StoreError::KeyReused {
                        command_id: r.command_id.clone(),
                    }),
                });
                continue;
            }
            // A command id seen in an earlier transaction is answered with its first result;
            // it never fails the batch. Looked up first only when retrying (see
            // `execute_batch`); otherwise only before an answer that is not a success.
            if checked {
                if let Some(first) = self.repeated_in(&txn, &open, r).await? {
                    results.push(first);
                    continue;
                }
            }
            let answer = self.step(&txn, &mut open, &mut writes, r, checked).await?;
            let answer = match answer {
                Err(_) if !checked => self.repeated_in(&txn, &open, r).await?.unwrap_or(answer),
                answer => answer,
            };
            if answer.as_ref().is_ok_and(|e| !e.repeated) {
                decided.insert(
                    r.command_id.as_str(),
                    (r.fingerprint.as_deref(), results.len()),
                );
            }
            results.push(answer);
        }
        for (tender_id, p) in &open {
            self.project(&txn, &mut writes, tender_id, p).await?;
        }
        // Nothing read or written on its own: the writes go alone, with no transaction
        // around them when they fit one statement. Otherwise inside the transaction.
        match txn.into_inner() {
            Some(txn) => {
                writes.flush(&txn).await?;
                txn.commit().await?;
            }
            None => writes.write_alone(self).await?,
        }
        // Only now, after the commit, may what the transaction read or made enter a cache.
        let mut cache = self.cache.lock().await;
        for (tender_id, p) in open {
            if let (Some(k), Ok(mut keys)) = (p.key, self.keys.write()) {
                keys.insert(tender_id.clone(), k);
            }
            cache.insert(
                tender_id,
                Cached {
                    seq: p.seq,
                    hash: p.hash,
                    tender: p.tender,
                },
            );
        }
        Ok(results)
    }

    /// Writes a tender's projection row (with the batch's other writes) and timer once the
    /// batch has decided everything on it.
    async fn project(
        &self,
        txn: &LazyTxn<'_>,
        writes: &mut Writes,
        tender_id: &str,
        p: &Pending,
    ) -> Result<()> {
        if p.seq == p.base_seq {
            return Ok(());
        }
        let deadline = p.tender.deadline.map(Timestamp::unix_millis);
        let updated = p.tender.last_at.map_or(0, Timestamp::unix_millis);
        if p.created {
            let row = insert(
                Tenders::Table,
                [
                    (Tenders::TenderId, tender_id.into()),
                    (Tenders::WorkflowSha256, p.wf.sha256().into()),
                    (Tenders::State, p.tender.state.as_str().into()),
                    (Tenders::Seq, p.seq.into()),
                    (Tenders::LastHash, p.hash.as_str().into()),
                    (Tenders::DeadlineMs, deadline.into()),
                    (Tenders::UpdatedMs, updated.into()),
                ],
            );
            writes.create(row);
        } else {
            let q = Query::update()
                .table(Tenders::Table)
                .value(Tenders::State, p.tender.state.as_str())
                .value(Tenders::Seq, p.seq)
                .value(Tenders::LastHash, p.hash.as_str())
                .value(Tenders::DeadlineMs, deadline)
                .value(Tenders::UpdatedMs, updated)
                .and_where(Expr::col(Tenders::TenderId).eq(tender_id))
                .and_where(Expr::col(Tenders::Seq).eq(p.base_seq))
                .to_owned();
            writes.update(tender_id, q);
        }
        // The timer of the new state replaces the old one (most commands leave it alone).
        let timer = tenderflow_core::next_timer(&p.wf, &p.tender);
        if timer != p.base_timer || p.created {
            self.replace_timer(txn, tender_id, timer).await?;
        }
        Ok(())
    }

    /// The batch's view of a tender, opened (and locked) on its first command in the batch;
    /// `Err` carries the answer for a request that cannot proceed.
    async fn open<'a>(
        &self,
        txn: &LazyTxn<'_>,
        open: &'a mut HashMap<String, Pending>,
        r: &Request,
        checked: bool,
    ) -> Result<std::result::Result<&'a mut Pending, StoreError>> {
        if !open.contains_key(&r.tender_id) {
            // A creation always reads: whether the row exists is its whole question. A retry
            // reads too (and on PostgreSQL locks the row): what was cached proved stale.
            let cached = match r.creates() {
                None if !checked => self.cached_head(&r.tender_id).await,
                _ => None,
            };
            // The head and the state come from one look at the cache: another writer may
            // replace the entry at any moment, and a state must never pair with another head.
            let head = match cached {
                Some((h, tender)) => Some((h, Some(tender))),
                None => self
                    .lock_tender(txn, &r.tender_id)
                    .await?
                    .map(|h| (h, None)),
            };
            let pending = match (r.creates(), head) {
                (Some(sha), None) => Pending {
                    wf: self.workflow_in(txn, sha).await?,
                    tender: Tender::default(),
                    base_timer: None,
                    base_seq: 0,
                    seq: 0,
                    hash: chain::GENESIS.to_owned(),
                    created: true,
                    from_cache: false,
                    key: None,
                },
                (Some(_), Some(_)) => {
                    return Ok(Err(StoreError::Rejected(Rejection::new(
                        tenderflow_core::RejectionCode::AlreadyExists,
                        format!("tender `{}` already exists", r.tender_id),
                    ))));
                }
                (None, None) => {
                    return Ok(Err(StoreError::NotFound(format!(
                        "tender `{}`",
                        r.tender_id
                    ))));
                }
                (None, Some((h, kept))) => {
                    let wf = self.workflow_in(txn, &h.workflow_sha256).await?;
                    let from_cache = kept.is_some();
                    let tender = match kept {
                        Some(tender) => tender,
                        None => self.state_on(txn, &h).await?,
                    };
                    Pending {
                        base_timer: tenderflow_core::next_timer(&wf, &tender),
                        wf,
                        tender,
                        base_seq: h.seq,
                        seq: h.seq,
                        hash: h.last_hash,
                        created: false,
                        from_cache,
                        key: None,
                    }
                }
            };
            open.insert(r.tender_id.clone(), pending);
        }
        match open.get_mut(&r.tender_id) {
            Some(p) => Ok(Ok(p)),
            None => Err(StoreError::NotFound(r.tender_id.clone())),
        }
    }

    /// The head of a tender whose state is cached, without reading (or, on PostgreSQL,
    /// locking) its row: the command is decided on the cached state, optimistically. Should
    /// another writer have moved the tender on, the events' key `(tender_id, seq)` and the
    /// projection's guarded `UPDATE` find out, nothing is written, and the batch is retried
    /// reading (and locking) the row. This process's other writers of the tender wait
    /// (SQLite: the write gate; PostgreSQL: `Store::lock_tenders`), so only another process
    /// can make it stale.
    async fn cached_head(&self, tender_id: &str) -> Option<(crate::reads::TenderRow, Tender)> {
        let workflow_sha256 = self.tender_workflows.read().ok()?.get(tender_id)?.clone();
        let mut cache = self.cache.lock().await;
        let c = cache.get(tender_id)?;
        let head = crate::reads::TenderRow {
            tender_id: tender_id.to_owned(),
            workflow_sha256,
            state: c.tender.state.clone(),
            seq: c.seq,
            last_hash: c.hash.clone(),
            deadline_ms: c.tender.deadline.map(Timestamp::unix_millis),
        };
        Some((head, c.tender.clone()))
    }

    /// Decides one command inside a batch and writes its events, command record and outbox
    /// rows; the projection and timer are written once per tender at the end of the batch.
    async fn step(
        &self,
        txn: &LazyTxn<'_>,
        open: &mut HashMap<String, Pending>,
        writes: &mut Writes,
        r: &Request,
        checked: bool,
    ) -> Result<Result<Executed>> {
        let p = match self.open(txn, open, r, checked).await? {
            Ok(p) => p,
            Err(answer) => return Ok(Err(answer)),
        };
        // The time is read now that the tender is open: locked (PostgreSQL: FOR UPDATE;
        // SQLite: the write gate and an IMMEDIATE transaction), or taken from the cache, in
        // which case a write that commits was decided on the latest state (else it conflicts
        // and is decided again, later). So commands on one tender are decided in commit
        // order and a valid command never meets `clock_regression` for a race.
        let now = r.now.read();
        let decided = match &r.action {
            Action::Create { actor, .. } => {
                tenderflow_core::create(&p.wf, &p.tender, actor, &r.tender_id, now)
            }
            Action::Command(command) => tenderflow_core::decide(&p.wf, &p.tender, command, now),
            Action::Timer => tenderflow_core::fire_timer(&p.wf, &p.tender, now),
        };
        let events = match decided {
            Ok(events) => events,
            // A refusal decided on a kept state may be the kept state's fault: another server
            // may have moved the tender on (fired its deadline, say). The batch is decided
            // again on the row as committed, so a valid command is never refused as stale.
            Err(_) if p.from_cache => {
                return Err(StoreError::Conflict {
                    tender_id: r.tender_id.clone(),
                });
            }
            Err(rejection) => return Ok(Err(StoreError::Rejected(rejection))),
        };
        // A tender's data key is made with it, in the creation's transaction (which reads the
        // row anyway), so that its first sealed bid finds the key cached and writes alone.
        // Tenders created before keys were made this way get theirs with their first bid.
        if p.key.is_none() && (p.created || events.iter().any(|e| e.body.is_sealed())) {
            p.key = Some(self.data_key(txn, &r.tender_id).await?);
        }
        if let Err(rejection) = self
            .attach_documents(txn, &r.tender_id, p.seq + 1, &events)
            .await?
        {
            return Ok(Err(StoreError::Rejected(rejection)));
        }
        let first = p.seq + 1;
        let mut appended = Vec::with_capacity(events.len());
        let mut rows = Vec::with_capacity(events.len());
        for e in &events {
            let row = chain::encode(
                &r.tender_id,
                p.seq + 1,
                &r.command_id,
                e,
                &p.hash,
                p.key.as_ref(),
                &self.chain_key,
            )?;
            p.seq = row.seq;
            p.hash.clone_from(&row.hash);
            p.tender = tenderflow_core::apply(std::mem::take(&mut p.tender), e);
            appended.push((p.seq, e.clone()));
            rows.push(row);
        }
        for row in &rows {
            writes.event(event_values(row));
        }
        writes.command(vec![
            r.command_id.as_str().into(),
            r.tender_id.as_str().into(),
            first.into(),
            p.seq.into(),
            self.now_ms().into(),
            r.fingerprint.clone().into(),
        ]);
        let messages = self
            .queue(txn, &r.tender_id, first - 1, &p.wf, &p.tender, &events)
            .await?;
        let queued = messages.len();
        writes.outbox(messages);
        Ok(Ok(Executed {
            tender_id: r.tender_id.clone(),
            events: appended,
            repeated: false,
            state: p.tender.state.clone(),
            queued_messages: queued,
        }))
    }

    /// Appends event rows outside a batch (the racing helper below).
    #[cfg(any(test, feature = "testing"))]
    async fn insert_events(&self, txn: &DatabaseTransaction, rows: &[EventRow]) -> Result<()> {
        let mut writes = Writes::default();
        for row in rows {
            writes.event(event_values(row));
        }
        writes.flush(txn).await
    }

    /// Appends already-decided events at `expected_seq`, skipping `decide`: tests use it to
    /// race two writers on one head. Fails with [`StoreError::Conflict`] when the tender has
    /// moved on. Never for the application: every change goes through [`Store::execute`].
    #[cfg(any(test, feature = "testing"))]
    pub async fn append(
        &self,
        tender_id: &str,
        expected_seq: i64,
        command_id: &str,
        events: &[tenderflow_core::Event],
    ) -> Result<i64> {
        let txn = self.begin_write().await?;
        let head = self
            .tender_row_in(&txn, tender_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("tender `{tender_id}`")))?;
        let conflict = || StoreError::Conflict {
            tender_id: tender_id.to_owned(),
        };
        if head.seq != expected_seq {
            return Err(conflict());
        }
        let key = self.data_key(&txn, tender_id).await?;
        let mut prev = head.last_hash;
        let mut rows = Vec::with_capacity(events.len());
        for (i, e) in events.iter().enumerate() {
            let row = chain::encode(
                tender_id,
                expected_seq + 1 + i as i64,
                command_id,
                e,
                &prev,
                Some(&key),
                &self.chain_key,
            )?;
            prev.clone_from(&row.hash);
            rows.push(row);
        }
        self.insert_events(&txn, &rows).await?;
        let new_seq = expected_seq + events.len() as i64;
        let q = Query::update()
            .table(Tenders::Table)
            .value(Tenders::Seq, new_seq)
            .value(Tenders::LastHash, prev)
            .and_where(Expr::col(Tenders::TenderId).eq(tender_id))
            .and_where(Expr::col(Tenders::Seq).eq(expected_seq))
            .to_owned();
        if txn.execute(&q).await?.rows_affected() != 1 {
            return Err(conflict());
        }
        txn.commit().await?;
        self.cache.lock().await.remove(tender_id);
        Ok(new_seq)
    }
}

/// An event row's values, in [`crate::sql::EVENT_COLUMNS`] order.
fn event_values(row: &EventRow) -> Vec<sea_orm::Value> {
    vec![
        row.tender_id.as_str().into(),
        row.seq.into(),
        row.command_id.as_str().into(),
        row.actor_id.as_str().into(),
        row.actor_role.as_str().into(),
        row.at_ms.into(),
        row.kind.as_str().into(),
        row.payload.as_str().into(),
        row.prev_hash.as_str().into(),
        row.hash.as_str().into(),
    ]
}
