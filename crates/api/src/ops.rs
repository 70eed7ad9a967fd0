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
        tenderflow_app::accounts::constant_time_eq(t.as_bytes(), token.as_bytes())
    });
    if !scraper {
        let caller = s
            .app
            .authenticate(token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        caller.require(&[tenderflow_core::Role::ADMIN])?;
    }
    let scrape = s.app.health().await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.metrics.render(&scrape, s.commit),
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
    match s.app.readiness().await {
        Ok(()) => Ok(Json(Ready { status: "ready" })),
        Err(problem) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            problem,
        )),
    }
}

pub(crate) async fn version(State(s): State<AppState>) -> Json<Version> {
    Json(Version {
        name: "tenderflow",
        version: env!("CARGO_PKG_VERSION"),
        commit: s.commit,
    })
}
