//! Integration tests of tenderflow-store, on SQLite and on PostgreSQL.

mod accounts;
mod crash;
mod documents;
mod queues;
mod store;
mod trust;
mod trust_records;
