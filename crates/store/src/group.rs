//! Group commit: concurrent commands queue here and are written in batches, one transaction
//! (one fsync) per batch. Nobody is answered before the batch that holds their command has
//! committed.

use crate::{Executed, Request, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<Result<Executed, StoreError>>;

/// A handle to the batching task.
#[derive(Debug, Clone)]
pub struct GroupCommitter {
    tx: mpsc::Sender<(Request, Reply)>,
}

impl GroupCommitter {
    /// Starts the batching task on the current runtime; batches hold at most `max_batch`.
    pub fn start(store: Arc<Store>, max_batch: usize) -> Self {
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
                        // The batch failed as a whole (not for any one command's sake: a
                        // refusal or a repeated id is an answer inside the batch); each
                        // command is tried on its own so one bad apple does not spoil the rest.
                        tracing::warn!(error = %e, size = requests.len(), "batch failed; retrying one by one");
                        for (reply, r) in replies.into_iter().zip(requests) {
                            let _ = reply.send(store.execute_request(r).await);
                        }
                    }
                }
            }
        });
        Self { tx }
    }

    /// Queues a command and waits until its batch has committed.
    pub async fn execute(&self, request: Request) -> Result<Executed, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send((request, reply))
            .await
            .map_err(|_| StoreError::Unavailable("the group committer has stopped"))?;
        answer
            .await
            .map_err(|_| StoreError::Unavailable("the group committer dropped a command"))?
    }
}
