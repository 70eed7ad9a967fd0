//! Verification: a tender's record is read and checked once (the keyed chain up to the head
//! the projection recorded, every event readable, the projection equal to the replay) before
//! anything is decided on it or exported from it; chain heads published outside the database
//! catch a later rewrite.

use crate::chain::{self, ChainProblem, EventRow};
use crate::reads::TenderRow;
use crate::{Result, Store, StoreError};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use tenderflow_core::{Event, Tender, Timestamp};

/// Verification result of one tender.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditReport {
    /// Tender.
    pub tender_id: String,
    /// Events checked.
    pub events: i64,
    /// The first problem, if any.
    #[schema(value_type = Option<Object>)]
    pub problem: Option<ChainProblem>,
}

/// A chain head published outside the database: the hash of event `seq` of a tender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PublishedHead {
    /// Tender.
    pub tender: String,
    /// Event number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

/// A tender's record as verified: rows and events in sequence order, and the replay.
pub(crate) struct Verified {
    pub(crate) rows: Vec<EventRow>,
    pub(crate) events: Vec<(i64, Event)>,
    pub(crate) tender: Tender,
}

/// The error for a record that fails verification, raised as an alert.
pub(crate) fn integrity(h: &TenderRow, problem: ChainProblem) -> StoreError {
    tracing::error!(tender = %h.tender_id, problem = ?problem, "ALERT: integrity violation; the tender is refused until it is restored (see `tenderflow audit verify`)");
    StoreError::Integrity {
        tender_id: h.tender_id.clone(),
        problem,
    }
}

impl Store {
    /// Replays a tender from its rows after checking them. Any problem is an
    /// [`StoreError::Integrity`] (and an alert in the log); nothing is served or decided on
    /// top of a record that does not verify.
    pub(crate) async fn replay_verified<C: ConnectionTrait>(
        &self,
        conn: &C,
        h: &TenderRow,
    ) -> Result<Tender> {
        Ok(self.verified_or_alert(conn, h).await?.tender)
    }

    /// The verified record, or the integrity error.
    pub(crate) async fn verified_or_alert<C: ConnectionTrait>(
        &self,
        conn: &C,
        h: &TenderRow,
    ) -> Result<Verified> {
        self.verified(conn, h)
            .await?
            .map_err(|problem| integrity(h, problem))
    }

    /// A tender's record read and checked once: the keyed chain up to the head the projection
    /// recorded, every event readable, and the projection equal to the replay.
    pub(crate) async fn verified<C: ConnectionTrait>(
        &self,
        conn: &C,
        h: &TenderRow,
    ) -> Result<std::result::Result<Verified, ChainProblem>> {
        let mut rows = self.rows_in(conn, &h.tender_id, 1, i64::MAX).await?;
        // Rows past the head read a moment ago are either a write committed since (the head
        // has moved on to cover them: read on, up to `h`) or rows nobody could have written
        // through the store (the head has not moved: named below as inserted).
        if rows.last().is_some_and(|r| r.seq > h.seq) {
            let last = rows.last().map_or(0, |r| r.seq);
            let now = self.tender_row_in(conn, &h.tender_id).await?;
            if now.is_some_and(|n| n.seq >= last) {
                rows.retain(|r| r.seq <= h.seq);
            }
        }
        self.replays.add(rows.len());
        if let Some(problem) = chain::verify_rows(&rows, h.seq, &h.last_hash, &self.chain_key) {
            return Ok(Err(problem));
        }
        let key = self.data_key_ro(conn, &h.tender_id).await?;
        let mut t = Tender::default();
        let mut events = Vec::with_capacity(rows.len());
        for row in &rows {
            match chain::decode(row, key.as_ref()) {
                Ok(e) => {
                    t = tenderflow_core::apply(t, &e);
                    events.push((row.seq, e));
                }
                Err(_) => return Ok(Err(ChainProblem::Unreadable { seq: row.seq })),
            }
        }
        let deadline = t.deadline.map(Timestamp::unix_millis);
        let mismatch = |field: &str, stored: String, replayed: String| {
            Err(ChainProblem::Projection {
                field: field.to_owned(),
                stored,
                replayed,
            })
        };
        if t.state != h.state {
            return Ok(mismatch("state", h.state.clone(), t.state));
        }
        if deadline != h.deadline_ms {
            return Ok(mismatch(
                "deadline_ms",
                format!("{:?}", h.deadline_ms),
                format!("{deadline:?}"),
            ));
        }
        Ok(Ok(Verified {
            rows,
            events,
            tender: t,
        }))
    }

    /// The first problem of a tender's record, if any.
    async fn problem_of(&self, h: &TenderRow) -> Result<Option<ChainProblem>> {
        Ok(self.verified(&self.db, h).await?.err())
    }

    /// Recomputes every chain (or one tender's) with the chain key, replays it and checks the
    /// projection (state, deadline) against the replay; names the first problem of each.
    pub async fn verify(&self, tender_id: Option<&str>) -> Result<Vec<AuditReport>> {
        let heads = match tender_id {
            Some(id) => vec![self.existing_tender(id).await?],
            None => self.tenders().await?,
        };
        let mut out = Vec::with_capacity(heads.len());
        for h in heads {
            let problem = match self.verified(&self.db, &h).await? {
                Err(p) => Some(p),
                Ok(v) => self.document_problem(&v.events).await?,
            };
            out.push(AuditReport {
                tender_id: h.tender_id.clone(),
                events: h.seq,
                problem,
            });
        }
        Ok(out)
    }

    /// The first document referenced by `events` that is missing from the blob store or
    /// whose bytes differ from what the event records (each file read whole once).
    async fn document_problem(&self, events: &[(i64, Event)]) -> Result<Option<ChainProblem>> {
        for (seq, e) in events {
            for d in e.body.documents() {
                let problem = match self.blob(&d.id).await? {
                    None => Some("no stored file has this id (deleted?)".to_owned()),
                    Some(row) => self.check_blob(&row, d).await,
                };
                if let Some(problem) = problem {
                    return Ok(Some(ChainProblem::Document {
                        seq: *seq,
                        document: d.id.clone(),
                        what: problem,
                    }));
                }
            }
        }
        Ok(None)
    }

    /// How many stored files are in each state: `attached` (referenced by an event, checked
    /// by [`Store::verify`]), `stored` (acknowledged uploads not yet used by a command) and
    /// `partial` (uploads cut off before their end: never acknowledged; the sweep removes
    /// them).
    /// Bytes in the configured backend that no row explains are counted as `unrecorded`
    /// (none should exist: a row is written before any byte).
    pub async fn blob_census(&self) -> Result<std::collections::BTreeMap<String, u64>> {
        let mut out = std::collections::BTreeMap::new();
        let rows = self.blobs().await?;
        let known: std::collections::HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let unrecorded = self
            .blob_backend()
            .ids(&self.db)
            .await?
            .iter()
            .filter(|id| !known.contains(id.as_str()))
            .count() as u64;
        for row in &rows {
            *out.entry(row.state.clone()).or_default() += 1;
        }
        out.insert("unrecorded".to_owned(), unrecorded);
        Ok(out)
    }

    /// The tender's current chain head (verified): publish it outside the database (the
    /// records the inspector signs carry it) so that a later rewrite is caught by
    /// [`Store::verify_against`].
    pub async fn chain_head(&self, tender_id: &str) -> Result<PublishedHead> {
        let head = self.existing_tender(tender_id).await?;
        self.load(tender_id).await?;
        Ok(PublishedHead {
            tender: head.tender_id,
            seq: head.seq,
            hash: head.last_hash,
        })
    }

    /// The OCDS releases of a tender's public events (see `tenderflow_core::ocds`), each
    /// carrying the chain head at its event (`tenderflowChainHead`), so that every published
    /// release pins the history up to it.
    pub async fn ocds_releases(
        &self,
        tender_id: &str,
        opts: &tenderflow_core::ocds::Options,
    ) -> Result<Vec<serde_json::Value>> {
        let head = self.existing_tender(tender_id).await?;
        let wf = self.workflow(&head.workflow_sha256).await?;
        // One read of the record serves the check and the export.
        let v = self.verified_or_alert(&self.db, &head).await?;
        let mut releases = tenderflow_core::ocds::releases(&wf, &v.events, opts);
        for r in &mut releases {
            // Release ids are `{ocid}-{seq:04}` (core::ocds); a verified chain holds event
            // `seq` at index `seq - 1`.
            let row = r["id"]
                .as_str()
                .and_then(|id| id.rsplit_once('-'))
                .and_then(|(_, n)| n.parse::<usize>().ok())
                .and_then(|n| v.rows.get(n.checked_sub(1)?));
            if let Some(row) = row {
                r["tenderflowChainHead"] = serde_json::json!({
                    "tender": tender_id, "seq": row.seq, "hash": row.hash,
                });
                // The exact definition version the tender runs on.
                r["tenderflowDefinition"] = serde_json::json!({
                    "id": wf.definition().id, "version": wf.definition().version, "sha256": wf.sha256(),
                });
            }
        }
        Ok(releases)
    }

    /// Checks the database against chain heads published earlier (OCDS releases, signed
    /// records): each published event must still be there with the same hash, and each
    /// tender's chain must verify. One report per tender named in `heads`.
    pub async fn verify_against(&self, heads: &[PublishedHead]) -> Result<Vec<AuditReport>> {
        let mut by_tender: std::collections::BTreeMap<&str, Vec<&PublishedHead>> =
            std::collections::BTreeMap::new();
        for h in heads {
            by_tender.entry(h.tender.as_str()).or_default().push(h);
        }
        let mut out = Vec::with_capacity(by_tender.len());
        for (tender, mut published) in by_tender {
            let rows = self.event_rows(tender).await?;
            let mut problem = None;
            published.sort_by_key(|h| h.seq);
            for h in &published {
                let found = rows.iter().find(|r| r.seq == h.seq).map(|r| r.hash.clone());
                if found.as_deref() != Some(h.hash.as_str()) {
                    problem = Some(ChainProblem::Unpublished {
                        seq: h.seq,
                        published: h.hash.clone(),
                        found,
                    });
                    break;
                }
            }
            if problem.is_none() {
                problem = match self.tender_row(tender).await? {
                    Some(row) => self.problem_of(&row).await?,
                    None => Some(ChainProblem::Truncated {
                        expected: published.iter().map(|h| h.seq).max().unwrap_or(0),
                        found: 0,
                    }),
                };
            }
            out.push(AuditReport {
                tender_id: tender.to_owned(),
                events: rows.len() as i64,
                problem,
            });
        }
        Ok(out)
    }
}
