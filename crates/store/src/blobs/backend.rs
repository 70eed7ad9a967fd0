//! Where files' bytes live: the [`BlobBackend`] trait and its two backends, the database
//! ([`DatabaseBlobs`], frames as rows) and object storage ([`ObjectBlobs`]).

use crate::sql::{BlobChunks, get};
use crate::{Result, StoreError};
use async_trait::async_trait;
use bytes::Bytes;
use object_store::ObjectStore;
use object_store::path::Path as ObjectPath;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait};
use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

/// Bytes of a file per frame.
pub const FRAME: u64 = 256 * 1024;

/// Bytes a sealed frame adds (the AES-GCM tag).
pub(crate) const TAG: u64 = 16;

/// Frames per statement on PostgreSQL (a message of about 2 MiB).
const FRAMES_PER_STATEMENT_PG: usize = 8;

/// Frames written per transaction by the database backend.
const FRAMES_PER_COMMIT: usize = 16;

/// Where the bytes of files live. Frames are written in order and read by number.
#[async_trait]
pub trait BlobBackend: Send + Sync + fmt::Debug {
    /// `database` or `objects`, as recorded with each file.
    fn kind(&self) -> &'static str;
    /// Starts writing the frames of file `id`.
    async fn writer(&self, db: &DatabaseConnection, id: &str) -> Result<Box<dyn FrameWriter>>;
    /// Frames `frames` of file `id`, whose stored frames are `frame_len` bytes (the last one
    /// may be shorter) and `stored_len` bytes in all.
    async fn read(
        &self,
        db: &DatabaseConnection,
        id: &str,
        frames: Range<u64>,
        frame_len: u64,
        stored_len: u64,
    ) -> Result<Vec<Bytes>>;
    /// Removes file `id`'s bytes (nothing to remove is fine), with what an interrupted
    /// upload of it left behind.
    async fn remove(&self, db: &DatabaseConnection, id: &str) -> Result<()>;
    /// The ids of every file with bytes here (also those an interrupted upload left), so the
    /// audit can name bytes no row explains.
    async fn ids(&self, db: &DatabaseConnection) -> Result<Vec<String>>;
}

/// Writes one file's frames; nothing is visible as complete before `finish`.
#[async_trait]
pub trait FrameWriter: Send {
    /// Writes the next frame.
    async fn write(&mut self, frame: Vec<u8>) -> Result<()>;
    /// Makes every frame durable.
    async fn finish(self: Box<Self>) -> Result<()>;
    /// Gives up: what was written is removed (best effort; the sweep removes the rest).
    async fn abort(self: Box<Self>);
}

/// The database backend: one `blob_chunks` row per frame.
#[derive(Debug, Default, Clone, Copy)]
pub struct DatabaseBlobs;

struct DatabaseWriter {
    db: DatabaseConnection,
    id: String,
    next: i64,
    pending: Vec<(i64, Vec<u8>)>,
}

impl DatabaseWriter {
    async fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // SQLite: a statement per frame in one transaction (the fastest there). PostgreSQL:
        // statements of several frames, because the driver does not disable Nagle's
        // algorithm and a large message's last TCP segment may wait for the server's delayed
        // ACK (~40 ms on Linux) — per statement, not per byte (see docs/PERFORMANCE.md).
        let per_statement = if self.db.get_database_backend() == DbBackend::Postgres {
            FRAMES_PER_STATEMENT_PG
        } else {
            1
        };
        let txn = self.db.begin().await?;
        let mut rows = std::mem::take(&mut self.pending).into_iter().peekable();
        while rows.peek().is_some() {
            let mut q = Query::insert();
            q.into_table(BlobChunks::Table).columns([
                BlobChunks::BlobId,
                BlobChunks::N,
                BlobChunks::Data,
            ]);
            for (n, data) in rows.by_ref().take(per_statement) {
                q.values_panic([self.id.as_str().into(), n.into(), data.into()]);
            }
            txn.execute(&q).await?;
        }
        txn.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl FrameWriter for DatabaseWriter {
    async fn write(&mut self, frame: Vec<u8>) -> Result<()> {
        self.pending.push((self.next, frame));
        self.next += 1;
        if self.pending.len() >= FRAMES_PER_COMMIT {
            self.flush().await?;
        }
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<()> {
        self.flush().await
    }

    async fn abort(self: Box<Self>) {
        if let Err(e) = DatabaseBlobs.remove(&self.db, &self.id).await {
            tracing::warn!(blob = %self.id, error = %e, "could not remove an aborted upload's frames");
        }
    }
}

#[async_trait]
impl BlobBackend for DatabaseBlobs {
    fn kind(&self) -> &'static str {
        "database"
    }

    async fn writer(&self, db: &DatabaseConnection, id: &str) -> Result<Box<dyn FrameWriter>> {
        Ok(Box::new(DatabaseWriter {
            db: db.clone(),
            id: id.to_owned(),
            next: 0,
            pending: Vec::with_capacity(FRAMES_PER_COMMIT),
        }))
    }

    async fn read(
        &self,
        db: &DatabaseConnection,
        id: &str,
        frames: Range<u64>,
        _frame_len: u64,
        _stored_len: u64,
    ) -> Result<Vec<Bytes>> {
        let q = Query::select()
            .columns([BlobChunks::N, BlobChunks::Data])
            .from(BlobChunks::Table)
            .and_where(Expr::col(BlobChunks::BlobId).eq(id))
            .and_where(Expr::col(BlobChunks::N).gte(frames.start as i64))
            .and_where(Expr::col(BlobChunks::N).lt(frames.end as i64))
            .order_by(BlobChunks::N, sea_orm::sea_query::Order::Asc)
            .to_owned();
        let rows = db.query_all(&q).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (want, row) in frames.zip(rows.iter()) {
            let n: i64 = get(row, BlobChunks::N)?;
            if n as u64 != want {
                return Err(missing_frame(id, want));
            }
            out.push(Bytes::from(get::<Vec<u8>>(row, BlobChunks::Data)?));
        }
        Ok(out)
    }

    async fn remove(&self, db: &DatabaseConnection, id: &str) -> Result<()> {
        let q = Query::delete()
            .from_table(BlobChunks::Table)
            .and_where(Expr::col(BlobChunks::BlobId).eq(id))
            .to_owned();
        db.execute(&q).await?;
        Ok(())
    }

    async fn ids(&self, db: &DatabaseConnection) -> Result<Vec<String>> {
        let q = Query::select()
            .distinct()
            .column(BlobChunks::BlobId)
            .from(BlobChunks::Table)
            .to_owned();
        db.query_all(&q)
            .await?
            .iter()
            .map(|r| get(r, BlobChunks::BlobId))
            .collect()
    }
}

pub(crate) fn missing_frame(id: &str, n: u64) -> StoreError {
    StoreError::Corrupt {
        what: format!("document `{id}`: frame {n} is missing"),
        source: None,
    }
}

/// The object-storage backend: one object per file under `documents/`, its frames end to
/// end; written with a multipart upload that becomes visible only when complete.
#[derive(Debug, Clone)]
pub struct ObjectBlobs {
    store: Arc<dyn ObjectStore>,
    /// The directory, for a local one: completed files are synced to disk before they are
    /// acknowledged, and an interrupted upload's staging file is found and removed.
    root: Option<PathBuf>,
}

impl ObjectBlobs {
    /// Files in `store` (e.g. `object_store::aws::AmazonS3`; an S3 bucket should expire
    /// incomplete multipart uploads with a lifecycle rule).
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store, root: None }
    }

    /// Files in a local directory (created if missing).
    pub fn directory(dir: &std::path::Path) -> Result<Self> {
        let docs = dir.join("documents");
        std::fs::create_dir_all(&docs).map_err(|e| StoreError::io(&docs, e))?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
            .map_err(|e| object_error("open the document directory", e))?;
        Ok(Self {
            store: Arc::new(fs),
            root: Some(dir.to_owned()),
        })
    }

    /// Staging files an interrupted upload of `id` left in a local directory
    /// (`documents/{id}#…`), or every one with `id` empty.
    fn staging(&self, id: &str) -> Vec<PathBuf> {
        let Some(root) = &self.root else {
            return Vec::new();
        };
        let prefix = format!("{id}#");
        std::fs::read_dir(root.join("documents"))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.contains('#') && name.starts_with(&prefix)
            })
            .map(|e| e.path())
            .collect()
    }

    fn path(id: &str) -> ObjectPath {
        ObjectPath::from(format!("documents/{id}"))
    }
}

fn object_error(what: &str, e: object_store::Error) -> StoreError {
    StoreError::Objects {
        what: what.to_owned(),
        source: Box::new(e),
    }
}

struct ObjectWriter {
    upload: object_store::WriteMultipart,
    /// The finished file in a local directory, synced before the upload is acknowledged.
    durable: Option<PathBuf>,
}

#[async_trait]
impl FrameWriter for ObjectWriter {
    async fn write(&mut self, frame: Vec<u8>) -> Result<()> {
        // Bounded memory: at most a few parts in flight.
        self.upload
            .wait_for_capacity(2)
            .await
            .map_err(|e| object_error("write a document", e))?;
        self.upload.write(&frame);
        Ok(())
    }

    async fn finish(self: Box<Self>) -> Result<()> {
        self.upload
            .finish()
            .await
            .map_err(|e| object_error("complete a document", e))?;
        if let Some(path) = self.durable {
            tokio::task::spawn_blocking(move || {
                std::fs::File::open(&path)
                    .and_then(|f| f.sync_all())
                    .and_then(|()| match path.parent() {
                        Some(dir) => std::fs::File::open(dir).and_then(|d| d.sync_all()),
                        None => Ok(()),
                    })
                    .map_err(|e| StoreError::io(&path, e))
            })
            .await
            .map_err(|e| StoreError::Upload(e.to_string()))??;
        }
        Ok(())
    }

    async fn abort(self: Box<Self>) {
        if let Err(e) = self.upload.abort().await {
            tracing::warn!(error = %e, "could not abort a document upload");
        }
    }
}

#[async_trait]
impl BlobBackend for ObjectBlobs {
    fn kind(&self) -> &'static str {
        "objects"
    }

    async fn writer(&self, _db: &DatabaseConnection, id: &str) -> Result<Box<dyn FrameWriter>> {
        let upload = self
            .store
            .put_multipart(&Self::path(id))
            .await
            .map_err(|e| object_error("start a document upload", e))?;
        Ok(Box::new(ObjectWriter {
            upload: object_store::WriteMultipart::new_with_chunk_size(upload, 5 * 1024 * 1024),
            durable: self.root.as_ref().map(|r| r.join("documents").join(id)),
        }))
    }

    async fn read(
        &self,
        _db: &DatabaseConnection,
        id: &str,
        frames: Range<u64>,
        frame_len: u64,
        stored_len: u64,
    ) -> Result<Vec<Bytes>> {
        let start = frames.start * frame_len;
        let end = std::cmp::min(frames.end * frame_len, stored_len);
        if start >= end {
            return Ok(Vec::new());
        }
        let bytes = self
            .store
            .get_range(&Self::path(id), start..end)
            .await
            .map_err(|e| match e {
                object_store::Error::NotFound { .. } => missing_frame(id, frames.start),
                e => object_error("read a document", e),
            })?;
        if bytes.len() as u64 != end - start {
            return Err(missing_frame(id, frames.start));
        }
        Ok((0..bytes.len())
            .step_by(frame_len as usize)
            .map(|i| bytes.slice(i..(i + frame_len as usize).min(bytes.len())))
            .collect())
    }

    async fn remove(&self, _db: &DatabaseConnection, id: &str) -> Result<()> {
        for staged in self.staging(id) {
            std::fs::remove_file(&staged).map_err(|e| StoreError::io(&staged, e))?;
        }
        match self.store.delete(&Self::path(id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(object_error("remove a document", e)),
        }
    }

    async fn ids(&self, _db: &DatabaseConnection) -> Result<Vec<String>> {
        use futures_util::TryStreamExt;
        let mut ids: Vec<String> = self
            .store
            .list(Some(&ObjectPath::from("documents")))
            .map_ok(|m| m.location.filename().unwrap_or_default().to_owned())
            .try_collect()
            .await
            .map_err(|e| object_error("list the documents", e))?;
        ids.extend(self.staging("").iter().filter_map(|p| {
            let name = p.file_name()?.to_string_lossy().into_owned();
            Some(name.split('#').next()?.to_owned())
        }));
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}
