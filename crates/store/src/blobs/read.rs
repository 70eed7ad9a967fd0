//! Reading a file back: frames decrypted and authenticated when sealed, streamed in small
//! batches, any byte range; and the audit's whole-file check.

use super::backend::{FRAME, missing_frame};
use super::{BlobRow, Document};
use crate::{CryptoError, Result, Store, StoreError, crypto};
use bytes::Bytes;
use futures_util::Stream;
use sha2::{Digest, Sha256};
use std::ops::Range;
use std::sync::Arc;

impl Store {
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
