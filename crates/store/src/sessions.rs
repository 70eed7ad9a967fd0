//! Accounts in the browser (self-registration is [`crate::registration`]): passwords (the application hashes them; only the hash is stored), sessions kept in
//! the database (so several servers share them), one-use mailed tokens (verification,
//! password reset, subscription confirmation: [`crate::subscriptions`]), and failed sign-ins
//! counted for rate limiting.
//!
//! Every secret (session cookie, mailed token) is 32 random bytes shown once; the database
//! keeps its SHA-256. Mailed tokens travel in the outbox sealed with the installation's key.
//! Times here are wall-clock times (`clock::wall_ms`): a session or a reset link lasts real
//! hours whatever the procedure's clock says.

use crate::accounts::token_hash;
use crate::clock::wall_ms;
use crate::outbox::{AccountMail, RecipientKind};
use crate::sql::{Accounts, MailTokens, Sessions, SignInFailures, insert};
use crate::{Account, CryptoError, Result, Store, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde_json::json;

/// How long a session lasts at most.
pub const SESSION_MS: i64 = 12 * 3_600_000;
/// A session unused for this long ends.
pub const SESSION_IDLE_MS: i64 = 2 * 3_600_000;
/// How long a verification or subscription link works.
pub const VERIFY_MS: i64 = 48 * 3_600_000;
/// How long a password-reset link works.
pub const RESET_MS: i64 = 3_600_000;
/// The window in which mailed links to one address are counted.
pub const MAIL_WINDOW_MS: i64 = 3_600_000;
/// Mailed links (verification, reset, subscription, registration attempts) one address
/// gets at most in the window; more requests are answered as ever, and send nothing.
pub const MAILS_PER_ADDRESS: u64 = 5;
/// The window in which failed sign-ins are counted.
pub const SIGN_IN_WINDOW_MS: i64 = 15 * 60_000;
/// Failed sign-ins allowed per account (or address) in the window; more are refused until
/// the window has passed.
pub const SIGN_IN_LIMIT: u64 = 5;

/// An account as its owner sees it on the account page.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Profile {
    /// Account id.
    pub id: String,
    /// Role.
    pub role: String,
    /// Name.
    pub display_name: String,
    /// Email address.
    pub email: Option<String>,
    /// `zh-CN` or `en`.
    pub locale: String,
    /// Registration number (self-registered organisations).
    pub registration_number: Option<String>,
    /// Contact person (self-registered organisations).
    pub contact_person: Option<String>,
    /// Announcements by mail.
    pub announcements: bool,
    /// Address verified at, ms.
    pub email_verified_ms: Option<i64>,
}

/// What signing in checks.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Credentials {
    /// Account id.
    pub id: String,
    /// The password's hash, if a password was set.
    pub password_hash: Option<String>,
    /// Address verified at, ms.
    pub email_verified_ms: Option<i64>,
    /// Disabled at, ms.
    pub disabled_ms: Option<i64>,
}

/// A sign-in attempt claimed before its password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignInAttempt {
    id: i64,
    /// The attempts for its key in the window, up to and including this one.
    pub count: u64,
}

/// A signed-in session: its account and the token its forms must carry.
#[derive(Debug, Clone)]
pub struct Session {
    /// The account.
    pub account: Account,
    /// The session's CSRF token.
    pub csrf: String,
}

#[derive(FromQueryResult)]
struct SessionRow {
    id: String,
    role: String,
    display_name: String,
    email: Option<String>,
    locale: String,
    csrf: String,
    last_seen_ms: i64,
}

#[derive(FromQueryResult)]
pub(crate) struct TokenRow {
    pub(crate) account_id: Option<String>,
    pub(crate) email: Option<String>,
}

/// 32 random bytes, hex.
pub(crate) fn secret() -> Result<String> {
    let mut raw = [0u8; 32];
    getrandom::getrandom(&mut raw).map_err(CryptoError::NoRandomness)?;
    Ok(hex::encode(raw))
}

pub(crate) fn lower(col: impl sea_orm::sea_query::IntoColumnRef) -> SimpleExpr {
    Func::lower(Expr::col(col)).into()
}

impl Store {
    /// Issues a one-use token for `account` and queues the message that carries it.
    pub(crate) async fn mail_token<C: ConnectionTrait>(
        &self,
        conn: &C,
        kind: AccountMail,
        account: &Account,
        valid_ms: i64,
        data: serde_json::Value,
    ) -> Result<()> {
        let token = secret()?;
        let now = wall_ms();
        let purpose = match kind {
            AccountMail::VerifyEmail => "verify",
            // Its link sets a new password, like a reset's.
            AccountMail::PasswordReset | AccountMail::RegistrationAttempt => "reset",
            AccountMail::ConfirmSubscription => "subscribe",
        };
        // No address is flooded: past the limit the request is answered as ever, and
        // nothing is sent.
        if let Some(email) = account.email.as_deref() {
            let recent = Query::select()
                .expr(Expr::col(MailTokens::TokenHash).count())
                .from(MailTokens::Table)
                .and_where(lower(MailTokens::Email).eq(email.trim().to_lowercase()))
                .and_where(Expr::col(MailTokens::CreatedMs).gt(now - MAIL_WINDOW_MS))
                .to_owned();
            if self.count(conn, &recent).await? >= MAILS_PER_ADDRESS {
                tracing::info!(
                    kind = kind.as_str(),
                    "mail to an address held back: its hourly limit is reached"
                );
                return Ok(());
            }
        }
        if kind != AccountMail::ConfirmSubscription {
            // A new link voids the account's earlier ones of the same purpose.
            void_tokens(conn, purpose, &account.id, now).await?;
        }
        let row = insert(
            MailTokens::Table,
            [
                (MailTokens::TokenHash, token_hash(&token).into()),
                (MailTokens::Purpose, purpose.into()),
                (MailTokens::AccountId, account.id.as_str().into()),
                (MailTokens::Email, account.email.clone().into()),
                (MailTokens::CreatedMs, now.into()),
                (MailTokens::ExpiresMs, (now + valid_ms).into()),
            ],
        );
        conn.execute(&row).await?;
        let to = match kind {
            AccountMail::ConfirmSubscription => (
                RecipientKind::Email,
                account.email.as_deref().unwrap_or_default(),
            ),
            _ => (RecipientKind::Account, account.id.as_str()),
        };
        let mut data = data;
        data["locale"] = account.locale.as_str().into();
        data["valid_hours"] = (valid_ms / 3_600_000).into();
        self.queue_account_mail(conn, kind, to, data, &token).await
    }

    /// Uses a mailed token once: the account or address it was issued for, or `None` when it
    /// is unknown, used or expired.
    pub(crate) async fn use_token<C: ConnectionTrait>(
        &self,
        conn: &C,
        purpose: &str,
        token: &str,
    ) -> Result<Option<TokenRow>> {
        let now = wall_ms();
        let hash = token_hash(token.trim());
        let used = Query::update()
            .table(MailTokens::Table)
            .value(MailTokens::UsedMs, now)
            .and_where(Expr::col(MailTokens::TokenHash).eq(hash.as_str()))
            .and_where(Expr::col(MailTokens::Purpose).eq(purpose))
            .and_where(Expr::col(MailTokens::UsedMs).is_null())
            .and_where(Expr::col(MailTokens::ExpiresMs).gt(now))
            .to_owned();
        if conn.execute(&used).await?.rows_affected() != 1 {
            return Ok(None);
        }
        let q = Query::select()
            .columns([MailTokens::AccountId, MailTokens::Email])
            .from(MailTokens::Table)
            .and_where(Expr::col(MailTokens::TokenHash).eq(hash))
            .to_owned();
        let row: Option<TokenRow> = self.one(conn, &q).await?;
        if purpose != "subscribe" {
            // Using a link voids every other link of its purpose to the same account.
            if let Some(TokenRow {
                account_id: Some(id),
                ..
            }) = &row
            {
                void_tokens(conn, purpose, id, now).await?;
            }
        }
        Ok(row)
    }

    /// Verifies an address through its mailed token: the account, or `None` when the link is
    /// unknown, used or expired.
    pub async fn verify_email(&self, token: &str) -> Result<Option<Account>> {
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        let Some(TokenRow {
            account_id: Some(id),
            ..
        }) = self.use_token(&txn, "verify", token).await?
        else {
            return Ok(None);
        };
        let q = Query::update()
            .table(Accounts::Table)
            .value(Accounts::EmailVerifiedMs, wall_ms())
            .and_where(Expr::col(Accounts::Id).eq(id.as_str()))
            .to_owned();
        txn.execute(&q).await?;
        txn.commit().await?;
        drop(_gate);
        self.account(&id).await
    }

    /// Sends a new verification link to an unverified account with this address (quietly
    /// nothing otherwise: the answer never tells whether an address is registered).
    pub async fn resend_verification(&self, email: &str) -> Result<()> {
        let Some(creds) = self.credentials(email).await? else {
            return Ok(());
        };
        if creds.email_verified_ms.is_some() || creds.disabled_ms.is_some() {
            return Ok(());
        }
        let Some(account) = self.account(&creds.id).await? else {
            return Ok(());
        };
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        self.mail_token(
            &txn,
            AccountMail::VerifyEmail,
            &account,
            VERIFY_MS,
            json!({ "organisation": account.display_name }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// What signing in checks, for an account id or an email address (case-insensitive).
    pub async fn credentials(&self, login: &str) -> Result<Option<Credentials>> {
        let login = login.trim();
        let q = Query::select()
            .columns([
                Accounts::Id,
                Accounts::PasswordHash,
                Accounts::EmailVerifiedMs,
                Accounts::DisabledMs,
            ])
            .from(Accounts::Table)
            .cond_where(
                Expr::col(Accounts::Id)
                    .eq(login)
                    .or(lower(Accounts::Email).eq(login.to_lowercase())),
            )
            .limit(2)
            .to_owned();
        let rows: Vec<Credentials> = self.all(&self.db, &q).await?;
        // An address shared by several accounts (made by administrators) names none of them.
        Ok(match rows.len() {
            1 => rows.into_iter().next(),
            _ => rows.into_iter().find(|c| c.id == login),
        })
    }

    /// Sets an account's password hash and ends its sessions (a new password signs out
    /// everywhere).
    pub async fn set_password_hash(&self, account: &str, hash: &str) -> Result<()> {
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        let q = Query::update()
            .table(Accounts::Table)
            .value(Accounts::PasswordHash, hash)
            .and_where(Expr::col(Accounts::Id).eq(account))
            .to_owned();
        if txn.execute(&q).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("account `{account}`")));
        }
        end_sessions(&txn, account).await?;
        txn.commit().await?;
        Ok(())
    }

    /// Queues a password-reset link to the verified, enabled account with this address
    /// (quietly nothing otherwise).
    pub async fn request_password_reset(&self, email: &str) -> Result<()> {
        let Some(creds) = self.credentials(email).await? else {
            return Ok(());
        };
        if creds.email_verified_ms.is_none() || creds.disabled_ms.is_some() {
            return Ok(());
        }
        let Some(account) = self.account(&creds.id).await? else {
            return Ok(());
        };
        if account.email.is_none() {
            return Ok(());
        }
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        self.mail_token(
            &txn,
            AccountMail::PasswordReset,
            &account,
            RESET_MS,
            json!({ "organisation": account.display_name }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Sets a new password through a mailed reset token and ends every session of the
    /// account: its id, or `None` when the link is unknown, used or expired.
    pub async fn reset_password(&self, token: &str, hash: &str) -> Result<Option<String>> {
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        let Some(TokenRow {
            account_id: Some(id),
            ..
        }) = self.use_token(&txn, "reset", token).await?
        else {
            return Ok(None);
        };
        let q = Query::update()
            .table(Accounts::Table)
            .value(Accounts::PasswordHash, hash)
            .and_where(Expr::col(Accounts::Id).eq(id.as_str()))
            .to_owned();
        txn.execute(&q).await?;
        end_sessions(&txn, &id).await?;
        txn.commit().await?;
        Ok(Some(id))
    }

    /// Claims one sign-in attempt for `key` before its password is checked: the attempt is
    /// counted as a failure at once (and stays one unless [`Store::clear_sign_in_failures`]
    /// or [`Store::release_sign_in_attempt`] takes it back), then the attempts in the window
    /// are counted, this one included. Because every attempt is written before it is counted,
    /// the `n`-th attempt to commit sees at least `n`, however many run at once on however
    /// many servers: at most [`SIGN_IN_LIMIT`] attempts ever see a count within the limit.
    /// Forgets attempts older than the window on the way.
    pub async fn claim_sign_in_attempt(&self, key: &str) -> Result<SignInAttempt> {
        let now = wall_ms();
        let key = key.to_lowercase();
        let _gate = self.gate().await;
        let old = Query::delete()
            .from_table(SignInFailures::Table)
            .and_where(Expr::col(SignInFailures::AtMs).lte(now - SIGN_IN_WINDOW_MS))
            .to_owned();
        self.db.execute(&old).await?;
        let row = insert(
            SignInFailures::Table,
            [
                (SignInFailures::Key, key.as_str().into()),
                (SignInFailures::AtMs, now.into()),
            ],
        )
        .returning_col(SignInFailures::Id)
        .to_owned();
        let id: i64 = self
            .db
            .query_one(&row)
            .await?
            .ok_or_else(|| StoreError::NotFound("the sign-in attempt just written".into()))?
            .try_get_by_index(0)?;
        let q = Query::select()
            .expr(Expr::col(SignInFailures::Id).count())
            .from(SignInFailures::Table)
            .and_where(Expr::col(SignInFailures::Key).eq(key.as_str()))
            .and_where(Expr::col(SignInFailures::AtMs).gt(now - SIGN_IN_WINDOW_MS))
            .to_owned();
        Ok(SignInAttempt {
            id,
            count: self.count(&self.db, &q).await?,
        })
    }

    /// Takes back an attempt that was refused before its password was checked, so that
    /// refusals do not extend the window.
    pub async fn release_sign_in_attempt(&self, attempt: &SignInAttempt) -> Result<()> {
        let _gate = self.gate().await;
        let q = Query::delete()
            .from_table(SignInFailures::Table)
            .and_where(Expr::col(SignInFailures::Id).eq(attempt.id))
            .to_owned();
        self.db.execute(&q).await?;
        Ok(())
    }

    /// Forgets the failed sign-ins for `key` (after a successful one).
    pub async fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        let _gate = self.gate().await;
        let q = Query::delete()
            .from_table(SignInFailures::Table)
            .and_where(Expr::col(SignInFailures::Key).eq(key.to_lowercase()))
            .to_owned();
        self.db.execute(&q).await?;
        Ok(())
    }

    /// Starts a session for `account`: the cookie value (shown once) and the session.
    pub async fn create_session(&self, account: &str) -> Result<(String, Session)> {
        let account = self
            .account(account)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("account `{account}`")))?;
        let (cookie, csrf) = (secret()?, secret()?);
        let now = wall_ms();
        let row = insert(
            Sessions::Table,
            [
                (Sessions::IdHash, token_hash(&cookie).into()),
                (Sessions::AccountId, account.id.as_str().into()),
                (Sessions::Csrf, csrf.as_str().into()),
                (Sessions::CreatedMs, now.into()),
                (Sessions::LastSeenMs, now.into()),
                (Sessions::ExpiresMs, (now + SESSION_MS).into()),
            ],
        );
        let _gate = self.gate().await;
        self.db.execute(&row).await?;
        Ok((cookie, Session { account, csrf }))
    }

    /// The session of a cookie, if it has not ended, was used within the idle time and its
    /// account is enabled; marks it used (at most once a minute).
    pub async fn session(&self, cookie: &str) -> Result<Option<Session>> {
        let now = wall_ms();
        let hash = token_hash(cookie);
        // One query per request: the session and its (enabled) account together.
        let q = Query::select()
            .columns([
                (Accounts::Table, Accounts::Id),
                (Accounts::Table, Accounts::Role),
                (Accounts::Table, Accounts::DisplayName),
                (Accounts::Table, Accounts::Email),
                (Accounts::Table, Accounts::Locale),
            ])
            .columns([
                (Sessions::Table, Sessions::Csrf),
                (Sessions::Table, Sessions::LastSeenMs),
            ])
            .from(Sessions::Table)
            .inner_join(
                Accounts::Table,
                Expr::col((Accounts::Table, Accounts::Id))
                    .equals((Sessions::Table, Sessions::AccountId)),
            )
            .and_where(Expr::col((Sessions::Table, Sessions::IdHash)).eq(hash.as_str()))
            .and_where(Expr::col((Sessions::Table, Sessions::ExpiresMs)).gt(now))
            .and_where(Expr::col((Sessions::Table, Sessions::LastSeenMs)).gt(now - SESSION_IDLE_MS))
            .and_where(Expr::col((Accounts::Table, Accounts::DisabledMs)).is_null())
            .to_owned();
        let Some(row): Option<SessionRow> = self.one(&self.db, &q).await? else {
            return Ok(None);
        };
        if now - row.last_seen_ms > 60_000 {
            let touch = Query::update()
                .table(Sessions::Table)
                .value(Sessions::LastSeenMs, now)
                .and_where(Expr::col(Sessions::IdHash).eq(hash))
                .to_owned();
            let _gate = self.gate().await;
            self.db.execute(&touch).await?;
        }
        Ok(Some(Session {
            account: Account {
                id: row.id,
                role: row.role,
                display_name: row.display_name,
                email: row.email,
                locale: row.locale,
            },
            csrf: row.csrf,
        }))
    }

    /// Ends one session (signing out).
    pub async fn end_session(&self, cookie: &str) -> Result<()> {
        let _gate = self.gate().await;
        let q = Query::delete()
            .from_table(Sessions::Table)
            .and_where(Expr::col(Sessions::IdHash).eq(token_hash(cookie)))
            .to_owned();
        self.db.execute(&q).await?;
        Ok(())
    }

    /// Ends every session of an account (signing out everywhere); returns how many.
    pub async fn end_sessions(&self, account: &str) -> Result<u64> {
        let _gate = self.gate().await;
        end_sessions(&self.db, account).await
    }

    /// An account's page facts.
    pub async fn profile(&self, account: &str) -> Result<Option<Profile>> {
        let q = Query::select()
            .columns([
                Accounts::Id,
                Accounts::Role,
                Accounts::DisplayName,
                Accounts::Email,
                Accounts::Locale,
                Accounts::RegistrationNumber,
                Accounts::ContactPerson,
                Accounts::Announcements,
                Accounts::EmailVerifiedMs,
            ])
            .from(Accounts::Table)
            .and_where(Expr::col(Accounts::Id).eq(account))
            .to_owned();
        self.one(&self.db, &q).await
    }

    /// Whether an account gets announcements of new tenders, and its language.
    pub async fn set_preferences(
        &self,
        account: &str,
        announcements: bool,
        locale: &str,
    ) -> Result<()> {
        if !matches!(locale, "zh-CN" | "en") {
            return Err(StoreError::invalid_account(
                crate::accounts::AccountField::Locale,
                format!("locale: `{}` is not zh-CN or en", locale.escape_debug()),
            ));
        }
        let _gate = self.gate().await;
        let q = Query::update()
            .table(Accounts::Table)
            .value(Accounts::Announcements, announcements)
            .value(Accounts::Locale, locale)
            .and_where(Expr::col(Accounts::Id).eq(account))
            .to_owned();
        if self.db.execute(&q).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("account `{account}`")));
        }
        Ok(())
    }
}

/// Marks every unused `purpose` token of `account` used (voided) at `now`.
async fn void_tokens<C: ConnectionTrait>(
    conn: &C,
    purpose: &str,
    account: &str,
    now: i64,
) -> Result<()> {
    let q = Query::update()
        .table(MailTokens::Table)
        .value(MailTokens::UsedMs, now)
        .and_where(Expr::col(MailTokens::Purpose).eq(purpose))
        .and_where(Expr::col(MailTokens::AccountId).eq(account))
        .and_where(Expr::col(MailTokens::UsedMs).is_null())
        .to_owned();
    conn.execute(&q).await?;
    Ok(())
}

async fn end_sessions<C: ConnectionTrait>(conn: &C, account: &str) -> Result<u64> {
    let q = Query::delete()
        .from_table(Sessions::Table)
        .and_where(Expr::col(Sessions::AccountId).eq(account))
        .to_owned();
    Ok(conn.execute(&q).await?.rows_affected())
}

/// Whether two secrets are equal, in time that does not depend on where they differ
/// (`subtle`'s comparison).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
}
