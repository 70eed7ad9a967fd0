//! Documents as the record holds them: a file's name, media type, size and SHA-256, with the
//! id of the stored file. The bytes live in the blob store; the event holds the description,
//! so the hash chain covers every document.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Longest file name, in characters.
pub const MAX_DOCUMENT_NAME: usize = 255;

/// A document attached to an announcement, amendment, answer or bid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Document {
    /// The stored file's id, as the upload answered it.
    pub id: String,
    /// The file name (UTF-8; Chinese names are fine).
    pub name: String,
    /// Media type (`application/pdf`).
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the file's bytes (64 lowercase hex digits).
    pub sha256: String,
    /// The bid form's slot this document fills (bid documents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// The tender document this one replaces (tender documents only); the replaced one stays
    /// visible, marked superseded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// A tender document as published: when, with what, and whether it was superseded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishedDocument {
    /// The document.
    #[serde(flatten)]
    pub document: Document,
    /// When it was published.
    pub published_at: Timestamp,
    /// What published it: `announcement`, `amendment:N` or `answer:N`.
    pub source: String,
    /// When a later document replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_at: Option<Timestamp>,
    /// The document that replaced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub superseded_by: Option<String>,
}

impl Document {
    /// What is wrong with this description, if anything (name, id, hash).
    pub fn problem(&self) -> Option<String> {
        if let Some(p) = crate::ids::problem(&self.id) {
            return Some(format!("document id: {p}"));
        }
        if let Some(p) = name_problem(&self.name) {
            return Some(p);
        }
        if self.sha256.len() != 64
            || !self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Some("sha256: expected 64 lowercase hex digits".into());
        }
        if self.size == 0 {
            return Some(format!("`{}` is empty", self.name));
        }
        None
    }
}

/// What is wrong with a file name, if anything: empty, padded with spaces, longer than
/// [`MAX_DOCUMENT_NAME`] characters, or holding control characters or slashes.
pub fn name_problem(name: &str) -> Option<String> {
    if name.trim().is_empty() || name.trim() != name {
        return Some("a document's name may not be empty or start or end with spaces".into());
    }
    if name.chars().count() > MAX_DOCUMENT_NAME {
        return Some(format!(
            "a document's name is at most {MAX_DOCUMENT_NAME} characters"
        ));
    }
    if let Some(what) = crate::text::name_problem(name) {
        return Some(format!(
            "`{}`: a document's name may not hold {what}",
            name.escape_debug()
        ));
    }
    if name.contains(['/', '\\']) {
        return Some(format!(
            "`{}`: a document's name may not hold slashes",
            name.escape_debug()
        ));
    }
    None
}

/// The media type a file name's extension suggests, for the types Tenderflow accepts by
/// default (`None` for any other).
pub fn media_type_of(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "odt" => "application/vnd.oasis.opendocument.text",
        "ods" => "application/vnd.oasis.opendocument.spreadsheet",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        _ => return None,
    })
}
