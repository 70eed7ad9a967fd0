//! The store's one error type: each variant says what happened and keeps its source.

use crate::chain::ChainProblem;
use sea_orm::DbErr;
use tenderflow_core::Rejection;
use tenderflow_core::validate::DefinitionErrors;

/// What the store returns.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The engine refused the command (a business rule); nothing was written.
    #[error("{0}")]
    Rejected(Rejection),
    /// Another writer changed the tender first (a stale sequence number); the caller may
    /// retry with fresh state. Nothing was written.
    #[error("conflict: tender `{tender_id}` changed concurrently")]
    Conflict {
        /// The tender.
        tender_id: String,
    },
    /// An account with this id exists already; nothing was written.
    #[error("account `{id}` already exists")]
    AccountExists {
        /// The id asked for.
        id: String,
    },
    /// A self-registration whose registration number or email address belongs to an
    /// account already; nothing was written.
    #[error("an organisation with this {what} is registered already")]
    AlreadyRegistered {
        /// `registration number` or `email address`.
        what: &'static str,
    },
    /// The database is not a Tenderflow database (an empty file, another application's):
    /// nothing was changed; `tenderflow migrate` sets one up.
    #[error(
        "this database is not set up for Tenderflow (no migrations applied); run `tenderflow migrate` to set it up"
    )]
    NotInstalled,
    /// Migrations are pending: only `tenderflow migrate` applies them.
    #[error("the database schema is behind this version ({} migration(s) pending: {}); run `tenderflow migrate`", pending.len(), pending.join(", "))]
    SchemaOutdated {
        /// The pending migrations' names.
        pending: Vec<String>,
    },
    /// No such tender, workflow or row.
    #[error("not found: {0}")]
    NotFound(String),
    /// A workflow definition is invalid: every problem found, each with its JSON Pointer and
    /// stable code.
    #[error("invalid workflow: {0}")]
    InvalidWorkflow(#[source] DefinitionErrors),
    /// A definition id and version registered already with other content.
    #[error(
        "{definition} {version} is already registered with other content (sha256 {sha256}); give the new content a new version"
    )]
    WorkflowClash {
        /// Definition id.
        definition: String,
        /// Version.
        version: String,
        /// SHA-256 of the registered content.
        sha256: String,
    },
    /// Encryption, keys or randomness.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// Stored data that cannot be read back (tampering or a bug).
    #[error("corrupt record: {what}")]
    Corrupt {
        /// Which record, and what is wrong with it.
        what: String,
        /// The error that found it (a JSON or definition error), if any.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// A tender's stored record fails verification (an altered, missing, inserted or
    /// reordered event, or a projection that disagrees with the events). Nothing is read
    /// from it or decided on top of it until an administrator restores it.
    #[error("integrity violation in tender `{tender_id}`: {problem}")]
    Integrity {
        /// The tender.
        tender_id: String,
        /// The first problem found.
        problem: ChainProblem,
    },
    /// An account's id, role, name, email or locale (or a registration's number or contact,
    /// a token's label) is not acceptable, or the account is not in a state for the change;
    /// nothing was written.
    #[error("invalid account: {message}")]
    InvalidAccount {
        /// Which field (or what) is wrong.
        field: crate::accounts::AccountField,
        /// What is wrong, for people (starts with the field's name).
        message: String,
    },
    /// A workflow named by a bare id that has several registered versions: the caller must
    /// name one (`id@version` or its SHA-256).
    #[error("workflow `{spec}` has several versions; name one of: {}", versions.join(", "))]
    AmbiguousWorkflow {
        /// What was asked for.
        spec: String,
        /// The candidates.
        versions: Vec<String>,
    },
    /// The master key does not belong to this database (its check value differs, or it
    /// cannot unwrap the tenders' keys). Nothing was read or written.
    #[error("the master key does not match this database: {0}")]
    WrongMasterKey(String),
    /// An idempotency key (command id) already used for another request: another body,
    /// method, path or tender. Nothing was written.
    #[error("command id `{command_id}` was already used for another request")]
    KeyReused {
        /// The command id.
        command_id: String,
    },
    /// A part of the store is not running (the group committer stopped).
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// Object storage (the documents' bytes) failed.
    #[error("object storage: could not {what}: {source}")]
    Objects {
        /// What was being done.
        what: String,
        /// What the object store said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An upload's body failed before its end (the client went away); nothing was kept.
    #[error("the upload was cut off: {0}")]
    Upload(String),
    /// The database.
    #[error("database: {0}")]
    Db(#[from] DbErr),
}

impl StoreError {
    /// An account's `field` that is not acceptable.
    pub(crate) fn invalid_account(
        field: crate::accounts::AccountField,
        message: impl Into<String>,
    ) -> Self {
        Self::InvalidAccount {
            field,
            message: message.into(),
        }
    }

    /// The error for a write that lost a race on `tender_id` (a unique key taken by another
    /// writer), or the database error as it is.
    pub(crate) fn raced(tender_id: &str, e: DbErr) -> Self {
        if crate::sql::is_unique_violation(&e) {
            Self::Conflict {
                tender_id: tender_id.to_owned(),
            }
        } else {
            Self::Db(e)
        }
    }

    /// A file error.
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            source,
        }
    }
}

impl StoreError {
    /// A record that cannot be read back, found without an underlying error.
    pub(crate) fn corrupt(what: impl Into<String>) -> Self {
        Self::Corrupt {
            what: what.into(),
            source: None,
        }
    }

    /// A record that cannot be read back, with the error that found it.
    pub(crate) fn corrupt_by(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Corrupt {
            what: what.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// What went wrong with keys, sealing or randomness.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The operating system gave no random bytes.
    #[error("no randomness from the operating system: {0}")]
    NoRandomness(#[source] getrandom::Error),
    /// A master key that is not hex.
    #[error("the master key is not hex: {0}")]
    KeyNotHex(#[source] hex::FromHexError),
    /// A master key of another length.
    #[error("the master key must be 32 bytes (64 hex digits)")]
    KeyLength,
    /// No key file where one was expected.
    #[error(
        "no master key at {}: set TENDERFLOW_MASTER_KEY, restore the key file from your backup, check --data-dir, or run `tenderflow migrate` to set up a new installation",
        path.display()
    )]
    NoMasterKey {
        /// Where it was looked for.
        path: std::path::PathBuf,
    },
    /// A sealed bid whose tender has no data key.
    #[error("no data key for a sealed bid")]
    NoDataKey,
    /// A wrapped data key of the wrong length.
    #[error("a wrapped data key has the wrong length")]
    WrappedKeyLength,
    /// Encryption failed.
    #[error("encryption failed")]
    Encrypt,
    /// A sealed value that is not base64.
    #[error("a sealed value is not base64: {0}")]
    NotBase64(#[source] base64::DecodeError),
    /// A sealed value shorter than its nonce and tag.
    #[error("a sealed value is too short")]
    TooShort,
    /// A sealed value that does not decrypt (altered, or sealed under another key); AES-GCM
    /// says no more than that.
    #[error("a sealed value does not decrypt (altered, or another key)")]
    DoesNotDecrypt,
}
