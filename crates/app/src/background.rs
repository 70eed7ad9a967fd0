//! The background work of a process: firing due timers, delivering the outbox and removing
//! uploads that can no longer be used, until a
//! shutdown signal (mini-redis's `run(listener, shutdown)` shape). Several processes may run
//! it on one PostgreSQL database: timers and messages are claimed with `FOR UPDATE SKIP
//! LOCKED` and timers fire through idempotent commands.

use crate::App;
use std::future::Future;
use std::time::Duration;
use tenderflow_notify::Dispatcher;
use tokio::sync::watch;

/// How often the loops look for due work.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// Between looks for due timers.
    pub timers: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Self {
            timers: Duration::from_millis(200),
        }
    }
}

/// Fires due timers at the store's clock every `every` until `shutdown` resolves.
pub async fn fire_timers(
    app: &App,
    worker: &str,
    every: Duration,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    loop {
        match app.fire_due_timers(worker).await {
            Ok(f) if !f.is_empty() => tracing::info!(fired = f.len(), "timers fired"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "timer loop"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// An upload cut off before its end is removed after an hour; one acknowledged but never
/// attached to a command after seven days.
pub const PARTIAL_UPLOAD_AGE: Duration = Duration::from_secs(3600);
/// See [`PARTIAL_UPLOAD_AGE`].
pub const UNUSED_UPLOAD_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Removes uploads that can no longer be used (see [`PARTIAL_UPLOAD_AGE`]) every `every`
/// until `shutdown` resolves.
pub async fn sweep_uploads(app: &App, every: Duration, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let swept = app
            .store
            .sweep_blobs(
                PARTIAL_UPLOAD_AGE.as_millis() as i64,
                UNUSED_UPLOAD_AGE.as_millis() as i64,
            )
            .await;
        match swept {
            Ok((0, 0)) => {}
            Ok((partial, unused)) => {
                tracing::info!(
                    partial,
                    unused,
                    "removed uploads that can no longer be used"
                );
            }
            Err(e) => tracing::error!(error = %e, "upload sweep"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// Fires timers and, with a dispatcher, delivers mail (at the dispatcher's own pace), until
/// `shutdown` resolves; returns when both have stopped.
pub async fn run(
    app: &App,
    mail: Option<&Dispatcher>,
    worker: &str,
    polling: Polling,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopped) = watch::channel(false);
    let signal = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let timers = fire_timers(app, worker, polling.timers, signal(stopped.clone()));
    let sweep = sweep_uploads(app, Duration::from_secs(600), signal(stopped.clone()));
    let mail = async {
        if let Some(d) = mail {
            d.run(signal(stopped.clone())).await;
        }
    };
    let trigger = async {
        shutdown.await;
        let _ = stop.send(true);
    };
    tokio::join!(timers, sweep, mail, trigger);
}
