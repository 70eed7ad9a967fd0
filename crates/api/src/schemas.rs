//! The API's own answers (lists and acknowledgements around the store's and the
//! application's types) and the schemas of the documents the core builds as JSON (a tender's
//! view, the records, the evaluation report, OCDS packages), which the API passes through.

use serde::Serialize;
use serde_json::Value;
use tenderflow_app::views::{AuditEvent, BidReceipt, TenderSummary, TimelineEntry};
use tenderflow_app::{AccountInfo, OutboxRow, OutboxStatus, StuckTimer, TokenInfo, WorkflowRecord};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// `/health`: the process answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// `/ready`: the database answers, the schema is current, the master key is the database's.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// Always `ready` (otherwise the answer is a 503 problem).
    pub status: &'static str,
}

/// `/version`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Version {
    /// `tenderflow`.
    pub name: &'static str,
    /// The server's version.
    pub version: &'static str,
    /// The commit it was built from (`unknown` when built outside a git checkout).
    pub commit: &'static str,
}

/// `/me`: the caller's account.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Account id.
    pub id: String,
    /// Role.
    pub role: String,
    /// Display name.
    pub name: String,
    /// `zh-CN` or `en`.
    pub locale: String,
}

/// The accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountList {
    /// Every account.
    pub accounts: Vec<AccountInfo>,
}

/// A new account and its first token (shown this once).
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCreated {
    /// Account id.
    pub id: String,
    /// The bearer token.
    pub token: String,
}

/// An account disabled or enabled.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountState {
    /// Account id.
    pub id: String,
    /// Whether it is disabled now.
    pub disabled: bool,
}

/// An account's email changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailChanged {
    /// Account id.
    pub id: String,
    /// The address now (null: none).
    pub email: Option<String>,
}

/// An account's tokens (never the tokens themselves).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// The tokens.
    pub tokens: Vec<TokenInfo>,
}

/// Registered workflow versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowList {
    /// Every version.
    pub workflows: Vec<WorkflowRecord>,
}

/// A workflow definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowDocument {
    /// SHA-256 of the registered file.
    pub sha256: String,
    /// The definition (see `workflows/schema.json`).
    #[schema(value_type = Object)]
    pub definition: Value,
}

/// A page of tenders.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenderList {
    /// The tenders.
    pub tenders: Vec<TenderSummary>,
    /// The `after` cursor of the next page (null: the last page).
    pub next: Option<String>,
}

/// A page of a tender's audit trail.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Tender id.
    pub tender: String,
    /// The events.
    pub events: Vec<AuditEvent>,
    /// The `after` cursor of the next page (null: the last page).
    pub next: Option<i64>,
}

/// A tender's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    /// Tender id.
    pub tender: String,
    /// What happened when.
    pub timeline: Vec<TimelineEntry>,
}

/// Red flags: where inspectors should look (not findings).
#[derive(Debug, Serialize, ToSchema)]
pub struct RedFlags {
    /// The tender, or none for every tender.
    pub tender: Option<String>,
    /// The flags, each with its rule, evidence and threshold.
    pub flags: Vec<tenderflow_core::red_flags::RedFlag>,
}

/// The caller's bid receipts.
#[derive(Debug, Serialize, ToSchema)]
pub struct Receipts {
    /// Tender id.
    pub tender: String,
    /// One per bid.
    pub receipts: Vec<BidReceipt>,
}

/// A page of outbox messages.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxPage {
    /// The messages.
    pub messages: Vec<OutboxRow>,
    /// The `after` cursor of the next page (null: the last page).
    pub next: Option<i64>,
}

/// A dead letter queued again.
#[derive(Debug, Serialize, ToSchema)]
pub struct Resent {
    /// Outbox id.
    pub id: i64,
    /// `pending`.
    pub status: OutboxStatus,
}

/// Deadlines that failed to fire.
#[derive(Debug, Serialize, ToSchema)]
pub struct StuckTimers {
    /// The timers.
    pub timers: Vec<StuckTimer>,
}

/// The JSON body of an inspector's observation or irregularity, or a bidder's objection:
/// validated against the definition's form for it.
#[derive(Debug)]
pub struct Form;

impl PartialSchema for Form {
    fn schema() -> RefOr<Schema> {
        document(
            "A form, validated against the definition's schema for it",
            &[],
            &[],
        )
    }
}
impl ToSchema for Form {}

/// A workflow definition to register (validated against `workflows/schema.json` and the
/// definition rules; every problem is answered in `details.problems`).
#[derive(Debug)]
pub struct Definition;

impl PartialSchema for Definition {
    fn schema() -> RefOr<Schema> {
        document(
            "A workflow definition (workflows/schema.json)",
            &[("id", Type::String), ("version", Type::String)],
            &[],
        )
    }
}
impl ToSchema for Definition {}

/// An object with these typed members always present (others may follow).
fn document(
    description: &str,
    required: &[(&str, Type)],
    optional: &[(&str, Type)],
) -> RefOr<Schema> {
    let mut o = ObjectBuilder::new()
        .schema_type(Type::Object)
        .description(Some(description));
    for (name, ty) in required {
        o = o.property(*name, typed(ty.clone())).required(*name);
    }
    for (name, ty) in optional {
        o = o.property(*name, typed(ty.clone()));
    }
    o.into()
}

fn typed(ty: Type) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(ty)
}

macro_rules! documents {
    ($($(#[$doc:meta])* $name:ident: $desc:literal, [$($req:literal: $rty:ident),*], [$($opt:literal: $oty:ident),*];)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub struct $name;
            impl PartialSchema for $name {
                fn schema() -> RefOr<Schema> {
                    document($desc, &[$(($req, Type::$rty)),*], &[$(($opt, Type::$oty)),*])
                }
            }
            impl ToSchema for $name {}
        )*
    };
}

documents! {
    /// `GET /tenders/{id}`.
    TenderView: "A tender as the caller may see it (what a role may not see is null or absent)",
        ["id": String, "state": String, "definition": Object, "halted": Boolean, "channels": Array,
         "lots": Array, "bids": Array, "signoffs": Array, "objections": Array],
        [];
    /// `GET /tenders/{id}/opening-record`.
    OpeningRecord: "The opening record: who opened the bids when, and what was read out",
        ["openedAt": String, "openedBy": String, "entries": Array],
        [];
    /// `GET /tenders/{id}/report`.
    Report: "The evaluation report, as the caller may see it",
        ["rows": Array],
        [];
    /// `GET /tenders/{id}/records`.
    Records: "The procedure's records: receipt log, opening record, objections, evaluation report, publicity notice, supervision record, with the chain head they describe",
        ["tender": String, "state": String, "definition": Object, "receiptLog": Array, "objections": Array, "supervisionRecord": Array],
        [];
    /// `GET /ocds/releases`.
    OcdsReleasePackage: "An OCDS 1.1 release package, one page of it (links.next names the next page)",
        ["uri": String, "publishedDate": String, "publisher": Object, "version": String, "releases": Array],
        ["links": Object];
    /// `GET /openapi.json`.
    OpenApiDocument: "This OpenAPI 3.1 document",
        ["openapi": String, "info": Object, "paths": Object, "components": Object],
        [];
    /// `GET /ocds/records/{ocid}`.
    OcdsRecordPackage: "An OCDS 1.1 record package with the compiled release",
        ["uri": String, "publishedDate": String, "publisher": Object, "version": String, "records": Array],
        [];
}

/// A claim of a registration number another account holds, as staff review it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationClaimView {
    /// Claim id.
    pub id: String,
    /// The number claimed.
    pub registration_number: String,
    /// The claiming organisation.
    pub name: String,
    /// Its contact person.
    pub contact_person: String,
    /// Its address.
    pub email: String,
    /// The account that held the number.
    pub holder: String,
    /// When it was made (RFC 3339).
    pub created_at: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When (RFC 3339).
    pub decided_at: Option<String>,
    /// Why.
    pub note: Option<String>,
}

impl From<tenderflow_app::accounts::RegistrationClaim> for RegistrationClaimView {
    fn from(c: tenderflow_app::accounts::RegistrationClaim) -> Self {
        let at = |ms: i64| {
            tenderflow_core::Timestamp::from_unix_millis(ms)
                .map(tenderflow_core::Timestamp::to_rfc3339)
                .unwrap_or_default()
        };
        Self {
            id: c.id,
            registration_number: c.registration_number,
            name: c.name,
            contact_person: c.contact_person,
            email: c.email,
            holder: c.holder_id,
            created_at: at(c.created_ms),
            status: c.status,
            decided_by: c.decided_by,
            decided_at: c.decided_ms.map(at),
            note: c.note,
        }
    }
}

/// The registration claims, pending first.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationClaimList {
    /// The claims.
    pub claims: Vec<RegistrationClaimView>,
}
