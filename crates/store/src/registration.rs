//! Organisations registering themselves: the account (unverified, its verification mail in
//! the same transaction), answered the same whether or not the address or registration
//! number is taken (the owner is mailed instead, and a number held by another address
//! becomes a claim: [`crate::claims`]), and unverified registrations whose link expired
//! releasing what they hold.

use crate::accounts::{AccountField, check_account, token_hash};
use crate::clock::wall_ms;
use crate::outbox::AccountMail;
use crate::sessions::{RESET_MS, VERIFY_MS, lower, secret};
use crate::sql::{Accounts, MailTokens, insert};
use crate::{Account, Result, Store, StoreError};
use sea_orm::sea_query::{Cond, Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

/// An organisation registering itself as a bidder.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The organisation's name.
    pub name: String,
    /// Unified social credit code or other registration number.
    pub registration_number: String,
    /// The contact person.
    pub contact_person: String,
    /// The address verification goes to.
    pub email: String,
    /// `zh-CN` or `en`.
    pub locale: String,
    /// The password's argon2id hash (PHC string).
    pub password_hash: String,
    /// Whether it wants announcements of new tenders by mail.
    pub announcements: bool,
}

/// What a registration did (the pages answer both the same way).
#[derive(Debug, Clone)]
pub enum Registered {
    /// A new account, waiting for its address to be verified.
    New(Account),
    /// The address or number belongs to an account already, whose owner was mailed.
    Existing,
}

/// The row of a self-registered organisation's account, not yet verified (registration, and
/// an approved claim).
pub(crate) fn self_registered(
    account: &Account,
    password_hash: &str,
    number: &str,
    contact: &str,
    announcements: bool,
) -> Result<sea_orm::sea_query::InsertStatement> {
    Ok(insert(
        Accounts::Table,
        [
            (Accounts::Id, account.id.as_str().into()),
            (Accounts::Role, account.role.as_str().into()),
            (Accounts::DisplayName, account.display_name.as_str().into()),
            (Accounts::Email, account.email.clone().into()),
            (Accounts::Locale, account.locale.as_str().into()),
            // No API token: an unusable hash fills the legacy column.
            (Accounts::TokenHash, token_hash(&secret()?).into()),
            (Accounts::CreatedMs, wall_ms().into()),
            (Accounts::PasswordHash, password_hash.into()),
            (Accounts::RegistrationNumber, number.into()),
            (Accounts::ContactPerson, contact.into()),
            (Accounts::Announcements, announcements.into()),
        ],
    ))
}

/// Removes self-registered accounts never verified whose link has expired and that hold
/// `email` or `number`, with their mailed links.
async fn release_expired_registrations<C: ConnectionTrait>(
    conn: &C,
    email: &str,
    number: &str,
) -> Result<()> {
    let stale = Query::select()
        .column(Accounts::Id)
        .from(Accounts::Table)
        .and_where(Expr::col(Accounts::EmailVerifiedMs).is_null())
        .and_where(Expr::col(Accounts::RegistrationNumber).is_not_null())
        .and_where(Expr::col(Accounts::CreatedMs).lt(wall_ms() - VERIFY_MS))
        .cond_where(
            Cond::any()
                .add(lower(Accounts::Email).eq(email))
                .add(Expr::col(Accounts::RegistrationNumber).eq(number)),
        )
        .to_owned();
    let ids: Vec<String> = conn
        .query_all(&stale)
        .await?
        .iter()
        .map(|r| r.try_get_by_index::<String>(0))
        .collect::<std::result::Result<_, _>>()?;
    if ids.is_empty() {
        return Ok(());
    }
    let tokens = Query::delete()
        .from_table(MailTokens::Table)
        .and_where(Expr::col(MailTokens::AccountId).is_in(ids.clone()))
        .to_owned();
    conn.execute(&tokens).await?;
    let accounts = Query::delete()
        .from_table(Accounts::Table)
        .and_where(Expr::col(Accounts::Id).is_in(ids))
        .to_owned();
    conn.execute(&accounts).await?;
    Ok(())
}

/// Checks a registration's organisation facts (the account's own checks follow).
fn check_registration(r: &Registration) -> Result<()> {
    let bad = |field, m: &str| Err(StoreError::invalid_account(field, m));
    let number = r.registration_number.trim();
    if number.is_empty()
        || number.len() > 64
        || !number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return bad(
            AccountField::RegistrationNumber,
            "registration number: 1–64 letters, digits or hyphens",
        );
    }
    let contact = r.contact_person.trim();
    if contact.is_empty()
        || contact.chars().count() > 128
        || tenderflow_core::text::name_problem(contact).is_some()
    {
        return bad(
            AccountField::ContactPerson,
            "contact person: 1–128 characters of text",
        );
    }
    if r.name.trim().chars().count() > 200 {
        return bad(AccountField::Name, "name: at most 200 characters");
    }
    Ok(())
}

impl Store {
    /// Registers an organisation as a bidder: the account (not yet verified, so it cannot
    /// sign in), and the verification mail with its link, in one transaction.
    ///
    /// The answer never tells whether an organisation is registered: when the address or
    /// the registration number belongs to an account already, nothing is made and that
    /// account's owner is mailed instead (a new verification link if it is unverified, else
    /// a link to set a new password), and the answer is [`Registered::Existing`], which the
    /// pages answer exactly as a new registration. An unverified registration whose link has
    /// expired holds nothing: it is removed when another registration wants its address or
    /// number.
    pub async fn register(&self, r: &Registration) -> Result<Registered> {
        check_registration(r)?;
        let account = Account {
            id: format!("org-{}", &secret()?[..16]),
            role: "bidder".to_owned(),
            display_name: r.name.trim().to_owned(),
            email: Some(r.email.trim().to_owned()),
            locale: r.locale.clone(),
        };
        check_account(&account)?;
        let email = r.email.trim().to_lowercase();
        let number = r.registration_number.trim().to_uppercase();
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        release_expired_registrations(&txn, &email, &number).await?;
        let holder = |cond: SimpleExpr| {
            Query::select()
                .column(Accounts::Id)
                .from(Accounts::Table)
                .and_where(cond)
                .limit(1)
                .to_owned()
        };
        let id_of = |row: Option<sea_orm::QueryResult>| {
            row.map(|r| r.try_get_by_index::<String>(0)).transpose()
        };
        let by_email = id_of(
            txn.query_one(&holder(lower(Accounts::Email).eq(email.as_str())))
                .await?,
        )?;
        let by_number = id_of(
            txn.query_one(&holder(
                Expr::col(Accounts::RegistrationNumber).eq(number.as_str()),
            ))
            .await?,
        )?;
        if by_email.is_some() || by_number.is_some() {
            // A number held by an account of another address may be the real
            // organisation's: staff decide (`crate::claims`).
            if let (None, Some(h)) = (&by_email, &by_number) {
                let claim = format!("claim-{}", &secret()?[..16]);
                self.record_claim(&txn, r, &number, h, &claim).await?;
            }
            for id in by_email
                .iter()
                .chain(by_number.iter().filter(|n| Some(*n) != by_email.as_ref()))
            {
                self.mail_holder(&txn, id).await?;
            }
            txn.commit().await?;
            return Ok(Registered::Existing);
        }
        let row = self_registered(
            &account,
            &r.password_hash,
            &number,
            r.contact_person.trim(),
            r.announcements,
        )?;
        txn.execute(&row).await.map_err(|e| {
            // Another registration took the number between the look and the write.
            if crate::sql::is_unique_violation(&e) {
                StoreError::AlreadyRegistered {
                    what: "registration number",
                }
            } else {
                e.into()
            }
        })?;
        self.mail_token(
            &txn,
            AccountMail::VerifyEmail,
            &account,
            VERIFY_MS,
            json!({ "organisation": account.display_name, "contact": r.contact_person.trim() }),
        )
        .await?;
        txn.commit().await?;
        Ok(Registered::New(account))
    }

    /// Mails the owner of account `id`, which a registration found holding its address or
    /// number: a new verification link while unverified, else a link to set a password.
    async fn mail_holder<C: ConnectionTrait>(&self, conn: &C, id: &str) -> Result<()> {
        let Some(holder) = self.account_in(conn, id).await? else {
            return Ok(());
        };
        if holder.email.is_none() {
            return Ok(());
        }
        let verified = Query::select()
            .column(Accounts::Id)
            .from(Accounts::Table)
            .and_where(Expr::col(Accounts::Id).eq(id))
            .and_where(Expr::col(Accounts::EmailVerifiedMs).is_not_null())
            .to_owned();
        let data = json!({ "organisation": holder.display_name });
        if conn.query_one(&verified).await?.is_some() {
            self.mail_token(
                conn,
                AccountMail::RegistrationAttempt,
                &holder,
                RESET_MS,
                data,
            )
            .await
        } else {
            self.mail_token(conn, AccountMail::VerifyEmail, &holder, VERIFY_MS, data)
                .await
        }
    }
}
