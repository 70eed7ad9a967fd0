//! Operations handlers (the outbox, stuck timers, verification, the manual clock) and the
//! OCDS publication, over the application's use cases.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiResult, Body, Caller, Id, Params};
use crate::schemas::{OutboxPage, Resent, StuckTimers};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::Value;
use tenderflow_app::OutboxStatus;
use tenderflow_app::operations::{ClockMoved, Verification};
use tenderflow_core::Timestamp;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct OutboxQuery {
    /// Only messages in this status.
    #[param(pattern = "^(pending|sent|dead)$")]
    status: Option<String>,
    /// Cursor: the last id of the previous page.
    after: Option<i64>,
    #[param(minimum = 1, maximum = 1000)]
    limit: Option<usize>,
}

pub(crate) async fn outbox(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<OutboxQuery>,
) -> ApiResult<Json<OutboxPage>> {
    let status = q
        .status
        .as_deref()
        .map(str::parse::<OutboxStatus>)
        .transpose()
        .map_err(|_| ApiError::bad_request("invalid_query", "status is pending, sent or dead"))?;
    let page = s.app.outbox(&caller, status, q.after, q.limit).await?;
    Ok(Json(OutboxPage {
        messages: page.items,
        next: page.next,
    }))
}

pub(crate) async fn resend(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Resent>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("invalid_path", "the outbox id is a number"))?;
    s.app.resend(&caller, id).await?;
    Ok(Json(Resent {
        id,
        status: OutboxStatus::Pending,
    }))
}

pub(crate) async fn stuck_timers(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<StuckTimers>> {
    Ok(Json(StuckTimers {
        timers: s.app.stuck_timers(&caller).await?,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditQuery {
    /// Only this tender.
    #[param(pattern = "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")]
    tender: Option<String>,
}

pub(crate) async fn audit(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<AuditQuery>,
) -> ApiResult<Json<Verification>> {
    Ok(Json(s.app.verify(&caller, q.tender.as_deref()).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClockBody {
    now: Timestamp,
}

pub(crate) async fn set_clock(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<ClockBody>,
) -> ApiResult<Json<ClockMoved>> {
    Ok(Json(s.app.set_clock(&caller, b.now).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct PageQuery {
    /// Page number, from 1.
    #[param(minimum = 1)]
    page: Option<usize>,
    /// Releases a page, 1–1000 (100).
    #[param(minimum = 1, maximum = 1000)]
    per_page: Option<usize>,
}

pub(crate) async fn ocds_releases(
    State(s): State<AppState>,
    Params(q): Params<PageQuery>,
) -> ApiResult<Json<Value>> {
    let page = s
        .app
        .ocds_page(q.page.unwrap_or(1), q.per_page.unwrap_or(100))
        .await?;
    Ok(Json(page))
}

pub(crate) async fn ocds_record(State(s): State<AppState>, Id(ocid): Id) -> ApiResult<Json<Value>> {
    Ok(Json(s.app.ocds_record(&ocid).await?))
}
