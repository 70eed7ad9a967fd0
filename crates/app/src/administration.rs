//! Administration: accounts and their API tokens, workflow definitions, and what an operator
//! checks (readiness, the numbers behind `/metrics`). The API and the CLI call these with an
//! administrator (the CLI as [`Caller::operator`]), so both apply the same checks.

use crate::roles::Role;
use crate::{App, AppError, Caller, Result};
use std::sync::Arc;
use tenderflow_core::{Timestamp, Workflow};
use tenderflow_store::{
    Account, AccountInfo, IssuedToken, OutboxStatus, TokenInfo, WorkflowRecord,
};

/// A new account as an administrator describes it.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// Its id.
    pub id: String,
    /// Its role.
    pub role: String,
    /// The name people read.
    pub name: String,
    /// Its email address, if any.
    pub email: Option<String>,
    /// Its language (`zh-CN` or `en`).
    pub locale: String,
}

/// What an operator watches: the queues, the timers and the cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct Health {
    /// Messages waiting to be sent.
    pub outbox_pending: u64,
    /// Messages that failed for good.
    pub outbox_dead: u64,
    /// Timers that failed to fire.
    pub timers_stuck: u64,
    /// How late the oldest due timer is, in seconds.
    pub timer_lag_seconds: f64,
    /// Tenders held in the cache.
    pub cache_entries: u64,
    /// Tenders replayed from their events.
    pub replays: u64,
    /// Events replayed.
    pub events_replayed: u64,
    /// Cached tenders brought up to date.
    pub catch_ups: u64,
    /// Events applied to bring them up to date.
    pub events_caught_up: u64,
}

impl App {
    /// Every account (administrators).
    pub async fn accounts(&self, caller: &Caller) -> Result<Vec<AccountInfo>> {
        caller.require(&[Role::ADMIN])?;
        Ok(self.store.accounts().await?)
    }

    /// Creates an account and returns its first API token (shown once).
    pub async fn create_account(&self, caller: &Caller, new: NewAccount) -> Result<String> {
        caller.require(&[Role::ADMIN])?;
        Ok(self
            .store
            .create_account(&Account {
                id: new.id,
                role: new.role,
                display_name: new.name,
                email: new.email,
                locale: new.locale,
            })
            .await?)
    }

    /// Disables an account (its tokens and sessions stop working) or enables it again.
    pub async fn set_account_disabled(
        &self,
        caller: &Caller,
        id: &str,
        disabled: bool,
    ) -> Result<()> {
        caller.require(&[Role::ADMIN])?;
        Ok(self.store.set_account_disabled(id, disabled).await?)
    }

    /// Sets or removes an account's email address.
    pub async fn set_account_email(
        &self,
        caller: &Caller,
        id: &str,
        email: Option<&str>,
    ) -> Result<()> {
        caller.require(&[Role::ADMIN])?;
        Ok(self.store.set_account_email(id, email).await?)
    }

    /// An account's API tokens.
    pub async fn tokens(&self, caller: &Caller, account: &str) -> Result<Vec<TokenInfo>> {
        caller.require(&[Role::ADMIN])?;
        Ok(self.store.tokens(account).await?)
    }

    /// Issues an API token for an account (shown once).
    pub async fn issue_token(
        &self,
        caller: &Caller,
        account: &str,
        label: &str,
        expires_days: Option<u32>,
    ) -> Result<IssuedToken> {
        caller.require(&[Role::ADMIN])?;
        Ok(self.store.issue_token(account, label, expires_days).await?)
    }

    /// Revokes a token.
    pub async fn revoke_token(&self, caller: &Caller, token: &str) -> Result<TokenInfo> {
        caller.require(&[Role::ADMIN])?;
        Ok(self.store.revoke_token(token).await?)
    }

    /// Replaces a token with a new one of the same label and lifetime.
    pub async fn rotate_token(&self, caller: &Caller, token: &str) -> Result<IssuedToken> {
        caller.require(&[Role::ADMIN])?;
        Ok(self.store.rotate_token(token).await?)
    }

    /// The caller an existing account acts as (the command line's `--as`: the operator at
    /// the machine acts for an account, which the definition then checks like any other).
    pub async fn acting_as(&self, caller: &Caller, id: &str) -> Result<Caller> {
        caller.require(&[Role::ADMIN])?;
        let account = self.store.account(id).await?.ok_or_else(|| {
            AppError::NotFound(format!("no account `{id}` (tenderflow account create …)"))
        })?;
        Caller::of(account).ok_or_else(|| {
            AppError::invalid(
                "invalid_id",
                format!("account id `{id}` is not a valid actor id"),
            )
        })
    }

    /// Every registered workflow definition (anyone signed in).
    pub async fn workflows(&self) -> Result<Vec<WorkflowRecord>> {
        Ok(self.store.workflows().await?)
    }

    /// A registered definition by id, `id@version` or SHA-256.
    pub async fn workflow(&self, spec: &str) -> Result<Arc<Workflow>> {
        Ok(self.store.workflow(spec).await?)
    }

    /// Registers a definition (administrators), validated first; `file_name` is recorded
    /// with it, and who registered it.
    pub async fn register_workflow(
        &self,
        caller: &Caller,
        file_name: &str,
        bytes: &[u8],
        by: &str,
    ) -> Result<WorkflowRecord> {
        caller.require(&[Role::ADMIN])?;
        Ok(self
            .store
            .register_workflow_by(file_name, bytes, Some(by))
            .await?)
    }

    /// Registers the definitions shipped with the binary (no-op for those registered).
    pub async fn register_shipped(&self, shipped: &[(&str, &[u8])]) -> Result<()> {
        for (name, bytes) in shipped {
            self.store.register_workflow(name, bytes).await?;
        }
        Ok(())
    }

    /// Whether the server can serve: the database answers and its schema is current.
    pub async fn readiness(&self) -> std::result::Result<(), String> {
        self.store.readiness().await
    }

    /// The figures behind `/metrics`, now.
    pub async fn health(&self) -> Result<Health> {
        let now: Timestamp = self.store.now();
        let cache = self.store.cache_stats().await;
        Ok(Health {
            outbox_pending: self.store.outbox_count(OutboxStatus::Pending).await?,
            outbox_dead: self.store.outbox_count(OutboxStatus::Dead).await?,
            timers_stuck: self.store.stuck_timers().await?.len() as u64,
            timer_lag_seconds: self
                .store
                .oldest_due_timer(now)
                .await?
                .map_or(0.0, |due| (now.unix_millis() - due).max(0) as f64 / 1000.0),
            cache_entries: cache.tenders as u64,
            replays: cache.replays as u64,
            events_replayed: cache.events_replayed as u64,
            catch_ups: cache.catch_ups as u64,
            events_caught_up: cache.events_caught_up as u64,
        })
    }
}
