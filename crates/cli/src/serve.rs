//! `tenderflow serve`: the HTTP API, the timer loop and the mail dispatcher in one process.
//! Several processes may share one PostgreSQL database: timers and mail are claimed with
//! `FOR UPDATE SKIP LOCKED` and fire through idempotent commands.

use crate::config::Config;
use anyhow::Context;
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tenderflow_api::AppState;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "TENDERFLOW_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Run on a clock that starts at this RFC 3339 time and moves only by `POST /admin/clock`
    /// (tests and rehearsals). Without it the system clock is used.
    #[arg(long)]
    manual_clock: Option<String>,
    /// Write concurrent commands in batches, one transaction each (group commit): more
    /// commands per second under load; nobody is answered before the batch commits.
    #[arg(long, env = "TENDERFLOW_GROUP_COMMIT")]
    group_commit: bool,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store = config.store().await?;
    crate::workflow::register_shipped(&store).await?;
    let state = match &args.manual_clock {
        Some(t) => {
            let start = tenderflow_core::Timestamp::parse(t)
                .with_context(|| format!("--manual-clock {t}: expected RFC 3339"))?;
            AppState::with_manual_clock(store.clone(), start)
        }
        None => AppState::new(store.clone()),
    };
    let mut state = state;
    state.ocds = std::sync::Arc::new(config.ocds_options());
    let state = if args.group_commit {
        state.with_group_commit(256)
    } else {
        state
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let worker = format!("serve-{}-{}", std::process::id(), addr.port());
    println!("tenderflow listening on http://{addr}");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let timers = {
        let (store, clock, worker, mut stop) = (
            store.clone(),
            state.clock.clone(),
            worker.clone(),
            stop_rx.clone(),
        );
        tokio::spawn(timer_loop(store, clock, worker, async move {
            let _ = stop.changed().await;
        }))
    };
    let mail = {
        let dispatcher = Arc::new(tenderflow_notify::Dispatcher::new(
            store.clone(),
            config.transport()?,
            &config.mail_from,
            &worker,
        )?);
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            dispatcher
                .run(
                    async move {
                        let _ = stop.changed().await;
                    },
                    now_ms,
                )
                .await;
        })
    };
    let mut stop = stop_rx;
    axum::serve(listener, tenderflow_api::app(state))
        .with_graceful_shutdown(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = stop.changed() => {}
            }
        })
        .await?;
    let _ = stop_tx.send(true);
    let _ = timers.await;
    let _ = mail.await;
    Ok(ExitCode::SUCCESS)
}

/// Fires due timers every 200 ms on `clock` until `stop` resolves. Several processes may run
/// it on one PostgreSQL database: each timer is claimed by one and fires through an
/// idempotent command.
pub async fn timer_loop(
    store: Arc<tenderflow_store::Store>,
    clock: Arc<dyn tenderflow_api::Clock>,
    worker: String,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        match store.fire_due_timers(clock.now(), &worker).await {
            Ok(f) if !f.is_empty() => tracing::info!(fired = f.len(), "timers fired"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "timer loop"),
        }
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    }
}
