//! Opening an installation: the database with its master key, where documents' bytes live,
//! the one clock, and the mail dispatcher over the outbox. The command line describes an
//! installation with [`Installation`] and gets an [`App`]; nothing above this crate opens the
//! store itself.

use crate::{App, Result};
use std::path::PathBuf;
use std::sync::Arc;
use tenderflow_store::Store;

pub use tenderflow_store::clock::{Clock, ManualClock, SystemClock, wall_ms};
pub use tenderflow_store::crypto::MasterKey;
pub use tenderflow_store::{Schema, Tuning};

/// Where documents' bytes are kept.
#[derive(Debug, Clone)]
pub enum Documents {
    /// In the database, beside their metadata (the default).
    Database,
    /// In files under a directory.
    Directory(PathBuf),
    /// In an object store (S3 and compatible).
    Objects(Arc<dyn object_store::ObjectStore>),
}

/// An installation as the operator describes it.
#[derive(Debug, Clone)]
pub struct Installation {
    /// The database URL (`sqlite://…` or `postgres://…`).
    pub url: String,
    /// The installation's master key.
    pub master_key: MasterKey,
    /// Pools, timers, the cache, and whether opening may migrate the schema.
    pub tuning: Tuning,
    /// Where documents' bytes are kept.
    pub documents: Documents,
}

impl Installation {
    async fn store(self, clock: Arc<dyn Clock>) -> Result<Arc<Store>> {
        let blobs: Arc<dyn tenderflow_store::BlobBackend> = match self.documents {
            Documents::Database => Arc::new(tenderflow_store::DatabaseBlobs),
            Documents::Directory(dir) => Arc::new(tenderflow_store::ObjectBlobs::directory(&dir)?),
            Documents::Objects(objects) => Arc::new(tenderflow_store::ObjectBlobs::new(objects)),
        };
        let store = Store::connect_with(&self.url, self.master_key, clock, self.tuning).await?;
        Ok(Arc::new(store.with_blob_backend(blobs)))
    }
}

impl App {
    /// Opens an installation on `clock` (the process's one clock).
    pub async fn open(installation: Installation, clock: Arc<dyn Clock>) -> Result<Self> {
        Ok(Self::new(installation.store(clock).await?))
    }

    /// Opens an installation on a manual clock, which `POST /admin/clock` (and the demo)
    /// moves.
    pub async fn open_on_manual_clock(
        installation: Installation,
        clock: Arc<ManualClock>,
    ) -> Result<Self> {
        let store = installation.store(clock.clone()).await?;
        Ok(Self::with_manual_clock(store, clock))
    }

    /// A mail dispatcher over this installation's outbox, sending as `from` over
    /// `transport`; `worker` names it in the outbox's leases.
    pub fn dispatcher(
        &self,
        transport: tenderflow_notify::Transport,
        from: &str,
        worker: &str,
    ) -> std::result::Result<tenderflow_notify::Dispatcher, tenderflow_notify::NotifyError> {
        tenderflow_notify::Dispatcher::new(self.store.clone(), transport, from, worker)
    }
}
