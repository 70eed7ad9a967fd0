//! Stored files: tender documents (public) and bid documents (sealed with the tender's data
//! key until opening). A file is cut into frames of [`FRAME`] bytes and streamed through a
//! [`BlobBackend`]: the database itself (the embedded default: one row per frame, so SQLite
//! works alone and servers sharing a PostgreSQL share files) or object storage
//! ([`ObjectBlobs`]: a local directory or an S3-compatible bucket). What a file is (tender,
//! owner, size, hashes, state) is always a row of `blobs`, whichever backend holds its bytes.
//!
//! An upload is a `partial` row until its last frame is written, then `stored` (acknowledged:
//! the caller gets its [`Document`]), then `attached` once an event references it. Nothing
//! is acknowledged before its bytes are durable; a failed upload removes what it wrote, and
//! one cut off by a crash stays `partial`, which [`Store::sweep_blobs`] removes and `audit
//! verify` reports as never acknowledged.

use crate::sql::{Blobs, get};
use crate::{Result, Store, StoreError, crypto};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use std::sync::Arc;
use tenderflow_core::model::Document;
use tenderflow_core::{Rejection, RejectionCode};

mod backend;
mod read;
mod write;

use backend::TAG;
pub use backend::{BlobBackend, DatabaseBlobs, FRAME, FrameWriter, ObjectBlobs};

/// A file to store.
#[derive(Debug, Clone)]
pub struct NewBlob {
    /// The tender it belongs to.
    pub tender_id: String,
    /// Who uploads it.
    pub owner: String,
    /// Whether it is sealed until opening (a bid's document).
    pub sealed: bool,
    /// File name.
    pub name: String,
    /// Media type.
    pub media_type: String,
    /// Largest size accepted; a longer upload is refused and nothing is kept.
    pub max_bytes: u64,
}

/// What the store holds about a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRow {
    /// Id.
    pub id: String,
    /// Tender.
    pub tender_id: String,
    /// Who uploaded it.
    pub owner: String,
    /// Sealed until opening.
    pub sealed: bool,
    /// `partial`, `stored` or `attached`.
    pub state: String,
    /// `database` or `objects`.
    pub backend: String,
    /// Size, bytes.
    pub size: u64,
    /// Frames.
    pub frames: u64,
    /// SHA-256 of the stored bytes.
    pub stored_sha256: Option<String>,
    /// Public files: SHA-256, name, media type.
    pub sha256: Option<String>,
    /// Public files: name.
    pub name: Option<String>,
    /// Public files: media type.
    pub media_type: Option<String>,
    sealed_meta: Option<String>,
    nonce: Option<String>,
    /// Created at, ms.
    pub created_ms: i64,
}

impl BlobRow {
    fn stored_frame_len(&self) -> u64 {
        if self.sealed { FRAME + TAG } else { FRAME }
    }

    fn stored_len(&self) -> u64 {
        if self.sealed {
            self.size + self.frames * TAG
        } else {
            self.size
        }
    }

    fn bind(&self) -> String {
        format!("{}/{}", self.tender_id, self.id)
    }
}

/// A sealed file's description, kept encrypted.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealedMeta {
    name: String,
    media_type: String,
    sha256: String,
}

fn meta_aad(id: &str) -> Vec<u8> {
    format!("tenderflow document meta v1\0{id}").into_bytes()
}

impl Store {
    /// The backend new files are written to.
    pub fn blob_backend(&self) -> &Arc<dyn BlobBackend> {
        &self.blobs
    }

    /// Uses `backend` for new files; files already stored are read from the backend their
    /// row names, so the database backend stays readable after a switch.
    pub fn with_blob_backend(mut self, backend: Arc<dyn BlobBackend>) -> Self {
        self.blobs = backend;
        self
    }

    fn backend_of(&self, kind: &str) -> Result<Arc<dyn BlobBackend>> {
        if self.blobs.kind() == kind {
            Ok(self.blobs.clone())
        } else if kind == "database" {
            Ok(Arc::new(DatabaseBlobs))
        } else {
            Err(StoreError::Corrupt {
                what: format!(
                    "a document is kept in `{kind}`, which this server is not configured for (see --documents)"
                ),
                source: None,
            })
        }
    }

    /// The row of file `id`.
    pub async fn blob(&self, id: &str) -> Result<Option<BlobRow>> {
        self.blob_in(&self.db, id).await
    }

    async fn blob_in<C: ConnectionTrait>(&self, conn: &C, id: &str) -> Result<Option<BlobRow>> {
        let q = select_blobs()
            .and_where(Expr::col(Blobs::BlobId).eq(id))
            .to_owned();
        conn.query_one(&q).await?.map(|r| blob_row(&r)).transpose()
    }

    /// Every file's row (for the audit), oldest first.
    pub async fn blobs(&self) -> Result<Vec<BlobRow>> {
        let q = select_blobs()
            .order_by(Blobs::CreatedMs, sea_orm::sea_query::Order::Asc)
            .to_owned();
        self.db.query_all(&q).await?.iter().map(blob_row).collect()
    }

    fn open_meta(&self, key: &[u8; 32], row: &BlobRow) -> Result<SealedMeta> {
        let sealed = row
            .sealed_meta
            .as_deref()
            .ok_or_else(|| StoreError::Corrupt {
                what: format!("document `{}` has no sealed description", row.id),
                source: None,
            })?;
        let plain = crypto::open_with(key, &meta_aad(&row.id), sealed)?;
        serde_json::from_slice(&plain).map_err(|e| StoreError::Corrupt {
            what: format!("document `{}`: its sealed description", row.id),
            source: Some(Box::new(e)),
        })
    }

    /// Checks that the documents `events` reference are stored files of this tender that
    /// match their descriptions (a bid's: sealed, uploaded by the bidder), inside the
    /// command's transaction; then marks them attached. A mismatch is a rejection and
    /// nothing is written.
    pub(crate) async fn attach_documents<C: ConnectionTrait>(
        &self,
        txn: &C,
        tender_id: &str,
        seq: i64,
        events: &[tenderflow_core::Event],
    ) -> Result<std::result::Result<(), Rejection>> {
        use tenderflow_core::EventBody as E;
        let mut attached: Vec<(&str, i64)> = Vec::new();
        for (i, e) in events.iter().enumerate() {
            let (docs, sealed): (&[Document], bool) = match &e.body {
                E::AnnouncementPublished { documents, .. }
                | E::AmendmentPublished { documents, .. }
                | E::QuestionAnswered { documents, .. } => (documents, false),
                E::BidSubmitted { documents, .. } | E::BidReplaced { documents, .. } => {
                    (documents, true)
                }
                _ => continue,
            };
            for d in docs {
                let unknown = |why: &str| {
                    Rejection::new(
                        RejectionCode::UnknownDocument,
                        format!("document `{}` ({}): {why}", d.id, d.name),
                    )
                };
                let Some(row) = self.blob_in(txn, &d.id).await? else {
                    return Ok(Err(unknown("no such upload")));
                };
                if row.tender_id != tender_id || row.state == "partial" {
                    return Ok(Err(unknown("no such upload for this tender")));
                }
                if row.sealed != sealed {
                    return Ok(Err(unknown(if sealed {
                        "a bid's document must be uploaded by the bidder, sealed"
                    } else {
                        "a bid's sealed upload cannot be published"
                    })));
                }
                if sealed && row.owner != e.actor.id.as_str() {
                    return Ok(Err(unknown("uploaded by someone else")));
                }
                let stored = if sealed {
                    let key = self.data_key(txn, tender_id).await?;
                    let m = self.open_meta(&key, &row)?;
                    (m.name, m.media_type, m.sha256)
                } else {
                    (
                        row.name.clone().unwrap_or_default(),
                        row.media_type.clone().unwrap_or_default(),
                        row.sha256.clone().unwrap_or_default(),
                    )
                };
                if stored != (d.name.clone(), d.media_type.clone(), d.sha256.clone())
                    || row.size != d.size
                {
                    return Ok(Err(unknown(
                        "its name, type, size or SHA-256 differ from the upload's",
                    )));
                }
            }
            attached.extend(docs.iter().map(|d| (d.id.as_str(), seq + i as i64)));
        }
        for (id, seq) in attached {
            let q = Query::update()
                .table(Blobs::Table)
                .value(Blobs::State, "attached")
                .value(Blobs::EventSeq, seq)
                .and_where(Expr::col(Blobs::BlobId).eq(id))
                .and_where(Expr::col(Blobs::State).eq("stored"))
                .to_owned();
            txn.execute(&q).await?;
        }
        Ok(Ok(()))
    }

    /// Removes uploads that can no longer be used: `partial` ones older than
    /// `partial_age_ms` (cut off by a crash or a dropped connection) and `stored` ones never
    /// attached older than `stored_age_ms`. Returns how many of each.
    pub async fn sweep_blobs(&self, partial_age_ms: i64, stored_age_ms: i64) -> Result<(u64, u64)> {
        let now = self.now_ms();
        let stale = |state: &str, age: i64| {
            Expr::col(Blobs::State)
                .eq(state)
                .and(Expr::col(Blobs::CreatedMs).lt(now.saturating_sub(age)))
        };
        // Only the rows to remove are read (this runs every few minutes).
        let q = select_blobs()
            .cond_where(
                sea_orm::sea_query::Cond::any()
                    .add(stale("partial", partial_age_ms))
                    .add(stale("stored", stored_age_ms)),
            )
            .to_owned();
        let rows: Vec<BlobRow> = self
            .db
            .query_all(&q)
            .await?
            .iter()
            .map(blob_row)
            .collect::<Result<_>>()?;
        let mut counts = (0, 0);
        for row in rows {
            // The row goes first, and only if its state is unchanged: a command that
            // attached the upload meanwhile keeps it. Bytes a crash leaves after this are
            // counted as unrecorded by the census.
            let q = Query::delete()
                .from_table(Blobs::Table)
                .and_where(Expr::col(Blobs::BlobId).eq(row.id.as_str()))
                .and_where(Expr::col(Blobs::State).eq(row.state.as_str()))
                .to_owned();
            let deleted = {
                let _gate = self.gate().await;
                self.db.execute(&q).await?.rows_affected()
            };
            if deleted == 0 {
                continue;
            }
            if let Ok(backend) = self.backend_of(&row.backend) {
                backend.remove(&self.db, &row.id).await?;
            }
            if row.state == "partial" {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        Ok(counts)
    }
}

/// Every column of `blobs`, in [`blob_row`]'s order.
fn select_blobs() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .columns([
            Blobs::BlobId,
            Blobs::TenderId,
            Blobs::Owner,
            Blobs::Sealed,
            Blobs::State,
            Blobs::Backend,
            Blobs::Size,
            Blobs::Frames,
            Blobs::StoredSha256,
            Blobs::Sha256,
            Blobs::Name,
            Blobs::MediaType,
            Blobs::SealedMeta,
            Blobs::Nonce,
            Blobs::CreatedMs,
        ])
        .from(Blobs::Table)
        .to_owned()
}

fn blob_row(r: &sea_orm::QueryResult) -> Result<BlobRow> {
    Ok(BlobRow {
        id: get(r, Blobs::BlobId)?,
        tender_id: get(r, Blobs::TenderId)?,
        owner: get(r, Blobs::Owner)?,
        sealed: get(r, Blobs::Sealed)?,
        state: get(r, Blobs::State)?,
        backend: get(r, Blobs::Backend)?,
        size: get::<i64>(r, Blobs::Size)? as u64,
        frames: get::<i64>(r, Blobs::Frames)? as u64,
        stored_sha256: get(r, Blobs::StoredSha256)?,
        sha256: get(r, Blobs::Sha256)?,
        name: get(r, Blobs::Name)?,
        media_type: get(r, Blobs::MediaType)?,
        sealed_meta: get(r, Blobs::SealedMeta)?,
        nonce: get(r, Blobs::Nonce)?,
        created_ms: get(r, Blobs::CreatedMs)?,
    })
}
