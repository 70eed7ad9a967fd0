//! Integration tests of tenderflow-store, on SQLite and on PostgreSQL.

mod crash;
mod store;
mod trust;
