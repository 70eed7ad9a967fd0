//! One error type for every handler, answered as RFC 9457 problem details
//! (`application/problem+json`): `{type, title, status, detail, code, details}` where `code`
//! is the stable code clients branch on. Internal errors are logged and hidden.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tenderflow_app::AppError;
use tenderflow_core::RejectionCode;

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code.
    pub code: String,
    /// For people.
    pub message: String,
    /// Structured details.
    pub details: Value,
    /// Seconds to wait before trying again (`Retry-After`), for 503 and 429.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with a status, code and message.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_owned(),
            message: message.into(),
            details: Value::Null,
            retry_after: None,
        }
    }
    /// 401.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send `Authorization: Bearer <token>` with a valid API token",
        )
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }
    /// 404.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    /// 400.
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
}

/// An RFC 9457 problem, as every error is answered.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the problem's kind (ends with the code).
    #[serde(rename = "type")]
    pub kind: String,
    /// The HTTP status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for people.
    pub detail: String,
    /// The stable code clients branch on (`form_invalid`, `late_bid`, `not_found`, …).
    pub code: String,
    /// Structured details (e.g. every definition problem with its JSON Pointer), or null.
    #[schema(value_type = Object, nullable)]
    pub details: Value,
    /// The request's id (also in the `x-request-id` header), for the access log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Problem {
            kind: format!("https://tenderflow.example/problems/{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.message,
            code: self.code,
            details: self.details,
            request_id: None,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            headers.insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(secs),
            );
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"tenderflow\""),
            );
        }
        response
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        let text = e.to_string();
        match e {
            AppError::Rejected(r) => {
                let status = match r.code {
                    RejectionCode::WrongRole => StatusCode::FORBIDDEN,
                    RejectionCode::NotCreated => StatusCode::NOT_FOUND,
                    RejectionCode::AlreadyExists => StatusCode::CONFLICT,
                    RejectionCode::DocumentTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
                    RejectionCode::DocumentSealed => StatusCode::FORBIDDEN,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                Self {
                    status,
                    code: r.code.as_str().to_owned(),
                    message: r.message,
                    details: r.details,
                    retry_after: None,
                }
            }
            AppError::Forbidden(m) => Self::forbidden(m),
            AppError::NotFound(m) => Self::not_found(m),
            AppError::Invalid { code, message } => {
                let mut e = Self::bad_request(code, message);
                if code == "invalid_id" {
                    e.details = json!({ "pattern": tenderflow_core::ids::ID_PATTERN });
                }
                e
            }
            AppError::InvalidAccount { message, .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_account", message)
            }
            AppError::NotNow { code, message } => Self::new(StatusCode::CONFLICT, code, message),
            AppError::Exists { code, message } => Self::new(StatusCode::CONFLICT, code, message),
            AppError::Conflict { tender_id: t } => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("tender `{t}` changed concurrently; retry"),
            ),
            AppError::KeyReused { command_id } => {
                let mut e = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for another request (another body, endpoint or tender); use a new key for a new request",
                );
                e.details = json!({ "commandId": command_id });
                e
            }
            AppError::InvalidWorkflow(errors) => {
                let mut e = Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_workflow",
                    errors.to_string(),
                );
                // Every problem, each with where it is and its stable code.
                let problems: Vec<Value> = errors
                    .0
                    .iter()
                    .map(|p| {
                        json!({
                            "pointer": p.pointer, "code": p.code.as_str(),
                            "found": p.found, "expected": p.expected,
                        })
                    })
                    .collect();
                e.details = json!({ "problems": problems });
                e
            }
            AppError::AmbiguousWorkflow { spec, versions } => {
                let mut e = Self::new(
                    StatusCode::CONFLICT,
                    "ambiguous_workflow",
                    format!(
                        "workflow `{spec}` has several registered versions; name one as id@version or by its SHA-256"
                    ),
                );
                e.details = json!({ "versions": versions });
                e
            }
            AppError::Busy {
                code,
                retry_after_secs,
            } => {
                let mut e = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    code,
                    format!("the server is busy; try again in {retry_after_secs} s"),
                );
                e.retry_after = Some(retry_after_secs);
                e
            }
            AppError::Stale { current } => {
                let mut e = Self::new(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition_failed",
                    "the tender has changed since you loaded it; reload it and try again",
                );
                e.details = json!({ "current": current });
                e
            }
            AppError::Upload(_) => Self::bad_request("upload_interrupted", text),
            AppError::Integrity { tender_id, problem } => {
                let mut e = Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "integrity_violation",
                    format!(
                        "tender `{tender_id}` fails verification ({problem}); it is refused until an administrator restores it"
                    ),
                );
                e.details = json!({ "tender": tender_id, "problem": problem });
                e
            }
            // Stored data that cannot be read back: named, as the CLI names it, so that an
            // administrator knows which record to restore.
            AppError::Corrupt { record, .. } => {
                tracing::error!(alert = true, record = %record, "ALERT: a stored record cannot be read back");
                let mut e = Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "corrupt_record",
                    format!(
                        "a stored record cannot be read back ({record}); an administrator must restore it"
                    ),
                );
                e.details = json!({ "record": record });
                e
            }
            AppError::StorageUnavailable(why) => {
                tracing::error!(error = %why, "object storage");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "document storage is unavailable; nothing was kept, try again later",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "an internal error occurred; it has been logged",
                )
            }
        }
    }
}
