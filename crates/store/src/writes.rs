//! A batch's writes, held until everything in it is decided and then sent as few statements
//! as the backend allows: on PostgreSQL one data-modifying `WITH` (the event, command and
//! outbox `INSERT`s and the projections' guarded `UPDATE`s as its common table expressions),
//! on SQLite one multi-statement execution (one hand-off to the connection's worker thread
//! instead of one per statement). The same statement is written inside a transaction or,
//! when the batch began none, alone. A command that used to cost five or six statements inside
//! its transaction now costs one.

use crate::sql::{Commands, Events, Outbox, ROWS_PER_INSERT, insert_rows};
use crate::{Result, StoreError};
use sea_orm::sea_query::{
    Alias, Asterisk, CommonTableExpression, Expr, ExprTrait, Func, IntoIden, PostgresQueryBuilder,
    Query, SqliteQueryBuilder, SubQueryStatement, UpdateStatement, Values, WithClause,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

/// Statements combined into one at most: each carries at most [`ROWS_PER_INSERT`] rows of at
/// most ten columns, so one combined statement stays far below either backend's limit on
/// bound parameters (32,766 for SQLite's statement, 65,535 for PostgreSQL's).
const PIECES_PER_STATEMENT: usize = 16;

/// Bytes of values one combined statement carries at most (one row may exceed it alone).
/// sqlx sets no `TCP_NODELAY`, and over TLS (sqlx's default `sslmode=prefer`) a message
/// longer than one 16 KiB record goes out as several writes: Nagle's algorithm holds the
/// last until the server ACKs the first, and the server delays that ACK, 40 ms on Linux.
/// A group commit batch of 16 bids written as one 40 KB statement waited 40 ms every time
/// (309 bids/s instead of 2,700 over the Unix socket); 8 KiB of values keep the `Bind`
/// message, with its per-parameter overhead, inside one record.
const BYTES_PER_STATEMENT: usize = 8 * 1024;

/// What a value adds to a statement, roughly: its text or bytes, or a word.
fn value_bytes(v: &Value) -> usize {
    match v {
        Value::String(Some(s)) => s.len() + 4,
        Value::Bytes(Some(b)) => b.len() + 4,
        _ => 8,
    }
}

/// One statement of a combined write.
struct Piece {
    statement: SubQueryStatement,
    /// The tender a guarded `UPDATE` protects: it must change exactly one row, or another
    /// writer moved the tender on (and the conflict names it).
    guards: Option<String>,
    /// Bytes of values it carries, roughly.
    bytes: usize,
}

/// The rows a batch writes, in order.
#[derive(Default)]
pub(crate) struct Writes {
    events: Vec<Vec<Value>>,
    commands: Vec<Vec<Value>>,
    outbox: Vec<Vec<Value>>,
    /// Projection rows: a created tender's `INSERT` or a guarded `UPDATE` per tender.
    projections: Vec<Piece>,
}

impl Writes {
    /// An event row, its values in [`crate::sql::EVENT_COLUMNS`] order.
    pub(crate) fn event(&mut self, row: Vec<Value>) {
        self.events.push(row);
    }

    /// A command record, its values in [`COMMAND_COLUMNS`] order.
    pub(crate) fn command(&mut self, row: Vec<Value>) {
        self.commands.push(row);
    }

    /// Queued messages, their values in the outbox's new-row order.
    pub(crate) fn outbox(&mut self, rows: Vec<Vec<Value>>) {
        self.outbox.extend(rows);
    }

    /// A created tender's projection row.
    pub(crate) fn create(&mut self, insert: sea_orm::sea_query::InsertStatement) {
        self.projections.push(Piece {
            statement: insert.into(),
            guards: None,
            bytes: 256,
        });
    }

    /// A projection `UPDATE` guarded by the sequence number the batch started from: it must
    /// change exactly one row, or `tender_id` moved on under the batch.
    pub(crate) fn update(&mut self, tender_id: &str, update: UpdateStatement) {
        self.projections.push(Piece {
            statement: update.into(),
            guards: Some(tender_id.to_owned()),
            bytes: 256,
        });
    }

    /// Writes everything held, in as few statements as the backend allows. A unique key
    /// violation (a command id or an event sequence number taken by another writer) and a
    /// guarded update that found no row both come back as [`StoreError::Conflict`] (and so
    /// does a deadlock with another writer, see [`crate::sql::lost_a_race`]); the
    /// caller's transaction is then rolled back and the batch retried.
    pub(crate) async fn flush<C: ConnectionTrait>(self, conn: &C) -> Result<()> {
        write_groups(conn, groups(self.pieces())).await
    }

    /// Writes everything held when no transaction has begun (see [`crate::lazy`]): as one
    /// statement with no `BEGIN` or `COMMIT` around it when everything fits one statement
    /// (whatever the number of tenders whose projections it guards); otherwise in a
    /// transaction, as [`Writes::flush`]. One statement is atomic on its own: on PostgreSQL
    /// one autocommit data-modifying `WITH`, on SQLite `BEGIN IMMEDIATE; …; COMMIT` in one
    /// execution on a connection held until it ends. A guarded `UPDATE` that finds no row
    /// makes the statement fail, so that nothing is written; that failure, like a unique key
    /// taken, comes back as [`StoreError::Conflict`].
    pub(crate) async fn write_alone(self, store: &crate::Store) -> Result<()> {
        let mut groups = groups(self.pieces());
        if groups.len() > 1 {
            let txn = store.begin_write().await?;
            write_groups(&txn, groups).await?;
            txn.commit().await?;
            return Ok(());
        }
        let Some(group) = groups.pop() else {
            return Ok(());
        };
        let failed = match store.backend() {
            DbBackend::Postgres => write_group(&store.db, &group).await,
            _ => {
                let pool = store.db.get_sqlite_connection_pool();
                sqlite_alone(pool.clone(), &group).await
            }
        };
        failed.map_err(|e| lost(e, store.backend(), &group))
    }

    fn pieces(self) -> Vec<Piece> {
        let mut pieces = Vec::new();
        inserts(
            &mut pieces,
            Events::Table,
            &crate::sql::EVENT_COLUMNS,
            self.events,
        );
        inserts(
            &mut pieces,
            Commands::Table,
            &COMMAND_COLUMNS,
            self.commands,
        );
        inserts(
            &mut pieces,
            Outbox::Table,
            &crate::outbox::NEW_ROW,
            self.outbox,
        );
        pieces.extend(self.projections);
        pieces
    }
}

/// The pieces in groups of one statement each: at most [`PIECES_PER_STATEMENT`] pieces and,
/// unless one piece is larger alone, [`BYTES_PER_STATEMENT`] bytes.
fn groups(pieces: Vec<Piece>) -> Vec<Vec<Piece>> {
    let mut groups: Vec<Vec<Piece>> = Vec::new();
    let mut bytes = 0;
    for piece in pieces {
        match groups.last_mut() {
            Some(group)
                if group.len() < PIECES_PER_STATEMENT
                    && bytes + piece.bytes <= BYTES_PER_STATEMENT =>
            {
                bytes += piece.bytes;
                group.push(piece);
            }
            _ => {
                bytes = piece.bytes;
                groups.push(vec![piece]);
            }
        }
    }
    groups
}

/// Sends each group as one statement, in order (see [`write_group`]).
async fn write_groups<C: ConnectionTrait>(conn: &C, groups: Vec<Vec<Piece>>) -> Result<()> {
    for group in groups {
        write_group(conn, &group)
            .await
            .map_err(|e| lost(e, conn.get_database_backend(), &group))?;
    }
    Ok(())
}

/// PostgreSQL's SQLSTATE for division by zero: a guard's failure (see [`postgres`]).
const DIVISION_BY_ZERO: &str = "22012";

/// What SQLite says when a guard fails (see [`sqlite`]).
const INTEGER_OVERFLOW: &str = "integer overflow";

/// What a failed write of `group` means: [`StoreError::Conflict`] when a guard found its
/// tender moved on or another writer got there first (see [`crate::sql::lost_a_race`]),
/// naming the group's first guarded tender; otherwise the database's error.
fn lost(e: sea_orm::DbErr, backend: DbBackend, group: &[Piece]) -> StoreError {
    let guard = match backend {
        DbBackend::Postgres => crate::sql::sqlstate(&e).as_deref() == Some(DIVISION_BY_ZERO),
        _ => e.to_string().contains(INTEGER_OVERFLOW),
    };
    if guard || crate::sql::lost_a_race(&e) {
        return StoreError::Conflict {
            tender_id: group
                .iter()
                .find_map(|p| p.guards.clone())
                .unwrap_or_default(),
        };
    }
    StoreError::Db(e)
}

/// PostgreSQL, one statement: every piece a data-modifying common table expression, each
/// guarded `UPDATE` returning its row as `g0`, `g1`, …, and the main query
/// `SELECT 1 / COUNT(*) FROM g0, g1, …`: the guards' rows cross-joined, one row when every
/// guard found its row and none when any did not, which divides by zero. The error aborts
/// the statement, and with it every `INSERT` of the `WITH`; nothing is written.
fn postgres(group: &[Piece]) -> (String, Values) {
    let mut with = WithClause::new();
    let mut main = Query::select();
    let mut guards = 0;
    for (i, p) in group.iter().enumerate() {
        let (name, statement) = match (&p.statement, &p.guards) {
            (SubQueryStatement::UpdateStatement(u), Some(_)) => {
                let mut u = u.clone();
                u.returning(Query::returning().expr(Expr::val(1)));
                let name = format!("g{guards}");
                main.from(Alias::new(name.as_str()));
                guards += 1;
                (name, SubQueryStatement::UpdateStatement(u))
            }
            (s, _) => (format!("w{i}"), s.clone()),
        };
        with.cte(
            CommonTableExpression::new()
                .query(statement)
                .table_name(Alias::new(name))
                .to_owned(),
        );
    }
    let main = if guards > 0 {
        main.expr(Expr::val(1).div(Func::count(Expr::col(Asterisk))))
            .to_owned()
    } else {
        Query::select().expr(Expr::val(1)).to_owned()
    };
    with.query(main).build(PostgresQueryBuilder)
}

/// SQLite, one execution: the pieces in order (positional parameters bind across
/// statements), each guarded `UPDATE` followed by
/// `SELECT CASE WHEN changes() = 1 THEN 0 ELSE abs(-9223372036854775808) END`: the absolute
/// value of the smallest integer is an integer overflow, an error that stops the execution,
/// unless the `UPDATE` changed one row.
fn sqlite(group: &[Piece]) -> (String, Vec<Value>) {
    let mut sql = String::new();
    let mut values = Vec::new();
    for p in group {
        let (s, v) = build(&p.statement, SqliteQueryBuilder);
        sql.push_str(&s);
        sql.push_str(";\n");
        values.extend(v.0);
        if p.guards.is_some() {
            let guard = Query::select()
                .expr(
                    Expr::case(Expr::expr(Func::cust(Alias::new("changes"))).eq(1), 0)
                        .finally(Func::abs(Expr::val(i64::MIN))),
                )
                .to_owned();
            let (s, v) = guard.build(SqliteQueryBuilder);
            sql.push_str(&s);
            sql.push_str(";\n");
            values.extend(v.0);
        }
    }
    (sql, values)
}

/// SQLite, no transaction begun: `BEGIN IMMEDIATE`, the pieces (see [`sqlite`]), `COMMIT`,
/// as one execution on one connection. A failed guard stops the execution before `COMMIT`,
/// and the connection rolls back before it goes back to the pool. The work runs as its own
/// task, so that a caller that gives up cannot leave the connection inside a transaction.
async fn sqlite_alone(
    pool: sea_orm::sqlx::SqlitePool,
    group: &[Piece],
) -> std::result::Result<(), sea_orm::DbErr> {
    let (body, values) = sqlite(group);
    let sql = format!("BEGIN IMMEDIATE;\n{body}COMMIT;");
    let task = tokio::spawn(async move {
        use sea_orm::sqlx::{AssertSqlSafe, Executor, query_with};
        let mut conn = pool.acquire().await?;
        let done = conn
            .execute(query_with(
                AssertSqlSafe(sql),
                sea_query_sqlx::SqlxValues(Values(values)),
            ))
            .await;
        if done.is_err() {
            // Whatever failed, nothing stays open; "no transaction is active" is fine too.
            let _ = conn.execute(AssertSqlSafe("ROLLBACK")).await;
        }
        done.map(|_| ())
    });
    match task.await {
        Ok(done) => done.map_err(|e| {
            sea_orm::DbErr::Exec(sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(e)))
        }),
        Err(join) => Err(sea_orm::DbErr::Custom(format!(
            "the write task ended: {join}"
        ))),
    }
}

/// The columns of a command record, in the order [`Writes::command`] takes them.
pub(crate) const COMMAND_COLUMNS: [Commands; 6] = [
    Commands::CommandId,
    Commands::TenderId,
    Commands::FirstSeq,
    Commands::LastSeq,
    Commands::CreatedMs,
    Commands::Fingerprint,
];

/// The rows as `INSERT`s of at most [`ROWS_PER_INSERT`] rows and, unless one row is larger
/// alone, [`BYTES_PER_STATEMENT`] bytes.
fn inserts<T: IntoIden + Copy + 'static>(
    pieces: &mut Vec<Piece>,
    table: T,
    cols: &[T],
    rows: Vec<Vec<Value>>,
) {
    let mut chunk: Vec<Vec<Value>> = Vec::new();
    let mut bytes = 0;
    let mut push = |chunk: Vec<Vec<Value>>, bytes: usize| {
        pieces.push(Piece {
            statement: insert_rows(table, cols.iter().copied(), chunk).into(),
            guards: None,
            bytes,
        });
    };
    for row in rows {
        let size: usize = row.iter().map(value_bytes).sum();
        if !chunk.is_empty()
            && (chunk.len() == ROWS_PER_INSERT || bytes + size > BYTES_PER_STATEMENT)
        {
            push(std::mem::take(&mut chunk), bytes);
            bytes = 0;
        }
        bytes += size;
        chunk.push(row);
    }
    if !chunk.is_empty() {
        push(chunk, bytes);
    }
}

/// Sends one group of pieces as one statement (see [`postgres`] and [`sqlite`]): inside a
/// transaction, or on PostgreSQL alone, where one statement is atomic by itself.
async fn write_group<C: ConnectionTrait>(
    conn: &C,
    group: &[Piece],
) -> std::result::Result<(), sea_orm::DbErr> {
    let backend = conn.get_database_backend();
    let (sql, values) = match backend {
        DbBackend::Postgres => {
            let (sql, values) = postgres(group);
            (sql, values.0)
        }
        _ => sqlite(group),
    };
    conn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await
        .map(|_| ())
}

fn build<B: sea_orm::sea_query::QueryBuilder>(
    s: &SubQueryStatement,
    builder: B,
) -> (String, Values) {
    match s {
        SubQueryStatement::SelectStatement(q) => q.build(builder),
        SubQueryStatement::InsertStatement(q) => q.build(builder),
        SubQueryStatement::UpdateStatement(q) => q.build(builder),
        SubQueryStatement::DeleteStatement(q) => q.build(builder),
        SubQueryStatement::WithStatement(q) => q.build(builder),
    }
}
