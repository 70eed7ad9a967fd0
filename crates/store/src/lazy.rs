//! A write transaction begun only when a statement needs it.
//!
//! A command on a tender whose state is cached usually reads nothing: its state, workflow
//! and data key are in memory, its bid receipt goes to the bidder named in the command. Its
//! writes can then go as one statement with no `BEGIN` and no `COMMIT` before or after it
//! (see [`crate::writes::Writes::write_alone`]): one round trip instead of four on
//! PostgreSQL, one hand-off to SQLite's worker thread instead of three. [`LazyTxn`] is
//! handed to everything that might read or write on its own; the first statement any of
//! them sends begins the transaction, and the batch then writes and commits inside it.

use crate::Store;
use async_trait::async_trait;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};
use tokio::sync::OnceCell;

/// A write transaction that begins on its first statement.
pub(crate) struct LazyTxn<'a> {
    store: &'a Store,
    txn: OnceCell<DatabaseTransaction>,
}

impl<'a> LazyTxn<'a> {
    pub(crate) fn new(store: &'a Store) -> Self {
        Self {
            store,
            txn: OnceCell::new(),
        }
    }

    /// The transaction, begun now if nothing has needed it yet.
    async fn get(&self) -> Result<&DatabaseTransaction, DbErr> {
        self.txn.get_or_try_init(|| self.store.begin_write()).await
    }

    /// The transaction if something began it.
    pub(crate) fn into_inner(self) -> Option<DatabaseTransaction> {
        self.txn.into_inner()
    }
}

#[async_trait]
impl ConnectionTrait for LazyTxn<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.store.backend
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.get().await?.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.get().await?.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.get().await?.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.get().await?.query_all_raw(stmt).await
    }
}
