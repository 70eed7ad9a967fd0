//! Writing a file: frames cut as the bytes arrive, sealed when the file is a bid's, checked
//! against its limit and declared type, and acknowledged only once every frame is durable.

use super::FrameWriter;
use super::backend::FRAME;
use super::{Blobs, NewBlob, SealedMeta, meta_aad};
use crate::sql::insert;
use crate::{Result, Store, StoreError, crypto};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sha2::{Digest, Sha256};
use tenderflow_core::model::Document;
use tenderflow_core::{Rejection, RejectionCode};

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
}
