//! The hash-chained event record: how an event becomes a row, and how rows are verified.
//!
//! hash = HMAC-SHA-256(chain key, previous hash (hex text) ‖ canonical JSON of
//! `{tender, seq, command, actor: {id, role}, at, payload}`), with the payload as stored (bid
//! contents sealed). The first event's previous hash is 64 zeros.
//!
//! The chain key is derived from the master key and never stored in the database, so someone
//! who can write SQL but does not hold the master key cannot recompute the hashes after
//! changing, adding or removing an event. Heads published outside the database (OCDS
//! releases, the records the inspector signs) pin the history against someone who holds both.

use crate::crypto;
use crate::{CryptoError, StoreError};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use tenderflow_core::canonical::canonical_bytes;
use tenderflow_core::{Actor, Event, Timestamp};

/// The previous hash of a tender's first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sea_orm::FromQueryResult)]
pub struct EventRow {
    /// Tender.
    pub tender_id: String,
    /// Position in the tender's history, from 1.
    pub seq: i64,
    /// The command that caused it.
    pub command_id: String,
    /// Actor id.
    pub actor_id: String,
    /// Actor role.
    pub actor_role: String,
    /// Time, ms since the epoch.
    pub at_ms: i64,
    /// Event type.
    pub kind: String,
    /// JSON payload as stored (bid contents sealed).
    pub payload: String,
    /// Hash of the previous event.
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

/// The key of the event chain's HMAC (derived from the master key; never stored).
#[derive(Clone)]
pub struct ChainKey(pub(crate) [u8; 32]);

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainKey(…)")
    }
}

impl ChainKey {
    /// The chain key of a master key.
    pub fn of(master: &crypto::MasterKey) -> Self {
        Self(master.derive("event-chain"))
    }
}

/// Computes the hash of a row from its fields and its predecessor's hash.
pub fn row_hash(row: &EventRow, key: &ChainKey) -> Result<String, StoreError> {
    let payload: Value = serde_json::from_str(&row.payload).map_err(|e| {
        StoreError::corrupt_by(
            format!(
                "event {} of {}: payload is not JSON",
                row.seq, row.tender_id
            ),
            e,
        )
    })?;
    let record = json!({
        "tender": row.tender_id,
        "seq": row.seq,
        "command": row.command_id,
        "actor": { "id": row.actor_id, "role": row.actor_role },
        "at": row.at_ms,
        "payload": payload,
    });
    // HMAC takes a key of any length: this never fails for the 32-byte chain key.
    let mut h =
        <Hmac<Sha256> as Mac>::new_from_slice(&key.0).map_err(|_| CryptoError::KeyLength)?;
    h.update(row.prev_hash.as_bytes());
    h.update(&canonical_bytes(&record));
    Ok(hex::encode(h.finalize().into_bytes()))
}

fn sealed_aad(tender: &str, seq: i64) -> Vec<u8> {
    format!("{tender}/{seq}").into_bytes()
}

/// Turns an event into its row, sealing bid contents with `data_key`.
pub fn encode(
    tender_id: &str,
    seq: i64,
    command_id: &str,
    event: &Event,
    prev_hash: &str,
    data_key: Option<&[u8; 32]>,
    chain_key: &ChainKey,
) -> Result<EventRow, StoreError> {
    let mut payload =
        serde_json::to_value(&event.body).map_err(|e| StoreError::corrupt_by("an event", e))?;
    let kind = event.body.kind().to_owned();
    if event.body.is_sealed() {
        // Everything but the type is sealed: who bid in which lot, the price, the content.
        let key = data_key.ok_or(CryptoError::NoDataKey)?;
        if let Some(obj) = payload.as_object_mut() {
            obj.remove("type");
        }
        let sealed =
            crypto::seal_with(key, &sealed_aad(tender_id, seq), &canonical_bytes(&payload))?;
        payload = json!({ "type": kind, "sealed": sealed });
    }
    let mut row = EventRow {
        tender_id: tender_id.to_owned(),
        seq,
        command_id: command_id.to_owned(),
        actor_id: event.actor.id.as_str().to_owned(),
        actor_role: event.actor.role.to_string(),
        at_ms: event.at.unix_millis(),
        kind,
        payload: serde_json::to_string(&payload)
            .map_err(|e| StoreError::corrupt_by("an event's payload", e))?,
        prev_hash: prev_hash.to_owned(),
        hash: String::new(),
    };
    row.hash = row_hash(&row, chain_key)?;
    Ok(row)
}

/// Turns a row back into an event, opening sealed bids with `data_key`.
pub fn decode(row: &EventRow, data_key: Option<&[u8; 32]>) -> Result<Event, StoreError> {
    let at = || format!("event {} of {}", row.seq, row.tender_id);
    let corrupt = |what: &str| StoreError::corrupt(format!("{}: {what}", at()));
    let mut payload: Value =
        serde_json::from_str(&row.payload).map_err(|e| StoreError::corrupt_by(at(), e))?;
    if let Some(sealed) = payload
        .get("sealed")
        .and_then(Value::as_str)
        .map(str::to_owned)
    {
        let key = data_key.ok_or_else(|| corrupt("a sealed bid but no data key"))?;
        let plain = crypto::open_with(key, &sealed_aad(&row.tender_id, row.seq), &sealed)?;
        let mut opened: Value =
            serde_json::from_slice(&plain).map_err(|e| StoreError::corrupt_by(at(), e))?;
        if let Some(obj) = opened.as_object_mut() {
            obj.insert("type".into(), Value::String(row.kind.clone()));
        }
        payload = opened;
    }
    let body = serde_json::from_value(payload).map_err(|e| StoreError::corrupt_by(at(), e))?;
    let actor =
        Actor::new(&row.actor_id, &row.actor_role).ok_or_else(|| corrupt("invalid actor id"))?;
    let when =
        Timestamp::from_unix_millis(row.at_ms).ok_or_else(|| corrupt("time out of range"))?;
    Ok(Event {
        at: when,
        actor,
        body,
    })
}

/// What verification found wrong with one tender's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "problem",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
pub enum ChainProblem {
    /// An event's content no longer matches its hash: it was edited.
    Altered {
        /// Its sequence number.
        seq: i64,
    },
    /// A sequence number is missing: the event was deleted.
    Missing {
        /// The missing number.
        seq: i64,
    },
    /// An event's link to its predecessor is broken: events were inserted, deleted and
    /// renumbered, or reordered.
    Broken {
        /// The first event whose previous hash does not match.
        seq: i64,
    },
    /// Events beyond the head the tender recorded: inserted after the fact.
    Inserted {
        /// The first unexpected sequence number.
        seq: i64,
    },
    /// An intact event found at another position: events were reordered.
    Reordered {
        /// Where it is now.
        seq: i64,
        /// Where it was written.
        written_at: i64,
    },
    /// Fewer events than the tender recorded: the last ones were deleted.
    Truncated {
        /// The head the tender recorded.
        expected: i64,
        /// The last event found.
        found: i64,
    },
    /// A document an event references is missing from the blob store, or its bytes do not
    /// match the size and SHA-256 the event records.
    Document {
        /// The event that references it.
        seq: i64,
        /// The document's id.
        document: String,
        /// What is wrong.
        what: String,
    },
    /// The head hash the tender recorded differs from the chain's last hash.
    HeadMismatch {
        /// The last event.
        seq: i64,
    },
    /// An event whose hash verifies but whose content cannot be read (a sealed bid that does
    /// not open with the tender's key, or a payload the engine does not know).
    Unreadable {
        /// The event.
        seq: i64,
    },
    /// The projection (the tenders row the lists read) disagrees with the replayed events.
    Projection {
        /// The column.
        field: String,
        /// What the row says.
        stored: String,
        /// What the events say.
        replayed: String,
    },
    /// The event at a published head (an OCDS release, a signed record) has another hash
    /// now, or is gone: history was rewritten after it was published.
    Unpublished {
        /// The published event.
        seq: i64,
        /// The hash published then.
        published: String,
        /// The hash found now, if the event exists.
        found: Option<String>,
    },
}

impl std::fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Altered { seq } => write!(f, "event {seq} was altered"),
            Self::Missing { seq } => write!(f, "event {seq} is missing"),
            Self::Broken { seq } => write!(f, "the chain breaks at event {seq}"),
            Self::Inserted { seq } => write!(f, "event {seq} was inserted after the head"),
            Self::Reordered { seq, written_at } => {
                write!(f, "event {seq} was written at position {written_at}")
            }
            Self::Truncated { expected, found } => {
                write!(f, "the record ends at event {found}, not {expected}")
            }
            Self::HeadMismatch { seq } => write!(f, "the head hash differs at event {seq}"),
            Self::Unreadable { seq } => write!(f, "event {seq} cannot be read"),
            Self::Projection {
                field,
                stored,
                replayed,
            } => write!(
                f,
                "the tenders row says {field} = {stored}, the events say {replayed}"
            ),
            Self::Unpublished { seq, .. } => {
                write!(f, "event {seq} differs from the head published earlier")
            }
            Self::Document {
                seq,
                document,
                what,
            } => write!(f, "document `{document}` of event {seq}: {what}"),
        }
    }
}

/// Whether `rows` (ordered by seq) continue a chain verified up to `from_seq`/`from_hash`
/// exactly to the head `head_seq`/`head_hash`: consecutive, each hash the keyed hash of its
/// row, each linked to the one before. Only a yes or no: a whole verification names the
/// problem.
pub fn continues(
    rows: &[EventRow],
    from_seq: i64,
    from_hash: &str,
    head_seq: i64,
    head_hash: &str,
    key: &ChainKey,
) -> bool {
    let mut prev = from_hash;
    let mut seq = from_seq;
    for row in rows {
        seq += 1;
        if row.seq != seq
            || row.prev_hash != prev
            || !row_hash(row, key).is_ok_and(|h| h == row.hash)
        {
            return false;
        }
        prev = &row.hash;
    }
    seq == head_seq && prev == head_hash
}

/// Checks one tender's rows (ordered by seq) against the head its projection recorded.
/// Returns the first problem, or `None` when the chain is intact.
pub fn verify_rows(
    rows: &[EventRow],
    head_seq: i64,
    head_hash: &str,
    key: &ChainKey,
) -> Option<ChainProblem> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1;
    for row in rows {
        if row.seq > head_seq {
            return Some(ChainProblem::Inserted { seq: row.seq });
        }
        if row.seq != expected_seq {
            return Some(if row.seq > expected_seq {
                ChainProblem::Missing { seq: expected_seq }
            } else {
                ChainProblem::Broken { seq: row.seq }
            });
        }
        match row_hash(row, key) {
            Ok(h) if h == row.hash => {}
            _ => {
                // Intact content at another position means it was moved, not edited.
                let limit = head_seq.max(rows.len() as i64);
                let moved = (1..=limit).filter(|s| *s != row.seq).find(|s| {
                    let probe = EventRow {
                        seq: *s,
                        ..row.clone()
                    };
                    row_hash(&probe, key).is_ok_and(|h| h == row.hash)
                });
                return Some(match moved {
                    Some(written_at) => ChainProblem::Reordered {
                        seq: row.seq,
                        written_at,
                    },
                    None => ChainProblem::Altered { seq: row.seq },
                });
            }
        }
        if row.prev_hash != prev {
            return Some(ChainProblem::Broken { seq: row.seq });
        }
        prev.clone_from(&row.hash);
        expected_seq += 1;
    }
    let last = expected_seq - 1;
    if last < head_seq {
        return Some(ChainProblem::Truncated {
            expected: head_seq,
            found: last,
        });
    }
    if prev != head_hash {
        return Some(ChainProblem::HeadMismatch { seq: last });
    }
    None
}
