//! Group commit: concurrent commands queue here and are written in batches, one transaction
//! (one fsync) per batch. Nobody is answered before the batch that holds their command has
//! committed. On PostgreSQL several lanes batch in parallel, each on its own connection; a
//! tender's commands always take the same lane, so lanes never conflict.

use crate::{Executed, Request, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<Executed, StoreError>>;

/// Lanes on PostgreSQL unless configured otherwise: enough to keep commits in flight while
/// the next batches are decided, few enough to leave the pool's connections to readers.
pub const DEFAULT_LANES: usize = 4;

/// A handle to the batching tasks.
#[derive(Debug, Clone)]
pub struct GroupCommitter {
    lanes: Vec<mpsc::Sender<(Request, Reply)>>,
}

impl GroupCommitter {
    /// Starts the batching tasks on the current runtime with [`DEFAULT_LANES`]; batches hold
    /// at most `max_batch`.
    pub fn start(store: Arc<Store>, max_batch: usize) -> Self {
        Self::with_lanes(store, max_batch, DEFAULT_LANES)
    }

    /// Starts `lanes` batching tasks (always one on SQLite, which has one writer): a tender's
    /// commands always go to the same lane, and the lanes' batches commit in parallel on
    /// separate connections, so one lane waiting for its commit does not hold up the others.
    pub fn with_lanes(store: Arc<Store>, max_batch: usize, lanes: usize) -> Self {
        let lanes = match store.backend() {
            sea_orm::DbBackend::Postgres => lanes.max(1),
            _ => 1,
        };
        Self {
            lanes: (0..lanes).map(|_| lane(store.clone(), max_batch)).collect(),
        }
    }

    /// Lanes in use.
    pub fn lanes(&self) -> usize {
        self.lanes.len()
    }

    /// Queues a command and waits until its batch has committed.
    pub async fn execute(&self, request: Request) -> Result<Executed, StoreError> {
        let (reply, answer) = oneshot::channel();
        let lane = self
            .lanes
            .get(lane_of(&request.tender_id, self.lanes.len()))
            .ok_or(StoreError::Unavailable("the group committer has no lane"))?;
        lane.send((request, reply))
            .await
            .map_err(|_| StoreError::Unavailable("the group committer has stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the group committer dropped a command"))?
    }
}

/// The lane of a tender: stable for the process, spread evenly (also the stripe of its
/// in-process write lock, see `Store::lock_tenders`).
pub(crate) fn lane_of(tender_id: &str, lanes: usize) -> usize {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    tender_id.hash(&mut h);
    (h.finish() % lanes.max(1) as u64) as usize
}

/// Starts one batching task and returns its queue.
fn lane(store: Arc<Store>, max_batch: usize) -> mpsc::Sender<(Request, Reply)> {
    let (tx, mut rx) = mpsc::channel::<(Request, Reply)>(max_batch * 4);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut batch = vec![first];
            while batch.len() < max_batch {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let (requests, replies): (Vec<Request>, Vec<Reply>) = batch.into_iter().unzip();
            match store.execute_batch(&requests).await {
                Ok(results) => {
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(result);
                    }
                }
                Err(e) => {
                    // The batch failed as a whole (not for any one command's sake: a refusal
                    // or a repeated id is an answer inside the batch); each command is tried
                    // on its own so one bad apple does not spoil the rest.
                    tracing::warn!(error = %e, size = requests.len(), "batch failed; retrying one by one");
                    for (reply, r) in replies.into_iter().zip(requests) {
                        let _ = reply.send(store.execute_request(r).await);
                    }
                }
            }
        }
    });
    tx
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tender_keeps_its_lane_and_lanes_share_the_tenders() {
        let mut counts = [0usize; 4];
        for i in 0..4000 {
            let id = format!("T-{i}");
            let lane = super::lane_of(&id, 4);
            assert_eq!(lane, super::lane_of(&id, 4));
            counts[lane] += 1;
        }
        assert!(counts.iter().all(|&n| n > 800), "{counts:?}");
        assert_eq!(super::lane_of("T-1", 1), 0);
    }
}
