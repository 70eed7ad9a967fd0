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

use crate::sql::{Blobs, get, insert};
use crate::{CryptoError, Result, Store, StoreError, crypto};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;
use tenderflow_core::model::Document;
use tenderflow_core::{Rejection, RejectionCode};

mod backend;

pub use backend::{BlobBackend, DatabaseBlobs, FRAME, FrameWriter, ObjectBlobs};
use backend::{TAG, missing_frame};

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

/// Magic numbers of the media types whose content can be told from its first bytes.
fn looks_like(media_type: &str, head: &[u8]) -> Option<bool> {
    let zip = head.starts_with(b"PK\x03\x04");
    let ole = head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]);
    Some(match media_type {
        "application/pdf" => head.starts_with(b"%PDF-"),
        "image/png" => head.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => head.starts_with(&[0xFF, 0xD8, 0xFF]),
        "application/msword" | "application/vnd.ms-excel" => ole,
        t if t.starts_with("application/vnd.openxmlformats-officedocument.")
            || t.starts_with("application/vnd.oasis.opendocument.") =>
        {
            zip
        }
        _ => return None,
    })
}

fn refuse(code: RejectionCode, message: String) -> StoreError {
    StoreError::Rejected(Rejection::new(code, message))
}

fn new_id() -> String {
    format!("d-{}", uuid::Uuid::new_v4().simple())
}

/// Cuts a byte stream into frames of [`FRAME`] bytes, keeping one back so the last frame is
/// known as last when it is written.
struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    fn push(&mut self, mut bytes: &[u8], mut out: impl FnMut(Vec<u8>)) {
        while !bytes.is_empty() {
            if self.buf.len() as u64 == FRAME {
                out(std::mem::replace(
                    &mut self.buf,
                    Vec::with_capacity(FRAME as usize),
                ));
            }
            let room = FRAME as usize - self.buf.len();
            let take = room.min(bytes.len());
            self.buf.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
        }
    }
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

    /// The tender's data key, made now if it has none (a bid's first document can come
    /// before its first sealed bid).
    async fn data_key_now(&self, tender_id: &str) -> Result<[u8; 32]> {
        if let Some(k) = self.data_key_ro(&self.db, tender_id).await? {
            return Ok(k);
        }
        let _gate = self.gate().await;
        let txn = self.begin_write().await?;
        let made = self.data_key(&txn, tender_id).await;
        match made {
            Ok(k) => {
                txn.commit().await?;
                Ok(k)
            }
            Err(e) => {
                drop(txn);
                // Another process made it first.
                self.data_key_ro(&self.db, tender_id).await?.ok_or(e)
            }
        }
    }

    /// Stores a file from `body`, streaming: at most a few frames are in memory whatever its
    /// size. Returns the document's description once every byte is durable. A file over
    /// `max_bytes`, empty, or whose first bytes contradict its media type is refused, and
    /// nothing of it is kept.
    pub async fn put_blob<S, E>(&self, new: NewBlob, body: S) -> Result<Document>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let id = new_id();
        let key = if new.sealed {
            Some(self.data_key_now(&new.tender_id).await?)
        } else {
            None
        };
        let prefix = crypto::frame_nonce_prefix()?;
        let row = insert(
            Blobs::Table,
            [
                (Blobs::BlobId, id.as_str().into()),
                (Blobs::TenderId, new.tender_id.as_str().into()),
                (Blobs::Owner, new.owner.as_str().into()),
                (Blobs::Sealed, new.sealed.into()),
                (Blobs::State, "partial".into()),
                (Blobs::Backend, self.blobs.kind().into()),
                (Blobs::Size, 0i64.into()),
                (Blobs::Frames, 0i64.into()),
                (Blobs::CreatedMs, self.now_ms().into()),
                (Blobs::Nonce, new.sealed.then(|| hex::encode(prefix)).into()),
            ],
        );
        {
            let _gate = self.gate().await;
            self.db.execute(&row).await?;
        }
        let mut writer = self.blobs.writer(&self.db, &id).await?;
        let written = self
            .write_frames(&new, &id, key.as_ref(), &prefix, body, writer.as_mut())
            .await;
        let (size, frames, sha, stored_sha) = match written {
            Ok(w) => w,
            Err(e) => {
                writer.abort().await;
                self.forget_blob(&id).await;
                return Err(e);
            }
        };
        if let Err(e) = writer.finish().await {
            self.forget_blob(&id).await;
            return Err(e);
        }
        let mut done = Query::update()
            .table(Blobs::Table)
            .value(Blobs::State, "stored")
            .value(Blobs::Size, size as i64)
            .value(Blobs::Frames, frames as i64)
            .value(Blobs::StoredSha256, stored_sha.as_str())
            .and_where(Expr::col(Blobs::BlobId).eq(id.as_str()))
            .to_owned();
        match &key {
            Some(k) => {
                let meta = serde_json::to_vec(&SealedMeta {
                    name: new.name.clone(),
                    media_type: new.media_type.clone(),
                    sha256: sha.clone(),
                })
                .map_err(|e| StoreError::Corrupt {
                    what: "a document's description".into(),
                    source: Some(Box::new(e)),
                })?;
                done.value(
                    Blobs::SealedMeta,
                    crypto::seal_with(k, &meta_aad(&id), &meta)?,
                );
            }
            None => {
                done.value(Blobs::Sha256, sha.as_str())
                    .value(Blobs::Name, new.name.as_str())
                    .value(Blobs::MediaType, new.media_type.as_str());
            }
        }
        {
            let _gate = self.gate().await;
            self.db.execute(&done).await?;
        }
        Ok(Document {
            id,
            name: new.name,
            media_type: new.media_type,
            size,
            sha256: sha,
            slot: None,
            replaces: None,
        })
    }

    /// Frames `body` into `writer`: (size, frames, SHA-256 of the file, of the stored bytes).
    async fn write_frames<S, E>(
        &self,
        new: &NewBlob,
        id: &str,
        key: Option<&[u8; 32]>,
        prefix: &[u8; 8],
        body: S,
        writer: &mut dyn FrameWriter,
    ) -> Result<(u64, u64, String, String)>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let bind = format!("{}/{id}", new.tender_id);
        let mut plain_hash = Sha256::new();
        let mut stored_hash = Sha256::new();
        let mut framer = Framer {
            buf: Vec::with_capacity(FRAME as usize),
        };
        let (mut size, mut index) = (0u64, 0u64);
        let mut checked = false;
        let mut full = Vec::new();
        let mut body = std::pin::pin!(body);
        let mut emit = async |frame: Vec<u8>, last: bool, index: &mut u64| -> Result<()> {
            let stored = match key {
                Some(k) => crypto::seal_frame(k, prefix, &bind, *index, last, &frame)?,
                None => frame,
            };
            stored_hash.update(&stored);
            writer.write(stored).await?;
            *index += 1;
            Ok(())
        };
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| StoreError::Upload(e.to_string()))?;
            size += chunk.len() as u64;
            if size > new.max_bytes {
                return Err(refuse(
                    RejectionCode::DocumentTooLarge,
                    format!(
                        "`{}` is larger than the {} bytes accepted here",
                        new.name, new.max_bytes
                    ),
                ));
            }
            plain_hash.update(&chunk);
            framer.push(&chunk, |f| full.push(f));
            if !checked && (framer.buf.len() >= 8 || !full.is_empty()) {
                checked = true;
                let head = full.first().unwrap_or(&framer.buf);
                if looks_like(&new.media_type, head) == Some(false) {
                    return Err(refuse(
                        RejectionCode::DocumentTypeNotAllowed,
                        format!(
                            "`{}` is declared {} but its content is not",
                            new.name, new.media_type
                        ),
                    ));
                }
            }
            for f in full.drain(..) {
                emit(f, false, &mut index).await?;
            }
        }
        if size == 0 {
            return Err(refuse(
                RejectionCode::DocumentInvalid,
                format!("`{}` is empty", new.name),
            ));
        }
        if !checked && looks_like(&new.media_type, &framer.buf) == Some(false) {
            return Err(refuse(
                RejectionCode::DocumentTypeNotAllowed,
                format!(
                    "`{}` is declared {} but its content is not",
                    new.name, new.media_type
                ),
            ));
        }
        let last = std::mem::take(&mut framer.buf);
        emit(last, true, &mut index).await?;
        Ok((
            size,
            index,
            hex::encode(plain_hash.finalize()),
            hex::encode(stored_hash.finalize()),
        ))
    }

    /// Removes a file that will never be acknowledged (its row and bytes), logging failures:
    /// the sweep removes what is left.
    async fn forget_blob(&self, id: &str) {
        if let Err(e) = self.blobs.remove(&self.db, id).await {
            tracing::warn!(blob = %id, error = %e, "could not remove a failed upload's bytes");
        }
        let q = Query::delete()
            .from_table(Blobs::Table)
            .and_where(Expr::col(Blobs::BlobId).eq(id))
            .to_owned();
        let _gate = self.gate().await;
        if let Err(e) = self.db.execute(&q).await {
            tracing::warn!(blob = %id, error = %e, "could not remove a failed upload's row");
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

    /// A sealed file's description (name, media type, SHA-256), opened with the tender's
    /// data key; a public file's from its row.
    pub async fn blob_description(&self, row: &BlobRow) -> Result<Document> {
        let (name, media_type, sha256) = if row.sealed {
            let key = self
                .data_key_ro(&self.db, &row.tender_id)
                .await?
                .ok_or_else(|| StoreError::Corrupt {
                    what: format!("document `{}`: its tender has no data key", row.id),
                    source: None,
                })?;
            let meta = self.open_meta(&key, row)?;
            (meta.name, meta.media_type, meta.sha256)
        } else {
            (
                row.name.clone().unwrap_or_default(),
                row.media_type.clone().unwrap_or_default(),
                row.sha256.clone().unwrap_or_default(),
            )
        };
        Ok(Document {
            id: row.id.clone(),
            name,
            media_type,
            size: row.size,
            sha256,
            slot: None,
            replaces: None,
        })
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

    /// Frames `frames` of a stored file as the file's bytes: decrypted and authenticated
    /// frame by frame when sealed (`key` is the tender's data key).
    async fn plain_frames(
        &self,
        row: &BlobRow,
        key: Option<&[u8; 32]>,
        frames: Range<u64>,
    ) -> Result<Vec<Bytes>> {
        let backend = self.backend_of(&row.backend)?;
        let want = frames.end - frames.start;
        let first = frames.start;
        let stored = backend
            .read(
                &self.db,
                &row.id,
                frames,
                row.stored_frame_len(),
                row.stored_len(),
            )
            .await?;
        if stored.len() as u64 != want {
            return Err(missing_frame(&row.id, first + stored.len() as u64));
        }
        open_frames(row, key, first, stored)
    }
}

/// Stored frames (from `first` on) as the file's bytes: decrypted and authenticated when
/// the file is sealed.
fn open_frames(
    row: &BlobRow,
    key: Option<&[u8; 32]>,
    first: u64,
    stored: Vec<Bytes>,
) -> Result<Vec<Bytes>> {
    {
        if !row.sealed {
            return Ok(stored);
        }
        let corrupt = |what: String| StoreError::Corrupt { what, source: None };
        let key = key
            .ok_or_else(|| corrupt(format!("document `{}`: its tender has no data key", row.id)))?;
        let prefix: [u8; 8] = row
            .nonce
            .as_deref()
            .and_then(|h| hex::decode(h).ok())
            .and_then(|b| b.try_into().ok())
            .ok_or(CryptoError::TooShort)?;
        let bind = row.bind();
        stored
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let n = first + i as u64;
                crypto::open_frame(key, &prefix, &bind, n, n + 1 == row.frames, f)
                    .map(Bytes::from)
                    .map_err(|_| {
                        corrupt(format!(
                            "document `{}`: frame {n} does not decrypt (altered or moved)",
                            row.id
                        ))
                    })
            })
            .collect()
    }
}

impl Store {
    /// The bytes `range` of a stored file, as a stream of at most a few frames at a time;
    /// a sealed file is decrypted frame by frame (the caller decides who may read it).
    /// Every frame of a sealed file is authenticated, and a public file read whole is
    /// checked against its SHA-256 at its end: an altered byte ends the stream with an error.
    pub fn read_blob(
        self: &Arc<Self>,
        row: BlobRow,
        range: Range<u64>,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        let store = self.clone();
        let range = std::cmp::min(range.start, row.size)..std::cmp::min(range.end, row.size);
        let end = range.end.div_ceil(FRAME);
        let whole = range.start == 0 && range.end == row.size;
        struct St {
            next: u64,
            key: Option<Option<[u8; 32]>>,
            hash: Option<Sha256>,
            done: bool,
        }
        let st = St {
            next: range.start / FRAME,
            key: None,
            hash: (whole && !row.sealed).then(Sha256::new),
            done: range.is_empty(),
        };
        futures_util::stream::unfold(st, move |mut st| {
            let (store, row, range) = (store.clone(), row.clone(), range.clone());
            async move {
                if st.done {
                    return None;
                }
                let item = async {
                    if st.key.is_none() {
                        st.key = Some(if row.sealed {
                            store.data_key_ro(&store.db, &row.tender_id).await?
                        } else {
                            None
                        });
                    }
                    let batch = std::cmp::min(st.next + 4, end);
                    let frames = store
                        .plain_frames(&row, st.key.flatten().as_ref(), st.next..batch)
                        .await?;
                    let mut out = Vec::with_capacity((FRAME * 4) as usize);
                    for (i, plain) in frames.iter().enumerate() {
                        if let Some(h) = st.hash.as_mut() {
                            h.update(plain);
                        }
                        let at = (st.next + i as u64) * FRAME;
                        let len = plain.len() as u64;
                        let lo = std::cmp::min(range.start.saturating_sub(at), len) as usize;
                        let hi = std::cmp::min(range.end - at, len) as usize;
                        out.extend_from_slice(&plain[lo..hi]);
                    }
                    st.next = batch;
                    if st.next >= end {
                        st.done = true;
                        if let Some(h) = st.hash.take() {
                            let sha = hex::encode(h.finalize());
                            if row.sha256.as_deref() != Some(sha.as_str()) {
                                return Err(StoreError::Corrupt {
                                    what: format!(
                                        "document `{}`: its bytes do not match its SHA-256",
                                        row.id
                                    ),
                                    source: None,
                                });
                            }
                        }
                    }
                    Ok(Bytes::from(out))
                }
                .await;
                if item.is_err() {
                    st.done = true;
                }
                Some((item, st))
            }
        })
    }

    /// Checks that the documents `events` reference are stored files of this tender that
    /// match their descriptions (a bid's: sealed, uploaded by the bidder), inside the
    /// command's transaction; then marks them attached. A mismatch is a rejection and
    /// nothing is written.
    pub(crate) async fn attach_documents(
        &self,
        txn: &DatabaseTransaction,
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
        let mut counts = (0, 0);
        for row in self.blobs().await? {
            let stale = match row.state.as_str() {
                "partial" => now - row.created_ms > partial_age_ms,
                "stored" => now - row.created_ms > stored_age_ms,
                _ => false,
            };
            if !stale {
                continue;
            }
            if let Ok(backend) = self.backend_of(&row.backend) {
                backend.remove(&self.db, &row.id).await?;
            }
            let q = Query::delete()
                .from_table(Blobs::Table)
                .and_where(Expr::col(Blobs::BlobId).eq(row.id.as_str()))
                .and_where(Expr::col(Blobs::State).eq(row.state.as_str()))
                .to_owned();
            let _gate = self.gate().await;
            self.db.execute(&q).await?;
            if row.state == "partial" {
                counts.0 += 1;
            } else {
                counts.1 += 1;
            }
        }
        Ok(counts)
    }

    /// Reads a whole stored file and checks it: the stored bytes against their recorded
    /// SHA-256, and the file (decrypted, if sealed) against `expect`'s size and SHA-256. The
    /// problem, if any.
    pub(crate) async fn check_blob(&self, row: &BlobRow, expect: &Document) -> Option<String> {
        if row.state == "partial" {
            return Some("its upload never completed".into());
        }
        let key = if row.sealed {
            match self.data_key_ro(&self.db, &row.tender_id).await {
                Ok(k) => k,
                Err(e) => return Some(e.to_string()),
            }
        } else {
            None
        };
        let backend = match self.backend_of(&row.backend) {
            Ok(b) => b,
            Err(e) => return Some(e.to_string()),
        };
        let (mut stored, mut file) = (Sha256::new(), Sha256::new());
        let mut n = 0;
        while n < row.frames {
            let end = std::cmp::min(n + 16, row.frames);
            let frames = backend
                .read(
                    &self.db,
                    &row.id,
                    n..end,
                    row.stored_frame_len(),
                    row.stored_len(),
                )
                .await;
            let frames = match frames {
                Ok(f) if f.len() as u64 == end - n => f,
                Ok(_) => return Some(format!("its frames {n}–{end} are missing")),
                Err(e) => return Some(e.to_string()),
            };
            frames.iter().for_each(|f| stored.update(f));
            match open_frames(row, key.as_ref(), n, frames) {
                Ok(f) => f.iter().for_each(|f| file.update(f)),
                Err(e) => return Some(e.to_string()),
            }
            n = end;
        }
        if row.stored_sha256.as_deref() != Some(hex::encode(stored.finalize()).as_str()) {
            return Some("its stored bytes differ from what was written".into());
        }
        let sha = hex::encode(file.finalize());
        (sha != expect.sha256 || row.size != expect.size).then(|| {
            format!(
                "its bytes ({} bytes, SHA-256 {sha}) are not the {} bytes with SHA-256 {} the record holds",
                row.size, expect.size, expect.sha256
            )
        })
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
