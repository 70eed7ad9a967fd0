//! What the store is asked to do (a [`Request`] with its [`Action`]: create a tender,
//! execute a person's command, fire a timer) and what it answers ([`Executed`]).

use crate::clock::Now;
use tenderflow_core::{Actor, Command, Event};

/// What executing a command did.
#[derive(Debug, Clone)]
pub struct Executed {
    /// The tender.
    pub tender_id: String,
    /// The events appended (or, for a repeated command id, appended the first time).
    pub events: Vec<(i64, Event)>,
    /// Whether the command id had been seen: nothing new was appended.
    pub repeated: bool,
    /// The tender's state afterwards.
    pub state: String,
    /// Outbox rows queued.
    pub queued_messages: usize,
}

/// What a request does to its tender.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create it ([`tenderflow_core::create`]) pinning a registered workflow.
    Create {
        /// The workflow's SHA-256.
        workflow: String,
        /// Who creates it.
        actor: Actor,
    },
    /// A person's command ([`tenderflow_core::decide`]).
    Command(Command),
    /// Fire its due timer ([`tenderflow_core::fire_timer`]).
    Timer,
}

/// One request of a batch.
#[derive(Debug, Clone)]
pub struct Request {
    /// Tender.
    pub tender_id: String,
    /// Idempotency key.
    pub command_id: String,
    /// What it does.
    pub action: Action,
    /// The time it is decided at, read once the tender is locked.
    pub now: Now,
    /// What the command id was issued for (e.g. SHA-256 of method, path and body): a later
    /// command with the same id and another fingerprint is refused with
    /// [`StoreError::KeyReused`] instead of being answered with the first result.
    pub fingerprint: Option<String>,
}

impl Request {
    /// A command on an existing tender at a time, with no fingerprint.
    pub fn new(tender_id: &str, command_id: &str, command: Command, now: impl Into<Now>) -> Self {
        Self::with(tender_id, command_id, Action::Command(command), now)
    }

    /// A request doing `action` at a time, with no fingerprint.
    pub fn with(tender_id: &str, command_id: &str, action: Action, now: impl Into<Now>) -> Self {
        Self {
            tender_id: tender_id.to_owned(),
            command_id: command_id.to_owned(),
            action,
            now: now.into(),
            fingerprint: None,
        }
    }

    /// The workflow a creating request pins.
    pub(crate) fn creates(&self) -> Option<&str> {
        match &self.action {
            Action::Create { workflow, .. } => Some(workflow),
            Action::Command(_) | Action::Timer => None,
        }
    }
}
