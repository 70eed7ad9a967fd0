//! Claims of a registration number another account holds. A registration whose number is
//! taken by an account with another address is answered like any other (nobody learns who
//! is registered) and recorded here; staff decide: approving moves the number to a new,
//! unverified account for the claimant (its verification mail queued in the same
//! transaction) and takes it from the holder, rejecting leaves it where it is. Every
//! decision names who took it, when and why.

use crate::accounts::AccountField;
use crate::clock::wall_ms;
use crate::outbox::AccountMail;
use crate::registration::{Registration, self_registered};
use crate::sessions::{VERIFY_MS, secret};
use crate::sql::{Accounts, RegistrationClaims as C, insert};
use crate::{Account, Result, Store, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, Func, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde_json::json;

/// A claim as staff review it.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct RegistrationClaim {
    /// Claim id.
    pub id: String,
    /// The number claimed.
    pub registration_number: String,
    /// The claiming organisation.
    pub name: String,
    /// Its contact person.
    pub contact_person: String,
    /// Its address.
    pub email: String,
    /// The account that held the number.
    pub holder_id: String,
    /// Made at, ms.
    pub created_ms: i64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// Decided at, ms.
    pub decided_ms: Option<i64>,
    /// Why.
    pub note: Option<String>,
}

/// What staff decide of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimDecision {
    /// The claimant gets the number (a new account); the holder loses it.
    Approve,
    /// The number stays with its holder.
    Reject,
}

const COLUMNS: [C; 11] = [
    C::Id,
    C::RegistrationNumber,
    C::Name,
    C::ContactPerson,
    C::Email,
    C::HolderId,
    C::CreatedMs,
    C::Status,
    C::DecidedBy,
    C::DecidedMs,
    C::Note,
];

impl Store {
    /// Records a claim of `number` (held by `holder`) by registration `r`, once per number
    /// and address while pending.
    pub(crate) async fn record_claim<Conn: ConnectionTrait>(
        &self,
        conn: &Conn,
        r: &Registration,
        number: &str,
        holder: &str,
        id: &str,
    ) -> Result<()> {
        let email = r.email.trim().to_lowercase();
        let open = Query::select()
            .column(C::Id)
            .from(C::Table)
            .and_where(Expr::col(C::RegistrationNumber).eq(number))
            .and_where(Expr::expr(Func::lower(Expr::col(C::Email))).eq(email.as_str()))
            .and_where(Expr::col(C::Status).eq("pending"))
            .to_owned();
        if conn.query_one(&open).await?.is_some() {
            return Ok(());
        }
        let row = insert(
            C::Table,
            [
                (C::Id, id.into()),
                (C::RegistrationNumber, number.into()),
                (C::Name, r.name.trim().into()),
                (C::ContactPerson, r.contact_person.trim().into()),
                (C::Email, r.email.trim().into()),
                (C::Locale, r.locale.as_str().into()),
                (C::PasswordHash, r.password_hash.as_str().into()),
                (C::Announcements, r.announcements.into()),
                (C::HolderId, holder.into()),
                (C::CreatedMs, wall_ms().into()),
                (C::Status, "pending".into()),
            ],
        );
        conn.execute(&row).await?;
        tracing::info!(
            number,
            holder,
            "a registration number is claimed; staff decide"
        );
        Ok(())
    }

    /// The claims, pending first, newest first within each status.
    pub async fn registration_claims(&self) -> Result<Vec<RegistrationClaim>> {
        let q = Query::select()
            .columns(COLUMNS)
            .from(C::Table)
            .order_by_expr(Expr::col(C::Status).eq("pending"), Order::Desc)
            .order_by(C::CreatedMs, Order::Desc)
            .to_owned();
        self.all(&self.db, &q).await
    }

    async fn claim_in<Conn: ConnectionTrait>(
        &self,
        conn: &Conn,
        id: &str,
    ) -> Result<RegistrationClaim> {
        let q = Query::select()
            .columns(COLUMNS)
            .from(C::Table)
            .and_where(Expr::col(C::Id).eq(id))
            .to_owned();
        self.one(conn, &q)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("registration claim `{id}`")))
    }

    /// Decides a pending claim (by `by`, for `note`), in one transaction: approving takes the
    /// number from its holder and makes the claimant's account with its verification mail.
    /// A claim decided already, or whose address has since been registered, is
    /// [`StoreError::InvalidAccount`].
    pub async fn decide_claim(
        &self,
        id: &str,
        decision: ClaimDecision,
        by: &str,
        note: &str,
    ) -> Result<RegistrationClaim> {
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        let claim = self.claim_in(&txn, id).await?;
        if claim.status != "pending" {
            return Err(StoreError::invalid_account(
                AccountField::Claim,
                format!("claim `{id}` was {} already", claim.status),
            ));
        }
        if decision == ClaimDecision::Approve {
            let taken = Query::select()
                .column(Accounts::Id)
                .from(Accounts::Table)
                .and_where(
                    Expr::expr(Func::lower(Expr::col(Accounts::Email)))
                        .eq(claim.email.to_lowercase()),
                )
                .to_owned();
            if txn.query_one(&taken).await?.is_some() {
                return Err(StoreError::invalid_account(
                    AccountField::Email,
                    format!("email: `{}` belongs to an account already", claim.email),
                ));
            }
            let release = Query::update()
                .table(Accounts::Table)
                .value(Accounts::RegistrationNumber, Option::<String>::None)
                .and_where(
                    Expr::col(Accounts::RegistrationNumber).eq(claim.registration_number.as_str()),
                )
                .to_owned();
            txn.execute(&release).await?;
            let chosen = Query::select()
                .columns([C::Locale, C::PasswordHash, C::Announcements])
                .from(C::Table)
                .and_where(Expr::col(C::Id).eq(id))
                .to_owned();
            let row = txn
                .query_one(&chosen)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("registration claim `{id}`")))?;
            let locale: String = row.try_get_by_index(0)?;
            let password_hash: String = row.try_get_by_index(1)?;
            let announcements: bool = row.try_get_by_index(2)?;
            let account = Account {
                id: format!("org-{}", &secret()?[..16]),
                role: "bidder".to_owned(),
                display_name: claim.name.clone(),
                email: Some(claim.email.clone()),
                locale,
            };
            crate::accounts::check_account(&account)?;
            let row = self_registered(
                &account,
                &password_hash,
                &claim.registration_number,
                &claim.contact_person,
                announcements,
            )?;
            txn.execute(&row).await?;
            self.mail_token(
                &txn,
                AccountMail::VerifyEmail,
                &account,
                VERIFY_MS,
                json!({ "organisation": account.display_name, "contact": claim.contact_person }),
            )
            .await?;
        }
        let status = match decision {
            ClaimDecision::Approve => "approved",
            ClaimDecision::Reject => "rejected",
        };
        let q = Query::update()
            .table(C::Table)
            .value(C::Status, status)
            .value(C::DecidedBy, by)
            .value(C::DecidedMs, wall_ms())
            .value(C::Note, note)
            .and_where(Expr::col(C::Id).eq(id))
            .and_where(Expr::col(C::Status).eq("pending"))
            .to_owned();
        txn.execute(&q).await?;
        let decided = self.claim_in(&txn, id).await?;
        txn.commit().await?;
        Ok(decided)
    }
}
