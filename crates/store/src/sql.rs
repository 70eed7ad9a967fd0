//! How the store talks to the database: statements are built with sea-query from the schema's
//! identifiers (`tenderflow_migrations::schema`) for the backend in use; no SQL text is written
//! by hand anywhere in the store. Rows come back through `FromQueryResult` structs whose field
//! names are the columns, or [`get`] by identifier.

use crate::{Result, Store, StoreError};
use sea_orm::sea_query::{Expr, Iden, InsertStatement, IntoIden, Query};
use sea_orm::{
    ConnectionTrait, DbErr, FromQueryResult, QueryResult, SqlErr, StatementBuilder, Value,
};

pub(crate) use sea_orm::sea_query::Order;
pub(crate) use tenderflow_migrations::schema::{
    Accounts, BlobChunks, Blobs, Commands, Events, MailTokens, Outbox, RegistrationClaims,
    ScoreDrafts, Sessions, Settings, SignInFailures, Subscriptions, TenderKeys, Tenders, Timers,
    Tokens, Workflows,
};

/// Whether a statement failed on a unique key (another writer, or a repeated id).
pub(crate) fn is_unique_violation(e: &DbErr) -> bool {
    matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Whether a write failed only because another writer got there first: a unique key taken,
/// or on PostgreSQL a deadlock (an optimistic writer's `INSERT` waiting on a locking
/// writer's row while that writer waits on the `INSERT`'s key) or a serialization failure.
/// Nothing of the write stays; deciding again on a fresh state is the answer.
pub(crate) fn lost_a_race(e: &DbErr) -> bool {
    is_unique_violation(e) || matches!(sqlstate(e).as_deref(), Some("40P01" | "40001"))
}

/// The SQLSTATE of a database error (PostgreSQL's five characters), if the driver gave one.
pub(crate) fn sqlstate(e: &DbErr) -> Option<String> {
    match e {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
        | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => e
            .as_database_error()
            .and_then(|d| d.code())
            .map(|c| c.into_owned()),
        _ => None,
    }
}

/// A column of a row, by its identifier.
pub(crate) fn get<T: sea_orm::TryGetable>(row: &QueryResult, col: impl Iden) -> Result<T> {
    row.try_get::<T>("", col.unquoted()).map_err(StoreError::Db)
}

/// A row as a `FromQueryResult` struct.
pub(crate) fn decode_row<T: FromQueryResult>(r: &QueryResult) -> Result<T> {
    T::from_query_result(r, "").map_err(StoreError::Db)
}

/// An INSERT of one row into `table`, given as (column, value) pairs so that columns and values
/// cannot disagree in number or order.
pub(crate) fn insert<T>(table: T, row: impl IntoIterator<Item = (T, Value)>) -> InsertStatement
where
    T: IntoIden + Copy + 'static,
{
    let (cols, values): (Vec<T>, Vec<Expr>) =
        row.into_iter().map(|(c, v)| (c, Expr::from(v))).unzip();
    Query::insert()
        .into_table(table)
        .columns(cols)
        .values_panic(values)
        .to_owned()
}

/// The columns of an event row, in the order [`crate::chain::EventRow`] is read and written.
pub(crate) const EVENT_COLUMNS: [Events; 10] = [
    Events::TenderId,
    Events::Seq,
    Events::CommandId,
    Events::ActorId,
    Events::ActorRole,
    Events::AtMs,
    Events::Kind,
    Events::Payload,
    Events::PrevHash,
    Events::Hash,
];

/// Rows a multi-row `INSERT` carries at most: far below SQLite's and PostgreSQL's limits on
/// bound parameters (32,766 and 65,535) for the store's widest table.
pub(crate) const ROWS_PER_INSERT: usize = 100;

/// One `INSERT` of several rows (all with the same columns, at most [`ROWS_PER_INSERT`]):
/// one statement, one round trip, where a row each would cost one each.
pub(crate) fn insert_rows<T>(
    table: T,
    cols: impl IntoIterator<Item = T>,
    rows: impl IntoIterator<Item = Vec<Value>>,
) -> InsertStatement
where
    T: IntoIden + Copy + 'static,
{
    let mut q = Query::insert();
    q.into_table(table).columns(cols);
    for row in rows {
        q.values_panic(row.into_iter().map(Expr::from));
    }
    q.to_owned()
}

impl Store {
    /// The first row of a query through `conn`.
    pub(crate) async fn one<T: FromQueryResult, C: ConnectionTrait, S: StatementBuilder>(
        &self,
        conn: &C,
        s: &S,
    ) -> Result<Option<T>> {
        conn.query_one(s)
            .await?
            .map(|r| decode_row::<T>(&r))
            .transpose()
    }

    /// The number a `COUNT(…)` query answers through `conn` (0 for no row).
    pub(crate) async fn count<C: ConnectionTrait, S: StatementBuilder>(
        &self,
        conn: &C,
        s: &S,
    ) -> Result<u64> {
        let n: i64 = conn
            .query_one(s)
            .await?
            .map(|r| r.try_get_by_index::<i64>(0))
            .transpose()?
            .unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Every row of a query through `conn`.
    pub(crate) async fn all<T: FromQueryResult, C: ConnectionTrait, S: StatementBuilder>(
        &self,
        conn: &C,
        s: &S,
    ) -> Result<Vec<T>> {
        conn.query_all(s)
            .await?
            .iter()
            .map(decode_row::<T>)
            .collect()
    }
}
