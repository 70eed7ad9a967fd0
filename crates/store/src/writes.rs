//! A batch's writes, held until everything in it is decided and then sent as few statements
//! as the backend allows: on PostgreSQL one data-modifying `WITH` (the event, command and
//! outbox `INSERT`s as common table expressions of the projection's guarded `UPDATE`), on
//! SQLite one multi-statement execution (one hand-off to the connection's worker thread
//! instead of one per statement). A command that used to cost five or six statements inside
//! its transaction now costs one.

use crate::sql::{Commands, Events, Outbox, ROWS_PER_INSERT, insert_rows};
use crate::{Result, StoreError};
use sea_orm::sea_query::{
    CommonTableExpression, IntoIden, PostgresQueryBuilder, SqliteQueryBuilder, SubQueryStatement,
    UpdateStatement, Values, WithClause,
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
    /// guarded update that found no row both come back as [`StoreError::Conflict`]; the
    /// caller's transaction is then rolled back and the batch retried.
    pub(crate) async fn flush<C: ConnectionTrait>(self, conn: &C) -> Result<()> {
        let mut group: Vec<Piece> = Vec::new();
        let mut bytes = 0;
        for piece in self.pieces() {
            if !group.is_empty()
                && (group.len() == PIECES_PER_STATEMENT
                    || bytes + piece.bytes > BYTES_PER_STATEMENT)
            {
                write_group(conn, std::mem::take(&mut group)).await?;
                bytes = 0;
            }
            bytes += piece.bytes;
            group.push(piece);
        }
        if !group.is_empty() {
            write_group(conn, group).await?;
        }
        Ok(())
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
        Err(e) if crate::sql::is_unique_violation(&e) => Err(conflict(guarded.first())),
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
