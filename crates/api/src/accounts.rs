//! Accounts and API tokens for administrators: list, create, disable and enable accounts,
//! change emails, issue, list, rotate and revoke tokens (the store does the work).

use crate::AppState;
use crate::extract::{ApiResult, Body, Caller, Id};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tenderflow_core::Role;
use tenderflow_store::Account;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewAccount {
    id: String,
    role: String,
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default = "default_locale")]
    locale: String,
}

fn default_locale() -> String {
    "zh-CN".into()
}

pub(crate) async fn list_accounts(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::ADMIN])?;
    Ok(Json(json!({ "accounts": s.store.accounts().await? })))
}

pub(crate) async fn create_account(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<NewAccount>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(&[Role::ADMIN])?;
    let token = s
        .store
        .create_account(&Account {
            id: b.id.clone(),
            role: b.role,
            display_name: b.name,
            email: b.email,
            locale: b.locale,
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": b.id, "token": token })),
    ))
}

pub(crate) async fn disable_account(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::ADMIN])?;
    s.store.set_account_disabled(&id, true).await?;
    Ok(Json(json!({ "id": id, "disabled": true })))
}

pub(crate) async fn enable_account(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::ADMIN])?;
    s.store.set_account_disabled(&id, false).await?;
    Ok(Json(json!({ "id": id, "disabled": false })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailBody {
    email: Option<String>,
}

pub(crate) async fn set_email(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<EmailBody>,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::ADMIN])?;
    s.store.set_account_email(&id, b.email.as_deref()).await?;
    Ok(Json(json!({ "id": id, "email": b.email })))
}

pub(crate) async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::ADMIN])?;
    Ok(Json(json!({ "tokens": s.store.tokens(&id).await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TokenBody {
    label: String,
    #[serde(default)]
    expires_days: Option<u32>,
}

pub(crate) async fn issue_token(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<TokenBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    caller.require(&[Role::ADMIN])?;
    let issued = s.store.issue_token(&id, &b.label, b.expires_days).await?;
    Ok((StatusCode::CREATED, Json(json!(issued))))
}

pub(crate) async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::ADMIN])?;
    Ok(Json(json!(s.store.revoke_token(&id).await?)))
}

pub(crate) async fn rotate_token(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    caller.require(&[Role::ADMIN])?;
    Ok(Json(json!(s.store.rotate_token(&id).await?)))
}
