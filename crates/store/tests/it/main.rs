//! Integration tests of tenderflow-store, on SQLite and on PostgreSQL.

mod store;
mod support;
