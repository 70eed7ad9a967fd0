//! Accounts and their API tokens: create, list, disable and enable accounts, change emails,
//! issue, list, rotate and revoke tokens (with an optional expiry). A token is shown once;
//! only its SHA-256 is stored. Revoking a token or disabling its account takes effect on the
//! next request: `authenticate` reads the database every time.

use crate::sql::{Accounts, Order, Tokens, insert};
use crate::{CryptoError, Result, Store, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, Query, UpdateStatement};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A person or organisation that can act and receive mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    /// Account id (the actor id in commands).
    pub id: String,
    /// Role.
    pub role: String,
    /// Display name.
    pub display_name: String,
    /// Email address.
    pub email: Option<String>,
    /// `zh-CN` or `en`.
    pub locale: String,
}

/// An account as administrators list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfo {
    /// Account id.
    pub id: String,
    /// Role.
    pub role: String,
    /// Display name.
    pub display_name: String,
    /// Email address.
    pub email: Option<String>,
    /// `zh-CN` or `en`.
    pub locale: String,
    /// Created, ms.
    pub created_ms: i64,
    /// Disabled since, ms (its tokens do not work).
    pub disabled_ms: Option<i64>,
}

/// An API token's public facts (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Public id (`tok_…`).
    pub id: String,
    /// The account.
    pub account_id: String,
    /// What it is for.
    pub label: String,
    /// Issued, ms.
    pub created_ms: i64,
    /// Expires, ms.
    pub expires_ms: Option<i64>,
    /// Revoked, ms.
    pub revoked_ms: Option<i64>,
}

/// A token just issued: its public facts and the token, shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IssuedToken {
    /// Public facts.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token.
    pub token: String,
}

/// The columns of an [`Account`].
const ACCOUNT: [Accounts; 5] = [
    Accounts::Id,
    Accounts::Role,
    Accounts::DisplayName,
    Accounts::Email,
    Accounts::Locale,
];

/// The columns of a [`TokenInfo`].
fn select_tokens() -> sea_orm::sea_query::SelectStatement {
    Query::select()
        .columns([
            Tokens::Id,
            Tokens::AccountId,
            Tokens::Label,
            Tokens::CreatedMs,
            Tokens::ExpiresMs,
            Tokens::RevokedMs,
        ])
        .from(Tokens::Table)
        .to_owned()
}

fn new_token() -> Result<(String, String)> {
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(CryptoError::NoRandomness)?;
    let token = format!("tf_{}", hex::encode(raw));
    let mut id = [0u8; 8];
    getrandom::getrandom(&mut id).map_err(CryptoError::NoRandomness)?;
    Ok((format!("tok_{}", hex::encode(id)), token))
}

impl Store {
    /// Creates an account and returns its first API token (only its SHA-256 is stored). The
    /// id and role follow the one id pattern, the name is trimmed text, the email an address
    /// and the locale `zh-CN` or `en`; anything else is [`StoreError::InvalidAccount`].
    pub async fn create_account(&self, account: &Account) -> Result<String> {
        check_account(account)?;
        let (token_id, token) = new_token()?;
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        let row = insert(
            Accounts::Table,
            [
                (Accounts::Id, account.id.as_str().into()),
                (Accounts::Role, account.role.as_str().into()),
                (Accounts::DisplayName, account.display_name.as_str().into()),
                (Accounts::Email, account.email.clone().into()),
                (Accounts::Locale, account.locale.as_str().into()),
                (Accounts::TokenHash, token_hash(&token).into()),
                (Accounts::CreatedMs, self.now_ms().into()),
                // An administrator gave the address, and registered the account for the
                // procedures it runs: verified, and announcements on.
                (Accounts::EmailVerifiedMs, self.now_ms().into()),
                (Accounts::Announcements, true.into()),
            ],
        );
        txn.execute(&row).await.map_err(|e| {
            if crate::sql::is_unique_violation(&e) {
                StoreError::AccountExists {
                    id: account.id.clone(),
                }
            } else {
                e.into()
            }
        })?;
        self.insert_token(&txn, &token_id, &account.id, &token, "first", None)
            .await?;
        txn.commit().await?;
        Ok(token)
    }

    async fn insert_token<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
        account: &str,
        token: &str,
        label: &str,
        expires_ms: Option<i64>,
    ) -> Result<()> {
        let row = insert(
            Tokens::Table,
            [
                (Tokens::Id, id.into()),
                (Tokens::AccountId, account.into()),
                (Tokens::TokenHash, token_hash(token).into()),
                (Tokens::Label, label.into()),
                (Tokens::CreatedMs, self.now_ms().into()),
                (Tokens::ExpiresMs, expires_ms.into()),
            ],
        );
        conn.execute(&row).await?;
        Ok(())
    }

    /// The account a token belongs to, if the token is neither revoked nor expired and the
    /// account is not disabled.
    pub async fn authenticate(&self, token: &str) -> Result<Option<Account>> {
        let now = self.now_ms();
        let q = Query::select()
            .columns(ACCOUNT.map(|c| (Accounts::Table, c)))
            .from(Tokens::Table)
            .inner_join(
                Accounts::Table,
                Expr::col((Accounts::Table, Accounts::Id))
                    .equals((Tokens::Table, Tokens::AccountId)),
            )
            .and_where(Expr::col((Tokens::Table, Tokens::TokenHash)).eq(token_hash(token)))
            .and_where(Expr::col((Tokens::Table, Tokens::RevokedMs)).is_null())
            .and_where(
                Expr::col((Tokens::Table, Tokens::ExpiresMs))
                    .is_null()
                    .or(Expr::col((Tokens::Table, Tokens::ExpiresMs)).gt(now)),
            )
            .and_where(Expr::col((Accounts::Table, Accounts::DisabledMs)).is_null())
            .to_owned();
        self.one(&self.db, &q).await
    }

    /// An account by id.
    pub async fn account(&self, id: &str) -> Result<Option<Account>> {
        self.account_in(&self.db, id).await
    }

    /// [`Store::account`] through `conn` (inside a transaction).
    pub(crate) async fn account_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        id: &str,
    ) -> Result<Option<Account>> {
        let q = Query::select()
            .columns(ACCOUNT)
            .from(Accounts::Table)
            .and_where(Expr::col(Accounts::Id).eq(id))
            .to_owned();
        self.one(conn, &q).await
    }

    /// Every account, by id.
    pub async fn accounts(&self) -> Result<Vec<AccountInfo>> {
        let q = Query::select()
            .columns(ACCOUNT)
            .columns([Accounts::CreatedMs, Accounts::DisabledMs])
            .from(Accounts::Table)
            .order_by(Accounts::Id, Order::Asc)
            .to_owned();
        self.all(&self.db, &q).await
    }

    /// Runs `q` (an update of the accounts table) on account `id`.
    async fn update_account(&self, id: &str, mut q: UpdateStatement) -> Result<()> {
        q.table(Accounts::Table)
            .and_where(Expr::col(Accounts::Id).eq(id));
        let _gate = self.gate().await;
        if self.db.execute(&q).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("account `{id}`")));
        }
        Ok(())
    }

    /// Disables (or enables again) an account: a disabled account's tokens stop working at
    /// once; its history stays.
    pub async fn set_account_disabled(&self, id: &str, disabled: bool) -> Result<()> {
        let at: Option<i64> = disabled.then(|| self.now_ms());
        self.update_account(
            id,
            Query::update().value(Accounts::DisabledMs, at).to_owned(),
        )
        .await
    }

    /// Changes an account's email address (checked like at creation).
    pub async fn set_account_email(&self, id: &str, email: Option<&str>) -> Result<()> {
        let mut probe = self
            .account(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("account `{id}`")))?;
        probe.email = email.map(str::to_owned);
        check_account(&probe)?;
        self.update_account(
            id,
            Query::update()
                .value(Accounts::Email, probe.email)
                .to_owned(),
        )
        .await
    }

    /// Issues another token for an account, with a label, valid for `expires_days` days from
    /// now (system time, as authentication checks it) or for ever.
    pub async fn issue_token(
        &self,
        account: &str,
        label: &str,
        expires_days: Option<u32>,
    ) -> Result<IssuedToken> {
        let until = expires_days.map(|d| self.now_ms() + i64::from(d) * 86_400_000);
        self.issue_token_until(account, label, until).await
    }

    /// Issues another token for an account that expires at `expires_ms` (ms since the epoch).
    pub async fn issue_token_until(
        &self,
        account: &str,
        label: &str,
        expires_ms: Option<i64>,
    ) -> Result<IssuedToken> {
        if self.account(account).await?.is_none() {
            return Err(StoreError::NotFound(format!("account `{account}`")));
        }
        let label = label.trim();
        if label.is_empty() || label.len() > 128 || label.chars().any(char::is_control) {
            return Err(StoreError::invalid_account(
                AccountField::TokenLabel,
                "token label: 1–128 printable characters",
            ));
        }
        let (id, token) = new_token()?;
        {
            let _gate = self.gate().await;
            self.insert_token(&self.db, &id, account, &token, label, expires_ms)
                .await?;
        }
        let info = self
            .token(&id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))?;
        Ok(IssuedToken { info, token })
    }

    /// A token's public facts.
    pub async fn token(&self, id: &str) -> Result<Option<TokenInfo>> {
        let q = select_tokens()
            .and_where(Expr::col(Tokens::Id).eq(id))
            .to_owned();
        self.one(&self.db, &q).await
    }

    /// An account's tokens, newest first.
    pub async fn tokens(&self, account: &str) -> Result<Vec<TokenInfo>> {
        let q = select_tokens()
            .and_where(Expr::col(Tokens::AccountId).eq(account))
            .order_by(Tokens::CreatedMs, Order::Desc)
            .order_by(Tokens::Id, Order::Asc)
            .to_owned();
        self.all(&self.db, &q).await
    }

    /// Revokes a token; it stops working on the next request. Revoking twice is a no-op.
    pub async fn revoke_token(&self, id: &str) -> Result<TokenInfo> {
        {
            let _gate = self.gate().await;
            let q = Query::update()
                .table(Tokens::Table)
                .value(Tokens::RevokedMs, self.now_ms())
                .and_where(Expr::col(Tokens::Id).eq(id))
                .and_where(Expr::col(Tokens::RevokedMs).is_null())
                .to_owned();
            self.db.execute(&q).await?;
        }
        self.token(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))
    }

    /// Replaces a token by a new one with the same label and expiry, and revokes the old.
    pub async fn rotate_token(&self, id: &str) -> Result<IssuedToken> {
        let old = self
            .token(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))?;
        if old.revoked_ms.is_some() {
            return Err(StoreError::invalid_account(
                AccountField::Token,
                format!("token `{id}` is revoked"),
            ));
        }
        let new = self
            .issue_token_until(&old.account_id, &old.label, old.expires_ms)
            .await?;
        self.revoke_token(id).await?;
        Ok(new)
    }
}

/// Which of an account's fields (or what about it) is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountField {
    /// The account id.
    Id,
    /// The role.
    Role,
    /// The name people read.
    Name,
    /// The email address.
    Email,
    /// The language.
    Locale,
    /// A registering organisation's registration number.
    RegistrationNumber,
    /// A registering organisation's contact person.
    ContactPerson,
    /// An API token's label.
    TokenLabel,
    /// An API token (revoked already).
    Token,
    /// A registration claim (decided already).
    Claim,
}

/// Checks an account's fields before it is written.
pub(crate) fn check_account(a: &Account) -> Result<()> {
    let bad = |field, m: String| Err(StoreError::invalid_account(field, m));
    if let Some(p) = tenderflow_core::ids::problem(&a.id) {
        return bad(AccountField::Id, format!("id: {p}"));
    }
    if let Some(p) = tenderflow_core::ids::problem(&a.role) {
        return bad(AccountField::Role, format!("role: {p}"));
    }
    let name = &a.display_name;
    if name.trim().is_empty() || name.trim() != name {
        return bad(
            AccountField::Name,
            "name: non-empty text without surrounding spaces".into(),
        );
    }
    if let Some(what) = tenderflow_core::text::name_problem(name) {
        return bad(AccountField::Name, format!("name: may not hold {what}"));
    }
    if let Some(email) = &a.email {
        let ok = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.contains('@')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if !ok {
            return bad(
                AccountField::Email,
                format!(
                    "email: `{}` is not an address like name@example.org",
                    email.escape_debug()
                ),
            );
        }
    }
    if !matches!(a.locale.as_str(), "zh-CN" | "en") {
        return bad(
            AccountField::Locale,
            format!("locale: `{}` is not zh-CN or en", a.locale.escape_debug()),
        );
    }
    Ok(())
}

/// SHA-256 (hex) of an API token, the form in which tokens are stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
