//! Documents a definition accepts: the tender documents staff publish (announcement,
//! amendments, answers) and the documents a bid carries (its dossier, by slot).

use super::Localized;
use serde::{Deserialize, Serialize};

/// The media types accepted when a definition names none: PDF, Word, spreadsheets (Excel
/// and OpenDocument), OpenDocument text and PNG/JPEG images.
pub const DEFAULT_MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "image/png",
    "image/jpeg",
];

fn default_media_types() -> Vec<String> {
    DEFAULT_MEDIA_TYPES
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

const fn default_tender_max() -> u64 {
    50 * 1024 * 1024
}

const fn default_bid_max() -> u64 {
    256 * 1024 * 1024
}

/// The `documents` section.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Documents {
    /// Tender documents (public from publication).
    #[serde(default)]
    pub tender: TenderDocuments,
    /// A bid's documents (sealed like the bid).
    #[serde(default)]
    pub bid: BidDocuments,
}

/// Limits on tender documents.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TenderDocuments {
    /// Largest file, in bytes.
    #[serde(default = "default_tender_max")]
    pub max_bytes: u64,
    /// Media types accepted.
    #[serde(default = "default_media_types")]
    pub media_types: Vec<String>,
}

impl Default for TenderDocuments {
    fn default() -> Self {
        Self {
            max_bytes: default_tender_max(),
            media_types: default_media_types(),
        }
    }
}

/// A bid's documents: limits and the slots the bid form declares.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BidDocuments {
    /// Largest file, in bytes (a slot may set less).
    #[serde(default = "default_bid_max")]
    pub max_bytes: u64,
    /// Media types accepted (a slot may narrow them).
    #[serde(default = "default_media_types")]
    pub media_types: Vec<String>,
    /// The documents a bid carries; none means a bid carries no documents.
    #[serde(default)]
    pub slots: Vec<DocumentSlot>,
}

impl Default for BidDocuments {
    fn default() -> Self {
        Self {
            max_bytes: default_bid_max(),
            media_types: default_media_types(),
            slots: Vec::new(),
        }
    }
}

/// One document a bid carries, e.g. the service plan (PDF).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DocumentSlot {
    /// Slot id (`servicePlan`).
    pub id: String,
    /// What it is, for the bid form.
    pub title: Localized,
    /// Whether every bid must carry it.
    #[serde(default)]
    pub required: bool,
    /// Whether a bid may carry several files in this slot.
    #[serde(default)]
    pub multiple: bool,
    /// Media types accepted in this slot (default: the bid's).
    #[serde(default)]
    pub media_types: Option<Vec<String>>,
    /// Largest file in this slot (default: the bid's).
    #[serde(default)]
    pub max_bytes: Option<u64>,
}

impl BidDocuments {
    /// The slot `id`.
    pub fn slot(&self, id: &str) -> Option<&DocumentSlot> {
        self.slots.iter().find(|s| s.id == id)
    }

    /// The largest file any slot accepts.
    pub fn largest(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.max_bytes.unwrap_or(self.max_bytes))
            .max()
            .unwrap_or(0)
    }

    /// Whether any slot accepts `media_type`.
    pub fn accepts(&self, media_type: &str) -> bool {
        self.slots.iter().any(|s| {
            s.media_types
                .as_ref()
                .unwrap_or(&self.media_types)
                .iter()
                .any(|m| m == media_type)
        })
    }
}

impl TenderDocuments {
    /// Whether `media_type` is accepted.
    pub fn accepts(&self, media_type: &str) -> bool {
        self.media_types.iter().any(|m| m == media_type)
    }
}
