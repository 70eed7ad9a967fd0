//! Executing commands for a caller: the idempotency key bound to the caller and to the
//! request, the `If-Match` tag of the caller's view, and typed answers (a bidder gets a
//! receipt code and no sequence numbers).

use crate::roles::Role;
use crate::{App, AppError, Caller, Result, views};
use serde::Serialize;
use serde_json::json;
use tenderflow_core::{Command, CommandBody, EventBody, Timestamp};
use tenderflow_store::clock::Now;
use tenderflow_store::{Action, Executed, Request};

/// Longest idempotency key accepted.
pub const MAX_KEY: usize = 64;

/// A command as a caller sends it.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The tender.
    pub tender_id: String,
    /// What to do.
    pub body: CommandBody,
    /// The caller's idempotency key (a repeat gets the first answer), if any.
    pub key: Option<String>,
    /// The tag of the view the caller acted from (`If-Match`), if any.
    pub if_match: Option<String>,
}

/// One event of an answer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnsweredEvent {
    /// Its number (hidden from bidders: it would tell how many bids came before).
    pub seq: Option<i64>,
    /// Its kind.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// When.
    pub at: Timestamp,
}

/// A bid's receipt: a code derived from the bid itself, never a number before the opening.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    /// The receipt code.
    pub code: String,
    /// The lot.
    pub lot: String,
    /// The bid's commitment (SHA-256 of its canonical content).
    pub commitment: String,
    /// When it was received.
    pub received_at: Timestamp,
}

/// What a command did, as the caller may see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Answer {
    /// The tender.
    pub tender: String,
    /// Its state afterwards.
    pub state: String,
    /// Whether this repeats an earlier command (nothing new happened).
    pub repeated: bool,
    /// The events.
    pub events: Vec<AnsweredEvent>,
    /// For a bid: its receipt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

impl Answer {
    /// The answer to `caller` for `done`.
    pub fn of(done: &Executed, caller: &Caller) -> Self {
        let seqs = !caller.is(Role::BIDDER);
        let mut receipt = None;
        for (_, ev) in &done.events {
            if let EventBody::BidSubmitted {
                key, commitment, ..
            }
            | EventBody::BidReplaced {
                key, commitment, ..
            } = &ev.body
            {
                receipt = Some(Receipt {
                    code: key.receipt_code(&done.tender_id, commitment),
                    lot: key.lot.to_string(),
                    commitment: commitment.clone(),
                    received_at: ev.at,
                });
            }
        }
        Self {
            tender: done.tender_id.clone(),
            state: done.state.clone(),
            repeated: done.repeated,
            events: done
                .events
                .iter()
                .map(|(seq, ev)| AnsweredEvent {
                    seq: seqs.then_some(*seq),
                    kind: ev.body.kind(),
                    at: ev.at,
                })
                .collect(),
            receipt,
        }
    }
}

/// The command id for a caller's idempotency key: bound to the account (`a:b` + `c` and `a` +
/// `b:c` never meet: the id's length comes first), or a fresh id without a key.
pub fn command_id(caller: &Caller, key: Option<&str>) -> Result<String> {
    match key {
        Some(key) => {
            if key.is_empty() || key.len() > MAX_KEY || !key.is_ascii() {
                return Err(AppError::invalid(
                    "invalid_idempotency_key",
                    "Idempotency-Key must be 1–64 ASCII characters",
                ));
            }
            let account = caller.actor.id.as_str();
            Ok(format!("key:{}:{account}:{key}", account.len()))
        }
        None => Ok(uuid::Uuid::new_v4().to_string()),
    }
}

/// What a command id is bound to: the tender and the command with its whole body (the
/// command names the endpoint and method). Reusing the key for anything else is refused.
pub fn fingerprint(tender_id: &str, body: &CommandBody) -> String {
    tenderflow_core::canonical::sha256_hex(&json!({ "tender": tender_id, "command": body }))
}

impl App {
    /// Executes a caller's command on an existing tender, decided at the clock's time once
    /// the tender is locked (racing commands are decided in commit order).
    pub async fn execute(&self, caller: &Caller, s: Submission) -> Result<Executed> {
        if let Some(wanted) = &s.if_match {
            let current = self.view_tag(caller, &s.tender_id).await?;
            let matches = wanted.trim() == "*"
                || wanted
                    .split(',')
                    .any(|w| w.trim().trim_start_matches("W/") == current);
            if !matches {
                return Err(AppError::Stale { current });
            }
        }
        let command = Command {
            actor: caller.actor.clone(),
            body: s.body,
        };
        let request = Request {
            command_id: command_id(caller, s.key.as_deref())?,
            fingerprint: Some(fingerprint(&s.tender_id, &command.body)),
            tender_id: s.tender_id,
            action: Action::Command(command),
            now: Now::Clock(self.clock()),
        };
        Ok(match &self.committer {
            Some(c) => c.execute(request).await?,
            None => self.store.execute_request(request).await?,
        })
    }

    /// Creates a tender from a workflow named exactly (SHA-256, `id@version`, or an id with
    /// one version).
    pub async fn create_tender(
        &self,
        caller: &Caller,
        workflow: &str,
        tender_id: &str,
        key: Option<&str>,
    ) -> Result<Executed> {
        views::check_id("tenderId", tender_id)?;
        views::check_id("workflow", workflow)?;
        let wf = self.store.workflow_exact(workflow).await?;
        let request = Request {
            tender_id: tender_id.to_owned(),
            command_id: command_id(caller, key)?,
            fingerprint: Some(tenderflow_core::canonical::sha256_hex(
                &json!({ "tender": tender_id, "create": wf.sha256() }),
            )),
            action: Action::Create {
                workflow: wf.sha256().to_owned(),
                actor: caller.actor.clone(),
            },
            now: Now::Clock(self.clock()),
        };
        Ok(self.store.execute_request(request).await?)
    }
}

/// The outcome of a command for metrics: `ok`, the rejection's code, or `error`.
pub fn outcome(result: &Result<Executed>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(AppError::Rejected(r)) => r.code.as_str().to_owned(),
        Err(_) => "error".to_owned(),
    }
}
