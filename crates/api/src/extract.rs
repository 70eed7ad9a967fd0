//! The extractors every handler uses: the authenticated caller, ids from the path, typed
//! query parameters and JSON bodies, each refusing bad input with our problem format.

use crate::error::ApiError;
use crate::{AppState, MAX_BODY};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// The authenticated caller (the application's [`tenderflow_app::Caller`]).
pub struct Caller(pub tenderflow_app::Caller);

impl std::ops::Deref for Caller {
    type Target = tenderflow_app::Caller;
    fn deref(&self) -> &tenderflow_app::Caller {
        &self.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(ApiError::unauthorized)?;
        let caller = state
            .app
            .authenticate(token.trim())
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        Ok(Self(caller))
    }
}

/// An identifier from the path, checked against the one id pattern
/// (`tenderflow_core::ids::ID_PATTERN`) before it reaches the store: `400 invalid_id`
/// otherwise (a NUL byte or a control character never reaches a database).
pub struct Id(pub String);

impl FromRequestParts<AppState> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request("invalid_id", e.body_text()))?;
        check_id("the path", &id)?;
        Ok(Self(id))
    }
}

/// `400 invalid_id` unless `value` matches the id pattern.
pub(crate) fn check_id(what: &str, value: &str) -> ApiResult<()> {
    Ok(tenderflow_app::views::check_id(what, value)?)
}

/// Query parameters, typed: an unknown parameter, a missing or malformed one is
/// `400 invalid_query` (never silently ignored).
pub struct Params<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<AppState> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &AppState) -> ApiResult<Self> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(q)| Self(q))
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))
    }
}

/// A lot id from a body, checked like every id.
pub(crate) fn lot(l: Option<String>) -> ApiResult<Option<String>> {
    if let Some(l) = &l {
        check_id("lot", l)?;
    }
    Ok(l)
}

/// A JSON body whose rejections use our error format: 400 for malformed JSON, unknown fields
/// or wrong types, 413 for an oversized body, 415 without a JSON content type.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> ApiResult<Self> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Self(v)),
            Err(JsonRejection::JsonSyntaxError(e)) => {
                Err(ApiError::bad_request("malformed_json", e.body_text()))
            }
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::bad_request("invalid_body", e.body_text()))
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send Content-Type: application/json",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the body exceeds {MAX_BODY} bytes"),
            )),
            Err(e) => Err(ApiError::bad_request("invalid_body", e.body_text())),
        }
    }
}
