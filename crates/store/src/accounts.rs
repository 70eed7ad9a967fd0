//! Accounts and their API tokens: create, list, disable and enable accounts, change emails,
//! issue, list, rotate and revoke tokens (with an optional expiry). A token is shown once;
//! only its SHA-256 is stored. Revoking a token or disabling its account takes effect on the
//! next request: `authenticate` reads the database every time.

use crate::{
    Account, R, Store, StoreError, check_account, decode_row, is_unique_violation, now_ms,
    token_hash,
};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde::Serialize;

/// An account as administrators list it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromQueryResult)]
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
#[derive(Debug, Clone, Serialize)]
pub struct IssuedToken {
    /// Public facts.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token.
    pub token: String,
}

fn new_token() -> R<(String, String)> {
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(|e| StoreError::Crypto(e.to_string()))?;
    let token = format!("tf_{}", hex::encode(raw));
    let mut id = [0u8; 8];
    getrandom::getrandom(&mut id).map_err(|e| StoreError::Crypto(e.to_string()))?;
    Ok((format!("tok_{}", hex::encode(id)), token))
}

impl Store {
    /// Creates an account and returns its first API token (only its SHA-256 is stored). The
    /// id and role follow the one id pattern, the name is trimmed text, the email an address
    /// and the locale `zh-CN` or `en`; anything else is [`StoreError::InvalidAccount`].
    pub async fn create_account(&self, account: &Account) -> R<String> {
        check_account(account)?;
        let (token_id, token) = new_token()?;
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        txn.execute_raw(self.stmt(
            "INSERT INTO accounts (id, role, display_name, email, locale, token_hash, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                account.id.clone().into(),
                account.role.clone().into(),
                account.display_name.clone().into(),
                account.email.clone().into(),
                account.locale.clone().into(),
                token_hash(&token).into(),
                now_ms().into(),
            ],
        ))
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("account `{}` already exists", account.id))
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
    ) -> R<()> {
        conn.execute_raw(self.stmt(
            "INSERT INTO tokens (id, account_id, token_hash, label, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                id.into(),
                account.into(),
                token_hash(token).into(),
                label.into(),
                now_ms().into(),
                expires_ms.into(),
            ],
        ))
        .await?;
        Ok(())
    }

    /// The account a token belongs to, if the token is neither revoked nor expired and the
    /// account is not disabled.
    pub async fn authenticate(&self, token: &str) -> R<Option<Account>> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT a.id AS id, a.role AS role, a.display_name AS display_name, a.email AS email, a.locale AS locale \
                 FROM tokens t JOIN accounts a ON a.id = t.account_id \
                 WHERE t.token_hash = ? AND t.revoked_ms IS NULL AND (t.expires_ms IS NULL OR t.expires_ms > ?) AND a.disabled_ms IS NULL",
                vec![token_hash(token).into(), now_ms().into()],
            ))
            .await?;
        row.map(|r| decode_row::<Account>(&r)).transpose()
    }

    /// Every account, by id.
    pub async fn accounts(&self) -> R<Vec<AccountInfo>> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT id, role, display_name, email, locale, created_ms, disabled_ms FROM accounts ORDER BY id",
                vec![],
            ))
            .await?;
        rows.iter().map(decode_row::<AccountInfo>).collect()
    }

    async fn update_account(&self, id: &str, sql: &str, mut values: Vec<sea_orm::Value>) -> R<()> {
        values.push(id.into());
        let _gate = self.gate().await;
        let res = self.db.execute_raw(self.stmt(sql, values)).await?;
        if res.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("account `{id}`")));
        }
        Ok(())
    }

    /// Disables (or enables again) an account: a disabled account's tokens stop working at
    /// once; its history stays.
    pub async fn set_account_disabled(&self, id: &str, disabled: bool) -> R<()> {
        let at: Option<i64> = disabled.then(now_ms);
        self.update_account(
            id,
            "UPDATE accounts SET disabled_ms = ? WHERE id = ?",
            vec![at.into()],
        )
        .await
    }

    /// Changes an account's email address (checked like at creation).
    pub async fn set_account_email(&self, id: &str, email: Option<&str>) -> R<()> {
        let mut probe = self
            .account(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("account `{id}`")))?;
        probe.email = email.map(str::to_owned);
        check_account(&probe)?;
        self.update_account(
            id,
            "UPDATE accounts SET email = ? WHERE id = ?",
            vec![probe.email.into()],
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
    ) -> R<IssuedToken> {
        let until = expires_days.map(|d| now_ms() + i64::from(d) * 86_400_000);
        self.issue_token_until(account, label, until).await
    }

    /// Issues another token for an account that expires at `expires_ms` (ms since the epoch).
    pub async fn issue_token_until(
        &self,
        account: &str,
        label: &str,
        expires_ms: Option<i64>,
    ) -> R<IssuedToken> {
        if self.account(account).await?.is_none() {
            return Err(StoreError::NotFound(format!("account `{account}`")));
        }
        let label = label.trim();
        if label.is_empty() || label.len() > 128 || label.chars().any(char::is_control) {
            return Err(StoreError::InvalidAccount(
                "token label: 1–128 printable characters".into(),
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
    pub async fn token(&self, id: &str) -> R<Option<TokenInfo>> {
        let row = self
            .db
            .query_one_raw(self.stmt(
                "SELECT id, account_id, label, created_ms, expires_ms, revoked_ms FROM tokens WHERE id = ?",
                vec![id.into()],
            ))
            .await?;
        row.map(|r| decode_row::<TokenInfo>(&r)).transpose()
    }

    /// An account's tokens, newest first.
    pub async fn tokens(&self, account: &str) -> R<Vec<TokenInfo>> {
        let rows = self
            .db
            .query_all_raw(self.stmt(
                "SELECT id, account_id, label, created_ms, expires_ms, revoked_ms FROM tokens WHERE account_id = ? ORDER BY created_ms DESC, id",
                vec![account.into()],
            ))
            .await?;
        rows.iter().map(decode_row::<TokenInfo>).collect()
    }

    /// Revokes a token; it stops working on the next request. Revoking twice is a no-op.
    pub async fn revoke_token(&self, id: &str) -> R<TokenInfo> {
        {
            let _gate = self.gate().await;
            self.db
                .execute_raw(self.stmt(
                    "UPDATE tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL",
                    vec![now_ms().into(), id.into()],
                ))
                .await?;
        }
        self.token(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))
    }

    /// Replaces a token by a new one with the same label and expiry, and revokes the old.
    pub async fn rotate_token(&self, id: &str) -> R<IssuedToken> {
        let old = self
            .token(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))?;
        if old.revoked_ms.is_some() {
            return Err(StoreError::InvalidAccount(format!(
                "token `{id}` is revoked"
            )));
        }
        let new = self
            .issue_token_until(&old.account_id, &old.label, old.expires_ms)
            .await?;
        self.revoke_token(id).await?;
        Ok(new)
    }
}
