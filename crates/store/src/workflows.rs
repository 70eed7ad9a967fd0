//! Workflow definitions: registered by content (SHA-256), checked against their hash whenever
//! they are read, compared with the version they replace (weakenings are flagged), and named
//! exactly when a tender is created.

use crate::sql::{Order, Workflows, get, insert, is_unique_violation};
use crate::{Result, Store, StoreError};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tenderflow_core::Workflow;

/// A registered workflow version.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkflowRecord {
    /// SHA-256 of the file.
    pub sha256: String,
    /// Definition id.
    pub definition_id: String,
    /// Version.
    pub version: String,
    /// File name it was registered from.
    pub file_name: String,
    /// Who registered it.
    pub registered_by: Option<String>,
    /// When, ms since the epoch.
    pub created_ms: i64,
    /// What it weakens against the previous version of the same definition (flagged to
    /// inspectors).
    #[schema(value_type = Vec<Object>)]
    pub weakened: Vec<tenderflow_core::compare::Weakening>,
}

impl Store {
    /// Validates and registers a definition (see [`Store::register_workflow_by`]), by an
    /// unnamed administrator.
    pub async fn register_workflow(&self, file_name: &str, bytes: &[u8]) -> Result<WorkflowRecord> {
        self.register_workflow_by(file_name, bytes, None).await
    }

    /// Validates and registers a definition version, recording who registered it and what
    /// it weakens against the newest version of the same definition (gates, periods,
    /// committee rules; logged as a warning and shown to inspectors). Identical content
    /// again is a no-op; different content under a registered id and version is refused.
    pub async fn register_workflow_by(
        &self,
        file_name: &str,
        bytes: &[u8],
        registered_by: Option<&str>,
    ) -> Result<WorkflowRecord> {
        let wf = tenderflow_core::load(file_name, bytes).map_err(StoreError::InvalidWorkflow)?;
        let d = wf.definition();
        let all = self.workflows().await?;
        if let Some(same) = all
            .iter()
            .find(|w| w.definition_id == d.id && w.version == d.version)
        {
            if same.sha256 == wf.sha256() {
                return Ok(same.clone());
            }
            return Err(StoreError::WorkflowClash {
                definition: d.id.clone(),
                version: d.version.clone(),
                sha256: same.sha256.clone(),
            });
        }
        let weakened = match all.iter().find(|w| w.definition_id == d.id) {
            Some(p) => {
                let old = self.workflow(&p.sha256).await?;
                tenderflow_core::compare::weakenings(old.definition(), d)
            }
            None => Vec::new(),
        };
        if !weakened.is_empty() {
            tracing::warn!(definition = %d.id, version = %d.version, weakened = ?weakened, "a new definition version weakens the one it replaces; flagged to inspectors");
        }
        // `load` accepted the bytes as JSON, so they are UTF-8.
        let content = String::from_utf8_lossy(bytes).into_owned();
        let record = WorkflowRecord {
            sha256: wf.sha256().to_owned(),
            definition_id: d.id.clone(),
            version: d.version.clone(),
            file_name: file_name.to_owned(),
            registered_by: registered_by.map(str::to_owned),
            created_ms: self.now_ms(),
            weakened,
        };
        let weakened_json = serde_json::to_string(&record.weakened)
            .map_err(|e| StoreError::corrupt_by("a workflow's weakenings", e))?;
        let row = insert(
            Workflows::Table,
            [
                (Workflows::Sha256, record.sha256.clone().into()),
                (Workflows::DefinitionId, record.definition_id.clone().into()),
                (Workflows::Version, record.version.clone().into()),
                (Workflows::FileName, file_name.into()),
                (Workflows::Content, content.into()),
                (Workflows::CreatedMs, record.created_ms.into()),
                (Workflows::RegisteredBy, record.registered_by.clone().into()),
                (Workflows::Weakened, weakened_json.into()),
            ],
        );
        match self.db.execute(&row).await {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {}
            Err(e) => return Err(e.into()),
        }
        self.cache_workflow(Arc::new(wf));
        Ok(record)
    }

    /// The workflow a new tender runs on, named exactly: a SHA-256, `id@version`, or a bare
    /// id only when exactly one version of it is registered (a tender never silently gets
    /// whichever version is newest).
    pub async fn workflow_exact(&self, spec: &str) -> Result<Arc<Workflow>> {
        let all = self.workflows().await?;
        let found: Vec<&WorkflowRecord> = match spec.split_once('@') {
            Some((id, version)) => all
                .iter()
                .filter(|w| w.definition_id == id && w.version == version)
                .collect(),
            None => all
                .iter()
                .filter(|w| w.sha256 == spec || w.definition_id == spec)
                .collect(),
        };
        match found.as_slice() {
            [one] => self.workflow(&one.sha256).await,
            [] => Err(StoreError::NotFound(format!("workflow `{spec}`"))),
            many => Err(StoreError::AmbiguousWorkflow {
                spec: spec.to_owned(),
                versions: many
                    .iter()
                    .map(|w| format!("{}@{} ({})", w.definition_id, w.version, w.sha256))
                    .collect(),
            }),
        }
    }

    fn cache_workflow(&self, wf: Arc<Workflow>) {
        if let Ok(mut map) = self.workflows.write() {
            map.insert(wf.sha256().to_owned(), wf);
        }
    }

    /// Registered workflows, newest first, with who registered them and what they weaken.
    pub async fn workflows(&self) -> Result<Vec<WorkflowRecord>> {
        let q = Query::select()
            .columns([
                Workflows::Sha256,
                Workflows::DefinitionId,
                Workflows::Version,
                Workflows::FileName,
                Workflows::RegisteredBy,
                Workflows::CreatedMs,
                Workflows::Weakened,
            ])
            .from(Workflows::Table)
            .order_by(Workflows::CreatedMs, Order::Desc)
            .order_by(Workflows::DefinitionId, Order::Asc)
            .to_owned();
        let rows = self.db.query_all(&q).await?;
        rows.iter()
            .map(|r| {
                let weakened: Option<String> = get(r, Workflows::Weakened)?;
                Ok(WorkflowRecord {
                    sha256: get(r, Workflows::Sha256)?,
                    definition_id: get(r, Workflows::DefinitionId)?,
                    version: get(r, Workflows::Version)?,
                    file_name: get(r, Workflows::FileName)?,
                    registered_by: get(r, Workflows::RegisteredBy)?,
                    created_ms: get(r, Workflows::CreatedMs)?,
                    weakened: weakened
                        .and_then(|w| serde_json::from_str(&w).ok())
                        .unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The workflow with this SHA-256, or the newest version of this definition id.
    pub async fn workflow(&self, sha_or_id: &str) -> Result<Arc<Workflow>> {
        self.workflow_in(&self.db, sha_or_id).await
    }

    /// [`Store::workflow`] read through `conn` (inside a write transaction, never through a
    /// second connection: SQLite has one). The stored content must hash to the SHA-256 it
    /// is registered under; a tampered or corrupted row is refused, never served.
    pub(crate) async fn workflow_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        sha_or_id: &str,
    ) -> Result<Arc<Workflow>> {
        if let Some(wf) = self
            .workflows
            .read()
            .ok()
            .and_then(|m| m.get(sha_or_id).cloned())
        {
            return Ok(wf);
        }
        let q = Query::select()
            .columns([Workflows::Sha256, Workflows::FileName, Workflows::Content])
            .from(Workflows::Table)
            .and_where(
                Expr::col(Workflows::Sha256)
                    .eq(sha_or_id)
                    .or(Expr::col(Workflows::DefinitionId).eq(sha_or_id)),
            )
            .order_by(Workflows::CreatedMs, Order::Desc)
            .to_owned();
        let row = conn
            .query_one(&q)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("workflow `{sha_or_id}`")))?;
        let pinned: String = get(&row, Workflows::Sha256)?;
        let file: String = get(&row, Workflows::FileName)?;
        let content: String = get(&row, Workflows::Content)?;
        let actual = hex::encode(Sha256::digest(content.as_bytes()));
        if actual != pinned {
            tracing::error!(workflow = %pinned, actual = %actual, "workflow row does not match its hash");
            return Err(StoreError::corrupt(format!(
                "workflow {pinned} ({file}): the stored content hashes to {actual}; the row was altered or corrupted. Restore it from a backup or re-register the original file"
            )));
        }
        let wf = Arc::new(
            tenderflow_core::load(&file, content.as_bytes())
                .map_err(|e| StoreError::corrupt_by(format!("workflow {pinned} ({file})"), e))?,
        );
        if wf.sha256() != pinned {
            return Err(StoreError::corrupt(format!(
                "workflow {pinned} ({file}) loads as {}",
                wf.sha256()
            )));
        }
        self.cache_workflow(wf.clone());
        Ok(wf)
    }
}
