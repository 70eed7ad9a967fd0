//! `tenderflow serve`: the HTTP API and the background work (timers, mail) in one process.
//! Several processes may share one PostgreSQL database: timers and mail are claimed with
//! `FOR UPDATE SKIP LOCKED` and fire through idempotent commands.

use crate::config::Config;
use anyhow::Context;
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;
use tenderflow_api::AppState;
use tenderflow_app::App;
use tenderflow_app::installation::{ManualClock, SystemClock};

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
    /// The bearer token a Prometheus scraper sends for `/metrics` (an administrator's API
    /// token also works). Metrics are never public: per-route counts would tell how many
    /// bids a tender has before the opening.
    #[arg(long, env = "TENDERFLOW_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
}

pub async fn run(config: &Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let manual = match &args.manual_clock {
        Some(t) => {
            let start = tenderflow_core::Timestamp::parse(t)
                .with_context(|| format!("--manual-clock {t}: expected RFC 3339"))?;
            Some(Arc::new(ManualClock::new(start)))
        }
        None => None,
    };
    let installation = config.installation(false)?;
    let app = match manual {
        Some(m) => App::open_on_manual_clock(installation, m).await,
        None => App::open(installation, Arc::new(SystemClock)).await,
    }
    .with_context(|| format!("opening {}", crate::config::redact(&config.database_url())))?;
    crate::workflow::register_shipped(&app).await?;
    let app = app
        .with_ocds(config.ocds_options())
        .with_red_flag_thresholds(config.red_flag_thresholds()?);
    let app = if args.group_commit {
        app.with_group_commit_lanes(
            usize::try_from(config.tuning.group_commit_batch).unwrap_or(256),
            usize::try_from(config.tuning.group_commit_lanes).unwrap_or(4),
        )
    } else {
        app
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let addr = listener.local_addr()?;
    let worker = format!("serve-{}-{}", std::process::id(), addr.port());
    println!("tenderflow listening on http://{addr}");

    // Mail links point at the public URL, or else at the address this server listens on,
    // which the operator is told loudly: people elsewhere cannot open such links.
    let mut config = config.clone();
    if config.public_url.is_none() {
        tracing::warn!(
            links = %format!("http://{addr}"),
            "no --public-url: mail links will point at the listen address; set --public-url (TENDERFLOW_PUBLIC_URL) to the address people open"
        );
        eprintln!(
            "WARNING: no --public-url: mail links will point at http://{addr}, which people elsewhere cannot open; set --public-url (TENDERFLOW_PUBLIC_URL)"
        );
    }
    let public_url = config
        .public_url
        .get_or_insert_with(|| format!("http://{addr}"))
        .clone();
    let dispatcher = config.dispatcher(&app, &worker)?;
    let polling = config.tuning.background();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let background = {
        let (app, stop) = (app.clone(), stopped(stop_rx.clone()));
        tokio::spawn(async move {
            tenderflow_app::background::run(&app, Some(&dispatcher), &worker, polling, stop).await;
        })
    };
    // The pages (`/`, `/notices/…`, `/static/…`) beside the JSON API, on one port.
    let pages = tenderflow_web::router_with(
        std::sync::Arc::new(app.clone()),
        public_url.starts_with("https://"),
    );
    let routes = tenderflow_api::app_with_pages(
        AppState::new(app)
            .with_metrics_token(args.metrics_token.clone())
            .with_commit(env!("TENDERFLOW_COMMIT")),
        pages,
    );
    crate::signals::notify_ready();
    // SIGTERM (systemd, containers) or SIGINT: stop taking connections, let the requests
    // under way finish, then let the background work finish its batch and release its
    // leases.
    // Each connection's client address, for the per-client limits of the mail forms.
    axum::serve(
        listener,
        routes.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(crate::signals::shutdown())
    .await?;
    crate::signals::notify_stopping();
    let _ = stop_tx.send(true);
    let _ = background.await;
    Ok(ExitCode::SUCCESS)
}
