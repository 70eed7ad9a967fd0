//! Notice-board subscriptions: an address subscribes, confirms through a mailed link (only
//! confirmed addresses get announcements), and leaves through the link every announcement
//! carries (its token derived from the address, so it needs no storage).

use crate::Account;
use crate::accounts::check_account;
use crate::clock::wall_ms;
use crate::outbox::AccountMail;
use crate::sessions::{TokenRow, VERIFY_MS, constant_time_eq};
use crate::sql::{Subscriptions, insert};
use crate::{Result, Store};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

impl Store {
    /// Subscribes an address to the notice board: it gets announcements once it confirms
    /// through the mailed link. Subscribing again sends a new link.
    pub async fn subscribe(&self, email: &str, locale: &str) -> Result<()> {
        let email = email.trim().to_lowercase();
        let probe = Account {
            id: "subscriber".into(),
            role: "subscriber".into(),
            display_name: email.clone(),
            email: Some(email.clone()),
            locale: locale.to_owned(),
        };
        check_account(&probe)?;
        let now = wall_ms();
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        let exists = Query::select()
            .column(Subscriptions::Email)
            .from(Subscriptions::Table)
            .and_where(Expr::col(Subscriptions::Email).eq(email.as_str()))
            .to_owned();
        if txn.query_one(&exists).await?.is_none() {
            let row = insert(
                Subscriptions::Table,
                [
                    (Subscriptions::Email, email.as_str().into()),
                    (Subscriptions::Locale, locale.into()),
                    (Subscriptions::CreatedMs, now.into()),
                ],
            );
            txn.execute(&row).await?;
        }
        self.mail_token(
            &txn,
            AccountMail::ConfirmSubscription,
            &probe,
            VERIFY_MS,
            json!({ "email": email }),
        )
        .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Confirms a subscription through its mailed token: the address, or `None`.
    pub async fn confirm_subscription(&self, token: &str) -> Result<Option<String>> {
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        let Some(TokenRow {
            email: Some(email), ..
        }) = self.use_token(&txn, "subscribe", token).await?
        else {
            return Ok(None);
        };
        let q = Query::update()
            .table(Subscriptions::Table)
            .value(Subscriptions::ConfirmedMs, wall_ms())
            .and_where(Expr::col(Subscriptions::Email).eq(email.as_str()))
            .to_owned();
        txn.execute(&q).await?;
        txn.commit().await?;
        Ok(Some(email))
    }

    /// The token of an address's unsubscribe link (derived, so every announcement can carry
    /// it without storing it).
    pub fn unsubscribe_token(&self, email: &str) -> String {
        use sha2::{Digest, Sha256};
        let key = self.master.derive("unsubscribe");
        let mut h = Sha256::new();
        h.update(key);
        h.update(email.trim().to_lowercase().as_bytes());
        hex::encode(h.finalize())[..32].to_owned()
    }

    /// Ends a subscription through its unsubscribe link; false when the link is not the
    /// address's.
    pub async fn unsubscribe(&self, email: &str, token: &str) -> Result<bool> {
        let expected = self.unsubscribe_token(email);
        if !constant_time_eq(expected.as_bytes(), token.trim().as_bytes()) {
            return Ok(false);
        }
        let _gate = self.gate().await;
        let q = Query::delete()
            .from_table(Subscriptions::Table)
            .and_where(Expr::col(Subscriptions::Email).eq(email.trim().to_lowercase()))
            .to_owned();
        self.db.execute(&q).await?;
        Ok(true)
    }
}
