//! A batch's writes, held until everything in it is decided and then sent as few statements
//! as the backend allows: on PostgreSQL one data-modifying `WITH` (the event, command and
//! outbox `INSERT`s as common table expressions of the projection's guarded `UPDATE`), on
//! SQLite one multi-statement execution (one hand-off to the connection's worker thread
//! instead of one per statement). A command that used to cost five or six statements inside
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

/// One statement of a combined write, and how many rows it must touch.
struct Piece {
    statement: SubQueryStatement,
    /// Rows an `INSERT` writes, or 1 for a guarded `UPDATE` that must match its row (0 rows
    /// means another writer moved the tender on).
    rows: u64,
    /// The tender a guarded `UPDATE` protects (its conflict names it).
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
            rows: 1,
            guards: None,
            bytes: 256,
        });
    }

    /// A projection `UPDATE` guarded by the sequence number the batch started from: it must
    /// change exactly one row, or `tender_id` moved on under the batch.
    pub(crate) fn update(&mut self, tender_id: &str, update: UpdateStatement) {
        self.projections.push(Piece {
            statement: update.into(),
            rows: 1,
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
    /// transaction, as [`Writes::flush`]. One statement is atomic on its own: on PostgreSQL one autocommit
    /// data-modifying `WITH`, on SQLite `BEGIN IMMEDIATE; …; COMMIT` in one execution on a
    /// connection held until it ends. The guarded `UPDATE` that finds no row makes the
    /// statement fail, so that nothing is written; that failure, like a unique key taken,
    /// comes back as [`StoreError::Conflict`].
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
        let conflict = || StoreError::Conflict {
            tender_id: group
                .iter()
                .find_map(|p| p.guards.clone())
                .unwrap_or_default(),
        };
        let failed = match store.backend() {
            DbBackend::Postgres => postgres_alone(&store.db, &group).await,
            _ => {
                let pool = store.db.get_sqlite_connection_pool();
                sqlite_alone(pool.clone(), &group).await
            }
        };
        match failed {
            Ok(()) => Ok(()),
            Err(Failure::Guard) => Err(conflict()),
            Err(Failure::Db(e)) if crate::sql::lost_a_race(&e) => Err(conflict()),
            Err(Failure::Db(e)) => Err(StoreError::Db(e)),
        }
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
        write_group(conn, group).await?;
    }
    Ok(())
}

/// Why a statement written alone failed.
enum Failure {
    /// The guarded `UPDATE` found no row: another writer moved the tender on.
    Guard,
    Db(sea_orm::DbErr),
}

/// PostgreSQL's SQLSTATE for division by zero: the guard's failure (see [`postgres_alone`]).
const DIVISION_BY_ZERO: &str = "22012";

/// PostgreSQL, no transaction: every piece a data-modifying common table expression, each
/// guarded `UPDATE` returning its row as `g0`, `g1`, …, and the main query
/// `SELECT 1 / COUNT(*) FROM g0, g1, …`: the guards' rows cross-joined, one row when every
/// guard found its row and none when any did not, which divides by zero. The error aborts
/// the statement, and with it every `INSERT` of the `WITH`; nothing is written.
async fn postgres_alone<C: ConnectionTrait>(
    conn: &C,
    group: &[Piece],
) -> std::result::Result<(), Failure> {
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
    let (sql, values) = with.query(main).build(PostgresQueryBuilder);
    match rows_on_postgres(conn, (sql, values)).await {
        Ok(_) => Ok(()),
        Err(e) if crate::sql::sqlstate(&e).as_deref() == Some(DIVISION_BY_ZERO) => {
            Err(Failure::Guard)
        }
        Err(e) => Err(Failure::Db(e)),
    }
}

/// What SQLite says when the guard fails (see [`sqlite_alone`]).
const INTEGER_OVERFLOW: &str = "integer overflow";

/// SQLite, no transaction begun: `BEGIN IMMEDIATE`, the pieces, `COMMIT`, as one execution on
/// one connection. Right after the guarded `UPDATE` comes
/// `SELECT CASE WHEN changes() = 1 THEN 0 ELSE abs(-9223372036854775808) END`: the absolute
/// value of the smallest integer is an integer overflow, an error, unless the `UPDATE`
/// changed one row. The execution stops at the first error, so `COMMIT` is never reached,
/// and the connection rolls back before it goes back to the pool.
/// The work runs as its own task, so that a caller that gives up cannot leave the
/// connection inside a transaction.
async fn sqlite_alone(
    pool: sea_orm::sqlx::SqlitePool,
    group: &[Piece],
) -> std::result::Result<(), Failure> {
    let mut sql = String::from("BEGIN IMMEDIATE;\n");
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
    sql.push_str("COMMIT;");
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
    let failed = match task.await {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e,
        Err(join) => {
            return Err(Failure::Db(sea_orm::DbErr::Custom(format!(
                "the write task ended: {join}"
            ))));
        }
    };
    let guard = failed
        .as_database_error()
        .is_some_and(|d| d.message().contains(INTEGER_OVERFLOW));
    if guard {
        return Err(Failure::Guard);
    }
    Err(Failure::Db(sea_orm::DbErr::Exec(
        sea_orm::RuntimeErr::SqlxError(std::sync::Arc::new(failed)),
    )))
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
            rows: chunk.len() as u64,
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

/// Sends one group of pieces as one statement and checks what it touched.
async fn write_group<C: ConnectionTrait>(conn: &C, group: Vec<Piece>) -> Result<()> {
    let guarded: Vec<String> = group.iter().filter_map(|p| p.guards.clone()).collect();
    let conflict = |tender_id: Option<&String>| StoreError::Conflict {
        tender_id: tender_id.cloned().unwrap_or_default(),
    };
    let outcome = match conn.get_database_backend() {
        DbBackend::Postgres => postgres(conn, group).await,
        _ => sqlite(conn, group).await,
    };
    match outcome {
        Ok(true) => Ok(()),
        Ok(false) => Err(conflict(guarded.first())),
        Err(e) if crate::sql::lost_a_race(&e) => Err(conflict(guarded.first())),
        Err(e) => Err(StoreError::Db(e)),
    }
}

/// PostgreSQL: every piece but the last as a data-modifying common table expression of the
/// last, which is a guarded `UPDATE` when the group has one (an `UPDATE` inside a `WITH`
/// reports its rows to no one, so the others run on their own). `Ok(false)` when a guarded
/// `UPDATE` found no row.
async fn postgres<C: ConnectionTrait>(
    conn: &C,
    group: Vec<Piece>,
) -> std::result::Result<bool, sea_orm::DbErr> {
    // The first guarded update is the main statement and the other rows its CTEs; guarded
    // updates beyond the first run alone, since each one's row count must be read.
    let mut main = None;
    let mut ctes = Vec::new();
    let mut extra = Vec::new();
    for p in group {
        match (&p.guards, &main) {
            (Some(_), None) => main = Some(p),
            (Some(_), Some(_)) => extra.push(p.statement),
            (None, _) => ctes.push(p),
        }
    }
    let Some(main) = main.or_else(|| ctes.pop()) else {
        return Ok(true);
    };
    let expect = main.rows;
    let main = main.statement;
    let group = ctes;
    let (sql, values) = if group.is_empty() {
        build(&main, PostgresQueryBuilder)
    } else {
        let mut with = WithClause::new();
        for (i, p) in group.into_iter().enumerate() {
            with.cte(
                CommonTableExpression::new()
                    .query(p.statement)
                    .table_name(sea_orm::sea_query::Alias::new(format!("w{i}")))
                    .to_owned(),
            );
        }
        with.query(main).build(PostgresQueryBuilder)
    };
    if rows_on_postgres(conn, (sql, values)).await? != expect {
        return Ok(false);
    }
    for update in extra {
        if rows_on_postgres(conn, build(&update, PostgresQueryBuilder)).await? != 1 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Runs one built statement on PostgreSQL; the rows it reports.
async fn rows_on_postgres<C: ConnectionTrait>(
    conn: &C,
    (sql, values): (String, Values),
) -> std::result::Result<u64, sea_orm::DbErr> {
    let done = conn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values.0,
        ))
        .await?;
    Ok(done.rows_affected())
}

/// SQLite: the pieces as one multi-statement execution (positional parameters bind across
/// statements in order); the rows reported are their sum, so a guarded `UPDATE` that found no
/// row shows as one row short. `Ok(false)` then.
async fn sqlite<C: ConnectionTrait>(
    conn: &C,
    group: Vec<Piece>,
) -> std::result::Result<bool, sea_orm::DbErr> {
    let expect: u64 = group.iter().map(|p| p.rows).sum();
    let mut sql = String::new();
    let mut values = Vec::new();
    for p in &group {
        let (s, v) = build(&p.statement, SqliteQueryBuilder);
        sql.push_str(&s);
        sql.push_str(";\n");
        values.extend(v.0);
    }
    let done = conn
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            values,
        ))
        .await?;
    Ok(done.rows_affected() == expect)
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
