//! The application's one error type. Every use case returns it, so no presenter (page, API,
//! CLI) needs to know the store's errors: each variant is a kind of answer a presenter gives
//! (refused by a rule, not found, conflict, …) with the stable code clients branch on.

use tenderflow_core::Rejection;
use tenderflow_core::validate::DefinitionErrors;
use tenderflow_store::chain::ChainProblem;
use tenderflow_store::{AccountField, StoreError};

/// What the use cases return.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Why a use case did not do what was asked. Nothing was written when a use case fails.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The engine refused the command (a business rule); its code and details say why.
    #[error("{0}")]
    Rejected(Rejection),
    /// The caller's role may not read or do this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing the caller may see by this name.
    #[error("{0}")]
    NotFound(String),
    /// The request itself is malformed (a stable code and what is wrong).
    #[error("{message}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// An account's field that is not acceptable (`invalid_account`, answered 422): which
    /// field, so a form can say it beside the field.
    #[error("invalid account: {message}")]
    InvalidAccount {
        /// Which field.
        field: AccountField,
        /// What is wrong.
        message: String,
    },
    /// The request is well formed but the tender is not in a state to answer it.
    #[error("{message}")]
    NotNow {
        /// Stable code.
        code: &'static str,
        /// Why.
        message: String,
    },
    /// Something with this name exists already (an account, a workflow version with other
    /// content, a registered organisation); nothing was written.
    #[error("{message}")]
    Exists {
        /// Stable code (`account_exists`, `workflow_clash`, `already_registered`).
        code: &'static str,
        /// What exists.
        message: String,
    },
    /// Another writer changed the tender first; the caller may retry with fresh state.
    #[error("tender `{tender_id}` changed concurrently; retry")]
    Conflict {
        /// The tender.
        tender_id: String,
    },
    /// An idempotency key already used for another request.
    #[error("command id `{command_id}` was already used for another request")]
    KeyReused {
        /// The command id.
        command_id: String,
    },
    /// A workflow definition is invalid: every problem with its JSON Pointer and code.
    #[error("invalid workflow: {0}")]
    InvalidWorkflow(DefinitionErrors),
    /// A workflow named by a bare id that has several registered versions.
    #[error("workflow `{spec}` has several versions; name one of: {}", versions.join(", "))]
    AmbiguousWorkflow {
        /// What was asked for.
        spec: String,
        /// The candidates.
        versions: Vec<String>,
    },
    /// The server is at capacity for this kind of work (password hashing); nothing was
    /// done. Answered 503 with `Retry-After`.
    #[error("the server is busy; try again in {retry_after_secs} s")]
    Busy {
        /// Stable code.
        code: &'static str,
        /// When to try again, in seconds.
        retry_after_secs: u64,
    },
    /// The caller's `If-Match` tag is not the tag of its current view.
    #[error("the tender has changed since you loaded it; reload it and try again")]
    Stale {
        /// The current tag.
        current: String,
    },
    /// An upload's body failed before its end (the client went away); nothing was kept.
    #[error("the upload was cut off: {0}")]
    Upload(String),
    /// A tender's stored record fails verification; nothing is read from it or decided on
    /// top of it until an administrator restores it.
    #[error("integrity violation in tender `{tender_id}`: {problem}")]
    Integrity {
        /// The tender.
        tender_id: String,
        /// The first problem found.
        problem: ChainProblem,
    },
    /// Stored data that cannot be read back (tampering or a bug): which record.
    #[error("corrupt record: {record}")]
    Corrupt {
        /// Which record, and what is wrong with it.
        record: String,
        /// The error that found it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Document storage failed; nothing was kept.
    #[error("document storage is unavailable: {0}")]
    StorageUnavailable(String),
    /// The installation is not ready to serve (no migrations, pending migrations, another
    /// database's master key): what the operator must do.
    #[error("{0}")]
    Setup(String),
    /// Anything else (the database, a file): logged, never shown to a client.
    #[error(transparent)]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl AppError {
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn not_now(code: &'static str, message: impl Into<String>) -> Self {
        Self::NotNow {
            code,
            message: message.into(),
        }
    }

    /// The engine's rejection, when the command was refused by a business rule.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            Self::Rejected(r) => Some(r),
            _ => None,
        }
    }

    /// The stable code of a refusal, where the error has one (not for internal errors).
    pub fn code(&self) -> Option<&str> {
        Some(match self {
            Self::Rejected(r) => r.code.as_str(),
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Invalid { code, .. }
            | Self::NotNow { code, .. }
            | Self::Exists { code, .. }
            | Self::Busy { code, .. } => code,
            Self::InvalidAccount { .. } => "invalid_account",
            Self::Conflict { .. } => "conflict",
            Self::KeyReused { .. } => "idempotency_key_reused",
            Self::InvalidWorkflow(_) => "invalid_workflow",
            Self::AmbiguousWorkflow { .. } => "ambiguous_workflow",
            Self::Stale { .. } => "precondition_failed",
            Self::Upload(_) => "upload_interrupted",
            Self::Integrity { .. } => "integrity_violation",
            Self::Corrupt { .. } => "corrupt_record",
            Self::StorageUnavailable(_) => "storage_unavailable",
            Self::Setup(_) | Self::Internal(_) => return None,
        })
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        let text = e.to_string();
        match e {
            StoreError::Rejected(r) => Self::Rejected(r),
            StoreError::Conflict { tender_id } => Self::Conflict { tender_id },
            StoreError::NotFound(what) => Self::NotFound(format!("no {what}")),
            StoreError::Integrity { tender_id, problem } => Self::Integrity { tender_id, problem },
            StoreError::InvalidAccount { field, message } => {
                Self::InvalidAccount { field, message }
            }
            StoreError::AmbiguousWorkflow { spec, versions } => {
                Self::AmbiguousWorkflow { spec, versions }
            }
            StoreError::KeyReused { command_id } => Self::KeyReused { command_id },
            StoreError::InvalidWorkflow(errors) => Self::InvalidWorkflow(errors),
            StoreError::WorkflowClash { .. } => Self::Exists {
                code: "workflow_clash",
                message: text,
            },
            StoreError::AccountExists { .. } => Self::Exists {
                code: "account_exists",
                message: text,
            },
            StoreError::AlreadyRegistered { .. } => Self::Exists {
                code: "already_registered",
                message: text,
            },
            StoreError::Upload(why) => Self::Upload(why),
            StoreError::Corrupt { what, source } => Self::Corrupt {
                record: what,
                source,
            },
            StoreError::Objects { .. } => Self::StorageUnavailable(text),
            StoreError::NotInstalled
            | StoreError::SchemaOutdated { .. }
            | StoreError::WrongMasterKey(_)
            | StoreError::Crypto(tenderflow_store::CryptoError::NoMasterKey { .. }) => {
                Self::Setup(text)
            }
            other => Self::Internal(Box::new(other)),
        }
    }
}

impl From<Rejection> for AppError {
    fn from(r: Rejection) -> Self {
        Self::Rejected(r)
    }
}
