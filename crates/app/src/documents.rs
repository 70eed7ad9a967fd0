//! Documents: uploading a file for a tender (staff: a tender document, public once a command
//! publishes it; a bidder: a bid's document, sealed) and reading one back as the core's
//! [`document_access`] allows. A command then references the upload by its description.

use crate::{App, AppError, Caller, Result};
use bytes::Bytes;
use futures_util::Stream;
use std::ops::Range;
use tenderflow_core::definition::CommandName;
use tenderflow_core::model::{Document, name_problem};
use tenderflow_core::view::document_access;
use tenderflow_core::{Rejection, RejectionCode, Role};
use tenderflow_store::{BlobRow, NewBlob};

/// A document the caller may read: its description and where its bytes are.
#[derive(Debug, Clone)]
pub struct Readable {
    /// The description the record holds.
    pub document: Document,
    /// The stored file.
    pub row: BlobRow,
}

fn refused(code: RejectionCode, message: impl Into<String>) -> AppError {
    AppError::Rejected(Rejection::new(code, message))
}

impl App {
    /// Stores a file uploaded by the caller for tender `tender_id`, streaming `body`, and
    /// returns its description for a command to reference. Staff upload tender documents
    /// (kept in the clear: they are published); bidders upload their bid's documents, which
    /// are encrypted with the tender's data key before a byte is stored, and only until the
    /// bid deadline. The definition's media types and sizes apply (a bid document's `slot`'s,
    /// when named); an upload that breaks them is refused and nothing of it is kept.
    pub async fn upload_document<S, E>(
        &self,
        caller: &Caller,
        tender_id: &str,
        name: &str,
        media_type: &str,
        slot: Option<&str>,
        body: S,
    ) -> Result<Document>
    where
        S: Stream<Item = std::result::Result<Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        if let Some(p) = name_problem(name) {
            return Err(refused(RejectionCode::DocumentInvalid, p));
        }
        let media_type = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let (wf, t) = self.readable(caller, tender_id).await?;
        // Uploads follow the tender's state: only where a command could take the file in
        // (a cancelled or closed tender takes none).
        let takes = |commands: &[CommandName]| {
            commands
                .iter()
                .any(|c| wf.transition(&t.state, *c).is_some())
        };
        let takes_files = match Role::known(caller.role()) {
            Some(Role::BIDDER) => takes(&[CommandName::SubmitBid, CommandName::ReplaceBid]),
            _ => takes(&[
                CommandName::Publish,
                CommandName::Amend,
                CommandName::AnswerQuestion,
            ]),
        };
        if !takes_files {
            return Err(AppError::NotNow {
                code: "invalid_state",
                message: format!("the tender is {} and takes no documents now", t.state),
            });
        }
        let docs = &wf.definition().documents;
        let (sealed, accepted, max_bytes) = match Role::known(caller.role()) {
            Some(Role::STAFF | Role::ADMIN) => (
                false,
                docs.tender.accepts(&media_type),
                docs.tender.max_bytes,
            ),
            Some(Role::BIDDER) => {
                if docs.bid.slots.is_empty() {
                    return Err(refused(
                        RejectionCode::DocumentInvalid,
                        "this tender's bid form takes no documents",
                    ));
                }
                match t.deadline {
                    Some(d) if self.store.now() < d => {}
                    Some(d) => {
                        return Err(refused(
                            RejectionCode::LateBid,
                            format!("the bid deadline {d} has passed"),
                        ));
                    }
                    None => {
                        return Err(AppError::NotNow {
                            code: "invalid_state",
                            message: "the tender takes no bids yet".into(),
                        });
                    }
                }
                match slot {
                    None => (true, docs.bid.accepts(&media_type), docs.bid.largest()),
                    Some(id) => {
                        let s = docs.bid.slot(id).ok_or_else(|| {
                            refused(
                                RejectionCode::DocumentInvalid,
                                format!("the bid form has no document `{id}`"),
                            )
                        })?;
                        let types = s.media_types.as_ref().unwrap_or(&docs.bid.media_types);
                        (
                            true,
                            types.contains(&media_type),
                            s.max_bytes.unwrap_or(docs.bid.max_bytes),
                        )
                    }
                }
            }
            _ => {
                return Err(AppError::Forbidden(
                    "only staff (tender documents) and bidders (their bid's documents) upload documents".into(),
                ));
            }
        };
        if !accepted {
            let slot_types = slot
                .and_then(|id| docs.bid.slot(id))
                .and_then(|s| s.media_types.as_ref());
            let list = match (sealed, slot_types) {
                (true, Some(types)) => types,
                (true, None) => &docs.bid.media_types,
                (false, _) => &docs.tender.media_types,
            };
            return Err(refused(
                RejectionCode::DocumentTypeNotAllowed,
                format!(
                    "`{name}` is {}; accepted here: {}",
                    if media_type.is_empty() {
                        "of no declared type"
                    } else {
                        &media_type
                    },
                    list.join(", ")
                ),
            ));
        }
        let new = NewBlob {
            tender_id: t.id.clone(),
            owner: caller.actor.id.to_string(),
            sealed,
            name: name.to_owned(),
            media_type,
            max_bytes,
        };
        let mut doc = self.store.put_blob(new, body).await?;
        doc.slot = slot.filter(|_| sealed).map(str::to_owned);
        Ok(doc)
    }

    /// Document `id` of tender `tender_id`, if the caller may read it now (see
    /// [`document_access`]); without a caller (a visitor of the notice board), only the
    /// published tender documents of a published tender.
    pub async fn readable_document(
        &self,
        caller: Option<&Caller>,
        tender_id: &str,
        id: &str,
    ) -> Result<Readable> {
        let (t, actor) = match caller {
            Some(c) => (self.readable(c, tender_id).await?.1, c.actor.clone()),
            None => {
                let (_, t) = self.store.load(tender_id).await?;
                if t.announcement.is_none() {
                    return Err(AppError::NotFound(format!("no tender `{tender_id}`")));
                }
                let visitor = tenderflow_core::Actor::new("visitor", "public")
                    .ok_or_else(|| AppError::invalid("invalid_id", "visitor"))?;
                (t, visitor)
            }
        };
        let document = match document_access(&t, &actor, id) {
            Ok(d) => d.clone(),
            Err(r) if r.code == RejectionCode::UnknownDocument => {
                return Err(AppError::NotFound(r.message));
            }
            Err(r) => return Err(AppError::Rejected(r)),
        };
        let row = self.store.blob(id).await?.ok_or_else(|| {
            AppError::Corrupt {
                record: format!("document `{id}` is in the record but not in the blob store (run `tenderflow audit verify`)"),
                source: None,
            }
        })?;
        Ok(Readable { document, row })
    }

    /// The bytes `range` of a readable document, streamed.
    pub fn document_bytes(
        &self,
        doc: Readable,
        range: Range<u64>,
    ) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        use futures_util::StreamExt;
        self.store
            .read_blob(doc.row, range)
            .map(|chunk| chunk.map_err(AppError::from))
    }
}
