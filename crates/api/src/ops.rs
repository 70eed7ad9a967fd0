//! Operations: health, readiness, version, metrics, and the request middleware (request
//! counts and latency, the request id in problem bodies).

use crate::extract::ApiResult;
use crate::schemas::{Health, Ready, Version};
use crate::{ApiError, AppState, MAX_BODY};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde_json::Value;

/// Counts every request by its route template, method and status, with its latency.
pub(crate) async fn count_requests(
    State(s): State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    s.metrics.request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

pub(crate) async fn metrics(
    State(s): State<AppState>,
    headers: axum::http::HeaderMap,
) -> ApiResult<([(axum::http::HeaderName, &'static str); 1], String)> {
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or_else(ApiError::unauthorized)?;
    let scraper = s.metrics_token.as_deref().is_some_and(|t| {
        bool::from(subtle::ConstantTimeEq::ct_eq(
            t.as_bytes(),
            token.as_bytes(),
        ))
    });
    if !scraper {
        let caller = s
            .app
            .authenticate(token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        caller.require(&[tenderflow_core::Role::ADMIN])?;
    }
    let pending = s
        .store
        .outbox(Some(tenderflow_store::OutboxStatus::Pending))
        .await?
        .len() as f64;
    let dead = s
        .store
        .outbox(Some(tenderflow_store::OutboxStatus::Dead))
        .await?
        .len() as f64;
    let stuck = s.store.stuck_timers().await?.len() as f64;
    let now = s.store.now();
    let lag = s
        .store
        .oldest_due_timer(now)
        .await?
        .map_or(0.0, |due| (now.unix_millis() - due).max(0) as f64 / 1000.0);
    let cache = s.store.cache_stats().await;
    let text = s.metrics.render(&[
        (
            "tenderflow_tender_cache_entries",
            "Tender states kept in memory (bounded by --tender-cache).",
            cache.tenders as f64,
        ),
        (
            "tenderflow_tender_replays",
            "Tenders replayed from their events since the process started.",
            cache.replays as f64,
        ),
        (
            "tenderflow_events_replayed",
            "Events those replays read.",
            cache.events_replayed as f64,
        ),
        (
            "tenderflow_tender_catch_ups",
            "Kept tender states brought up to date with the events another process wrote.",
            cache.catch_ups as f64,
        ),
        (
            "tenderflow_events_caught_up",
            "Events those catch-ups read.",
            cache.events_caught_up as f64,
        ),
        (
            "tenderflow_outbox_pending",
            "Messages waiting to be sent.",
            pending,
        ),
        (
            "tenderflow_outbox_dead",
            "Messages that could not be delivered (dead letters).",
            dead,
        ),
        (
            "tenderflow_timers_stuck",
            "Deadlines that failed to fire.",
            stuck,
        ),
        (
            "tenderflow_timer_lag_seconds",
            "How long the oldest due deadline has waited to fire.",
            lag,
        ),
    ]);
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        text,
    ))
}

/// Puts the request id into every problem body (`requestId`), so a user's report names the
/// log lines of their request.
pub(crate) async fn request_id_in_problems(
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(req).await;
    let problem = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == b"application/problem+json");
    let Some(id) = id.filter(|_| problem) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return axum::response::Response::from_parts(parts, axum::body::Body::empty());
    };
    let mut v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("requestId".into(), Value::String(id));
    }
    let bytes = serde_json::to_vec(&v).unwrap_or_else(|_| bytes.to_vec());
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    axum::response::Response::from_parts(parts, axum::body::Body::from(bytes))
}

pub(crate) async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

pub(crate) async fn ready(State(s): State<AppState>) -> ApiResult<Json<Ready>> {
    match s.store.readiness().await {
        Ok(()) => Ok(Json(Ready { status: "ready" })),
        Err(problem) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            problem,
        )),
    }
}

pub(crate) async fn version() -> Json<Version> {
    Json(Version {
        name: "tenderflow",
        version: env!("CARGO_PKG_VERSION"),
    })
}
