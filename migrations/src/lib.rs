//! Tenderflow's schema as sea-orm migrations; the same set runs on SQLite and PostgreSQL.
//!
//! Times are integer milliseconds since the Unix epoch (UTC) and JSON is text, so that every
//! backend stores the same bytes and the hash chain verifies anywhere.

pub use sea_orm_migration::prelude::*;

pub mod schema;

mod m20261127_000001_init;
mod m20261128_000002_trust;
mod m20261128_000003_tokens;
mod m20261128_000004_outbox_data;
mod m20261128_000005_web_accounts;
mod m20261128_000006_expert_pool;
mod m20261128_000007_score_drafts;
mod m20261206_000008_documents;
mod m20261207_000009_registration_claims;

/// The migrator `tenderflow migrate` and server start run.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_init::Migration),
            Box::new(m20261128_000002_trust::Migration),
            Box::new(m20261128_000003_tokens::Migration),
            Box::new(m20261128_000004_outbox_data::Migration),
            Box::new(m20261128_000005_web_accounts::Migration),
            Box::new(m20261128_000006_expert_pool::Migration),
            Box::new(m20261128_000007_score_drafts::Migration),
            Box::new(m20261206_000008_documents::Migration),
            Box::new(m20261207_000009_registration_claims::Migration),
        ]
    }
}
