//! Accounts and API tokens for administrators: list, create, disable and enable accounts,
//! change emails, issue, list, rotate and revoke tokens (the store does the work).

use crate::AppState;
use crate::extract::{ApiResult, Body, Caller, Id};
use crate::schemas::{
    AccountCreated, AccountList, AccountState, EmailChanged, RegistrationClaimList,
    RegistrationClaimView, TokenList,
};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tenderflow_app::administration::NewAccount as Account;
use tenderflow_app::{IssuedToken, TokenInfo};

#[derive(Deserialize, utoipa::ToSchema)]
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
) -> ApiResult<Json<AccountList>> {
    Ok(Json(AccountList {
        accounts: s.app.accounts(&caller).await?,
    }))
}

pub(crate) async fn create_account(
    State(s): State<AppState>,
    caller: Caller,
    Body(b): Body<NewAccount>,
) -> ApiResult<(StatusCode, Json<AccountCreated>)> {
    let token = s
        .app
        .create_account(
            &caller,
            Account {
                id: b.id.clone(),
                role: b.role,
                name: b.name,
                email: b.email,
                locale: b.locale,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AccountCreated { id: b.id, token }),
    ))
}

pub(crate) async fn disable_account(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<AccountState>> {
    s.app.set_account_disabled(&caller, &id, true).await?;
    Ok(Json(AccountState { id, disabled: true }))
}

pub(crate) async fn enable_account(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<AccountState>> {
    s.app.set_account_disabled(&caller, &id, false).await?;
    Ok(Json(AccountState {
        id,
        disabled: false,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailBody {
    email: Option<String>,
}

pub(crate) async fn set_email(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<EmailBody>,
) -> ApiResult<Json<EmailChanged>> {
    s.app
        .set_account_email(&caller, &id, b.email.as_deref())
        .await?;
    Ok(Json(EmailChanged { id, email: b.email }))
}

pub(crate) async fn list_tokens(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList {
        tokens: s.app.tokens(&caller, &id).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
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
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let issued = s
        .app
        .issue_token(&caller, &id, &b.label, b.expires_days)
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

pub(crate) async fn revoke_token(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<TokenInfo>> {
    Ok(Json(s.app.revoke_token(&caller, &id).await?))
}

pub(crate) async fn rotate_token(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> ApiResult<Json<IssuedToken>> {
    Ok(Json(s.app.rotate_token(&caller, &id).await?))
}

/// `GET /registration-claims`.
pub(crate) async fn list_claims(
    State(s): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<RegistrationClaimList>> {
    let claims = s.app.registration_claims(&caller).await?;
    Ok(Json(RegistrationClaimList {
        claims: claims.into_iter().map(Into::into).collect(),
    }))
}

/// What staff decide of a registration claim.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ClaimDecisionBody {
    /// `approve` (the claimant gets the number) or `reject` (it stays with its holder).
    decision: ClaimChoice,
    /// Why (1–2000 characters).
    note: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ClaimChoice {
    Approve,
    Reject,
}

/// `POST /registration-claims/{id}/decision`.
pub(crate) async fn decide_claim(
    State(s): State<AppState>,
    caller: Caller,
    Id(id): Id,
    Body(b): Body<ClaimDecisionBody>,
) -> ApiResult<Json<RegistrationClaimView>> {
    let decision = match b.decision {
        ClaimChoice::Approve => tenderflow_app::accounts::ClaimDecision::Approve,
        ClaimChoice::Reject => tenderflow_app::accounts::ClaimDecision::Reject,
    };
    let claim = s
        .app
        .decide_registration_claim(&caller, &id, decision, &b.note)
        .await?;
    Ok(Json(claim.into()))
}
