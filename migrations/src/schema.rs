//! The schema's names: one identifier per table and column, used by the migrations that create
//! them and by the store's statement builders that read and write them. A new column is one
//! variant here, and every statement that must name it fails to compile until it does.

use sea_orm_migration::prelude::*;

/// Registered workflow definitions, by the SHA-256 of their file.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Workflows {
    /// The table.
    Table,
    /// SHA-256 of the file (primary key).
    Sha256,
    /// The definition's id.
    DefinitionId,
    /// The definition's version.
    Version,
    /// The file it was registered from.
    FileName,
    /// The file's text.
    Content,
    /// Registered at, ms.
    CreatedMs,
    /// Who registered the version (an admin account, or `cli:<user>`).
    RegisteredBy,
    /// JSON list of what this version weakens against the one it replaces.
    Weakened,
}

/// The projection: one row per tender.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Tenders {
    /// The table.
    Table,
    /// Tender id (primary key).
    TenderId,
    /// The workflow version it pins.
    WorkflowSha256,
    /// Current state.
    State,
    /// Events so far (the head's sequence number).
    Seq,
    /// The head's hash.
    LastHash,
    /// Bid deadline, ms.
    DeadlineMs,
    /// Time of the last event, ms.
    UpdatedMs,
}

/// The hash-chained event log.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Events {
    /// The table.
    Table,
    /// Row id.
    Id,
    /// Tender.
    TenderId,
    /// Sequence number within the tender.
    Seq,
    /// The command that appended it.
    CommandId,
    /// Who acted.
    ActorId,
    /// In which role.
    ActorRole,
    /// When, ms.
    AtMs,
    /// Event kind.
    Kind,
    /// Payload (sealed for bids).
    Payload,
    /// The previous event's hash.
    PrevHash,
    /// This event's keyed hash.
    Hash,
}

/// Command ids seen (idempotency), with the events they appended.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Commands {
    /// The table.
    Table,
    /// The command id (primary key).
    CommandId,
    /// Tender.
    TenderId,
    /// First event appended.
    FirstSeq,
    /// Last event appended.
    LastSeq,
    /// Recorded at, ms.
    CreatedMs,
    /// SHA-256 of what the command id was first used for (method, path, body); a reuse of
    /// the key for anything else is refused.
    Fingerprint,
}

/// Each tender's data key, wrapped with the master key.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum TenderKeys {
    /// The table.
    Table,
    /// Tender (primary key).
    TenderId,
    /// The wrapped key.
    WrappedKey,
}

/// Durable timers: at most one per tender.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Timers {
    /// The table.
    Table,
    /// Tender (primary key).
    TenderId,
    /// Timer kind.
    Kind,
    /// Due, ms.
    DueMs,
    /// The worker holding it.
    ClaimedBy,
    /// Its claim lasts until, ms.
    ClaimedUntilMs,
    /// Consecutive failures of this timer (not business refusals).
    Failures,
    /// The last failure, for administrators.
    LastError,
}

/// The transactional outbox of messages.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Outbox {
    /// The table.
    Table,
    /// Row id (the Message-ID derives from it).
    Id,
    /// Tender.
    TenderId,
    /// The event that caused it.
    EventSeq,
    /// Message kind.
    Message,
    /// Recipient kind (`account`).
    RecipientKind,
    /// Recipient id.
    RecipientId,
    /// `pending`, `sent` or `dead`.
    Status,
    /// Delivery attempts.
    Attempts,
    /// Next attempt not before, ms.
    NextAttemptMs,
    /// The last error.
    LastError,
    /// The worker holding it.
    ClaimedBy,
    /// Its claim lasts until, ms.
    ClaimedUntilMs,
    /// Queued at, ms.
    CreatedMs,
    /// Sent at, ms.
    SentMs,
    /// What the message says (JSON text, `core::messages::message_data`), fixed when queued.
    Data,
}

/// People and organisations that act and receive mail.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Accounts {
    /// The table.
    Table,
    /// Account id (primary key).
    Id,
    /// Role.
    Role,
    /// Display name.
    DisplayName,
    /// Email address.
    Email,
    /// `zh-CN` or `en`.
    Locale,
    /// SHA-256 of the first token (kept for databases from before `tokens`).
    TokenHash,
    /// Created, ms.
    CreatedMs,
    /// When the account was disabled (its tokens stop working at once).
    DisabledMs,
    /// Argon2id hash (PHC string) of the account's password, for signing in to the pages.
    PasswordHash,
    /// When the email address was verified (administrators' accounts: at creation).
    EmailVerifiedMs,
    /// A self-registered organisation's registration number (unified social credit code).
    RegistrationNumber,
    /// A self-registered organisation's contact person.
    ContactPerson,
    /// Whether the account wants announcements of new tenders by mail.
    Announcements,
    /// An evaluator's fields of expertise (JSON array of text).
    ExpertFields,
    /// An evaluator's declared ties to organisations (JSON array of account ids).
    ExpertTies,
}

/// Signed-in browser sessions (in the database, so several servers share them).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Sessions {
    /// The table.
    Table,
    /// SHA-256 of the session cookie (primary key).
    IdHash,
    /// The account.
    AccountId,
    /// The session's CSRF token (forms must send it back).
    Csrf,
    /// Signed in at, ms.
    CreatedMs,
    /// Last request, ms.
    LastSeenMs,
    /// Ends at, ms (idle sessions end earlier: see the store).
    ExpiresMs,
}

/// One-use tokens sent by mail: email verification, password reset, subscription confirmation.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum MailTokens {
    /// The table.
    Table,
    /// SHA-256 of the token (primary key).
    TokenHash,
    /// `verify`, `reset` or `subscribe`.
    Purpose,
    /// The account (verification and reset).
    AccountId,
    /// The address (subscription).
    Email,
    /// Issued, ms.
    CreatedMs,
    /// Expires, ms.
    ExpiresMs,
    /// Used, ms.
    UsedMs,
}

/// Failed sign-ins, counted per key in a sliding window (sign-in rate limiting shared by
/// every server).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum SignInFailures {
    /// The table.
    Table,
    /// Row id.
    Id,
    /// What was tried (the account or address, lower case).
    Key,
    /// When, ms.
    AtMs,
}

/// Addresses subscribed to the notice board (announcements of new tenders by mail).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Subscriptions {
    /// The table.
    Table,
    /// Email address (lower case; primary key).
    Email,
    /// `zh-CN` or `en`.
    Locale,
    /// Subscribed at, ms.
    CreatedMs,
    /// Confirmed through the mailed link at, ms (only confirmed addresses get mail).
    ConfirmedMs,
}

/// API tokens: several per account.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Tokens {
    /// The table.
    Table,
    /// Public id of the token (shown in lists; the token itself is shown once).
    Id,
    /// The account.
    AccountId,
    /// SHA-256 of the token.
    TokenHash,
    /// What it is for.
    Label,
    /// Issued, ms.
    CreatedMs,
    /// Expires, ms.
    ExpiresMs,
    /// Revoked, ms.
    RevokedMs,
}

/// Named settings of the installation (the master key's check value).
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Settings {
    /// The table.
    Table,
    /// Setting name (primary key).
    Name,
    /// Its value.
    Value,
}

/// Draft score sheets, private to their evaluator until submitted.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum ScoreDrafts {
    /// The table.
    Table,
    /// Tender.
    TenderId,
    /// The evaluator.
    EvaluatorId,
    /// The bidder whose bid the sheet scores.
    Bidder,
    /// The sheet so far (JSON text).
    Sheet,
    /// Saved at, ms.
    UpdatedMs,
}

/// Stored files (tender documents and sealed bid documents): what the file is, where its
/// bytes are and whether an event references it. The bytes are in `blob_chunks` (the
/// database backend) or in object storage, framed the same way.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum Blobs {
    /// The table.
    Table,
    /// Document id (primary key), as events reference it.
    BlobId,
    /// The tender it belongs to.
    TenderId,
    /// Who uploaded it.
    Owner,
    /// Whether it is sealed (encrypted with the tender's data key until opening).
    Sealed,
    /// `partial` (being written), `stored` (complete, acknowledged) or `attached` (an event
    /// references it).
    State,
    /// `database` or `objects`.
    Backend,
    /// Size of the file, bytes.
    Size,
    /// Frames stored.
    Frames,
    /// SHA-256 of the stored bytes (ciphertext for a sealed file), to check them at rest.
    StoredSha256,
    /// SHA-256 of the file (public files only).
    Sha256,
    /// The file name (public files only).
    Name,
    /// The media type (public files only).
    MediaType,
    /// A sealed file's name, type and SHA-256, encrypted with the tender's data key.
    SealedMeta,
    /// A sealed file's nonce prefix (hex).
    Nonce,
    /// Created at, ms.
    CreatedMs,
    /// The event that first referenced it.
    EventSeq,
}

/// The bytes of files kept in the database: one row per frame.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum BlobChunks {
    /// The table.
    Table,
    /// The file.
    BlobId,
    /// Frame number, from 0.
    N,
    /// The frame's bytes.
    Data,
}

/// Claims of a registration number another account holds, for staff to decide.
#[derive(DeriveIden, Clone, Copy, Debug)]
pub enum RegistrationClaims {
    /// The table.
    Table,
    /// Claim id (`claim-…`).
    Id,
    /// The registration number claimed (upper case).
    RegistrationNumber,
    /// The claiming organisation's name.
    Name,
    /// Its contact person.
    ContactPerson,
    /// Its address.
    Email,
    /// `zh-CN` or `en`.
    Locale,
    /// The password it chose (argon2id PHC string), for the account approval makes.
    PasswordHash,
    /// Announcements by mail.
    Announcements,
    /// The account that held the number when the claim was made.
    HolderId,
    /// Made at, ms (wall clock).
    CreatedMs,
    /// `pending`, `approved` or `rejected`.
    Status,
    /// Who decided.
    DecidedBy,
    /// Decided at, ms.
    DecidedMs,
    /// The decision's reason.
    Note,
}
