//! The background work of a process: firing due timers and delivering the outbox, until a
//! shutdown signal (mini-redis's `run(listener, shutdown)` shape). Several processes may run
//! it on one PostgreSQL database: timers and messages are claimed with `FOR UPDATE SKIP
//! LOCKED` and timers fire through idempotent commands.

use crate::App;
use std::future::Future;
use std::time::Duration;
use tenderflow_notify::Dispatcher;
use tokio::sync::watch;

/// How often the timer loop looks for due timers.
pub const TIMER_POLL: Duration = Duration::from_millis(200);

/// Fires due timers at the store's clock every [`TIMER_POLL`] until `shutdown` resolves.
pub async fn fire_timers(app: &App, worker: &str, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        match app.store.fire_due_timers(app.store.now(), worker).await {
            Ok(f) if !f.is_empty() => tracing::info!(fired = f.len(), "timers fired"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "timer loop"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(TIMER_POLL) => {}
        }
    }
}

/// Fires timers and, with a dispatcher, delivers mail, until `shutdown` resolves; returns when
/// both have stopped.
pub async fn run(
    app: &App,
    mail: Option<&Dispatcher>,
    worker: &str,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopped) = watch::channel(false);
    let signal = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let timers = fire_timers(app, worker, signal(stopped.clone()));
    let mail = async {
        if let Some(d) = mail {
            d.run(signal(stopped.clone())).await;
        }
    };
    let trigger = async {
        shutdown.await;
        let _ = stop.send(true);
    };
    tokio::join!(timers, mail, trigger);
}
