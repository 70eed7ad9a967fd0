//! Documents on commands: tender documents (announcement, amendments, answers) and a bid's
//! documents, checked against the definition's limits and slots before any event exists.

use super::*;
use crate::canonical::Recipe;
use crate::model::Document;
use std::collections::HashSet;

fn describe(d: &Document) -> Decision<()> {
    match d.problem() {
        Some(p) => Err(Rejection::new(C::DocumentInvalid, p).with(json!({ "document": d.id }))),
        None => Ok(()),
    }
}

fn limits(d: &Document, media_types: &[String], max_bytes: u64, place: &str) -> Decision<()> {
    if !media_types.contains(&d.media_type) {
        return Err(Rejection::new(
            C::DocumentTypeNotAllowed,
            format!(
                "`{}` is {}; {place} accepts {}",
                d.name,
                d.media_type,
                media_types.join(", ")
            ),
        )
        .with(json!({ "document": d.id, "mediaType": d.media_type, "accepted": media_types })));
    }
    if d.size > max_bytes {
        return Err(Rejection::new(
            C::DocumentTooLarge,
            format!(
                "`{}` has {} bytes; {place} accepts at most {max_bytes}",
                d.name, d.size
            ),
        )
        .with(json!({ "document": d.id, "size": d.size, "maxBytes": max_bytes })));
    }
    Ok(())
}

/// Tender documents published by staff: described well, of accepted types and sizes, new
/// ids, and each replacement naming a current (not yet superseded) tender document.
pub(super) fn tender_documents(cx: &Ctx<'_>, docs: &[Document]) -> Decision<()> {
    let rules = &cx.wf.definition().documents.tender;
    let mut seen: HashSet<&str> = cx.t.documents.iter().map(|p| &*p.document.id).collect();
    let mut replaced = HashSet::new();
    for d in docs {
        describe(d)?;
        if d.slot.is_some() {
            return Err(Rejection::new(
                C::DocumentInvalid,
                format!("`{}`: slots are for a bid's documents", d.name),
            ));
        }
        limits(d, &rules.media_types, rules.max_bytes, "a tender document")?;
        if !seen.insert(&d.id) {
            return Err(Rejection::new(
                C::DocumentInvalid,
                format!("document `{}` is already published", d.id),
            ));
        }
        if let Some(r) = &d.replaces {
            let current =
                cx.t.documents
                    .iter()
                    .any(|p| p.document.id == *r && p.superseded_at.is_none());
            if !current || !replaced.insert(r) {
                return Err(Rejection::new(
                    C::UnknownDocument,
                    format!(
                        "`{}` replaces `{r}`, which is not a current tender document",
                        d.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// A bid's documents: each in a declared slot, of that slot's types and size, one per slot
/// unless the slot takes several, and every required slot filled.
pub(super) fn bid_documents(cx: &Ctx<'_>, docs: &[Document]) -> Decision<()> {
    let rules = &cx.wf.definition().documents.bid;
    let mut ids = HashSet::new();
    let mut filled: BTreeMap<&str, usize> = BTreeMap::new();
    for d in docs {
        describe(d)?;
        let Some(slot_id) = &d.slot else {
            return Err(Rejection::new(
                C::DocumentInvalid,
                format!(
                    "`{}`: say which of the bid form's documents it is (`slot`)",
                    d.name
                ),
            ));
        };
        let Some(slot) = rules.slot(slot_id) else {
            let known: Vec<&str> = rules.slots.iter().map(|s| s.id.as_str()).collect();
            return Err(Rejection::new(
                C::DocumentInvalid,
                format!(
                    "`{}`: the bid form has no document `{slot_id}` (it has: {})",
                    d.name,
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ),
            ));
        };
        if d.replaces.is_some() {
            return Err(Rejection::new(
                C::DocumentInvalid,
                "a bid's documents are replaced by replacing the bid",
            ));
        }
        limits(
            d,
            slot.media_types.as_deref().unwrap_or(&rules.media_types),
            slot.max_bytes.unwrap_or(rules.max_bytes),
            &format!("`{}`", slot.title.en),
        )?;
        if !ids.insert(&d.id) {
            return Err(Rejection::new(
                C::DocumentInvalid,
                format!("document `{}` is attached twice", d.id),
            ));
        }
        let n = filled.entry(slot_id).or_default();
        *n += 1;
        if *n > 1 && !slot.multiple {
            return Err(Rejection::new(
                C::DocumentInvalid,
                format!("`{}` takes one file", slot.title.en),
            )
            .with(json!({ "slot": slot_id })));
        }
    }
    let missing: Vec<&str> = rules
        .slots
        .iter()
        .filter(|s| s.required && !filled.contains_key(s.id.as_str()))
        .map(|s| s.id.as_str())
        .collect();
    if !missing.is_empty() {
        return Err(Rejection::new(
            C::DocumentMissing,
            format!("the bid lacks required documents: {}", missing.join(", ")),
        )
        .with(json!({ "slots": missing })));
    }
    Ok(())
}

/// A bid's commitment by `recipe`: SHA-256 of the canonical content, or, when the bid
/// carries documents, of the canonical `{"content": …, "documents": […]}` (each document's
/// hash included).
pub fn bid_commitment(content: &Value, documents: &[Document], recipe: Recipe) -> String {
    if documents.is_empty() {
        recipe.sha256_hex(content)
    } else {
        recipe.sha256_hex(&json!({ "content": content, "documents": documents }))
    }
}
