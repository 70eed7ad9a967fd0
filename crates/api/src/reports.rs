//! Reports for the body's leadership over the application's use cases: the quarterly report
//! as JSON and as CSV.

use crate::AppState;
use crate::extract::{ApiResult, Caller, Params};
use axum::Json;
use axum::extract::State;
use axum::http::header;
use serde::Deserialize;
use tenderflow_core::quarterly::{Quarter, QuarterlyReport};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct QuarterQuery {
    /// The quarter, e.g. `2026-Q2` (the current one when absent).
    #[param(pattern = "^[0-9]{4}-?Q[1-4]$")]
    quarter: Option<String>,
}

impl QuarterQuery {
    fn quarter(&self, s: &AppState) -> ApiResult<Quarter> {
        match self.quarter.as_deref() {
            Some(q) => Ok(tenderflow_app::reports::parse_quarter(q)?),
            None => Ok(s.app.current_quarter()),
        }
    }
}

pub(crate) async fn quarterly(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<QuarterQuery>,
) -> ApiResult<Json<QuarterlyReport>> {
    let quarter = q.quarter(&s)?;
    Ok(Json(s.app.quarterly_report(&caller, quarter).await?))
}

pub(crate) async fn quarterly_csv(
    State(s): State<AppState>,
    caller: Caller,
    Params(q): Params<QuarterQuery>,
) -> ApiResult<([(header::HeaderName, String); 2], String)> {
    let quarter = q.quarter(&s)?;
    let report = s.app.quarterly_report(&caller, quarter).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"quarterly-{quarter}.csv\""),
            ),
        ],
        report.to_csv(),
    ))
}
