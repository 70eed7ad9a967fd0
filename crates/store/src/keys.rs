//! Keys: the master key's check value (a wrong key is refused before anything is read or
//! written) and each tender's data key, made on its first sealed bid and stored wrapped with
//! the master key.

use crate::sql::{Settings, TenderKeys, get, insert, is_unique_violation};
use crate::{Result, Store, StoreError, crypto};
use sea_orm::ConnectionTrait;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use tenderflow_migrations::{Migrator, MigratorTrait};

/// The settings row holding the master key's check value.
const MASTER_KEY_CHECK: &str = "master_key_check";

impl Store {
    /// The master key's check value as recorded in the database, if any.
    async fn recorded_key_check(&self) -> Result<Option<String>> {
        let q = Query::select()
            .column(Settings::Value)
            .from(Settings::Table)
            .and_where(Expr::col(Settings::Name).eq(MASTER_KEY_CHECK))
            .to_owned();
        match self.db.query_one(&q).await? {
            Some(row) => Ok(Some(get(&row, Settings::Value)?)),
            None => Ok(None),
        }
    }

    /// Refuses a master key that is not this database's: compares the stored check value,
    /// or, in a database that predates it, tries the key on a stored tender key; then
    /// records the check value.
    pub(crate) async fn check_master_key(&self) -> Result<()> {
        let expected = self.master.check_value();
        if let Some(value) = self.recorded_key_check().await? {
            if value == expected {
                return Ok(());
            }
            return Err(StoreError::WrongMasterKey(
                "its check value differs from the one recorded when the database was set up. Use the key this database was created with (TENDERFLOW_MASTER_KEY or <data-dir>/master.key from your backup), and check --data-dir and TENDERFLOW_DATABASE_URL".into(),
            ));
        }
        let sample = Query::select()
            .columns([TenderKeys::TenderId, TenderKeys::WrappedKey])
            .from(TenderKeys::Table)
            .order_by(TenderKeys::TenderId, sea_orm::sea_query::Order::Asc)
            .limit(1)
            .to_owned();
        if let Some(row) = self.db.query_one(&sample).await? {
            let tender: String = get(&row, TenderKeys::TenderId)?;
            let wrapped: String = get(&row, TenderKeys::WrappedKey)?;
            if self.master.unwrap(&tender, &wrapped).is_err() {
                return Err(StoreError::WrongMasterKey(format!(
                    "it cannot open the sealed-bid key of tender `{tender}`. Use the key this database was created with"
                )));
            }
        }
        let record = insert(
            Settings::Table,
            [
                (Settings::Name, MASTER_KEY_CHECK.into()),
                (Settings::Value, expected.into()),
            ],
        );
        match self.db.execute(&record).await {
            Ok(_) => Ok(()),
            // Another process recorded it first: check again against what it wrote.
            Err(e) if is_unique_violation(&e) => Box::pin(self.check_master_key()).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the store can serve: the database answers, every migration is applied and the
    /// master key is the one the database was set up with. The problem, for `/ready`.
    pub async fn readiness(&self) -> std::result::Result<(), String> {
        let pending = Migrator::get_pending_migrations(&self.db)
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        if !pending.is_empty() {
            return Err(format!(
                "{} migration(s) pending: run `tenderflow migrate`",
                pending.len()
            ));
        }
        let value = self
            .recorded_key_check()
            .await
            .map_err(|e| format!("the database does not answer: {e}"))?;
        if value.as_deref() != Some(self.master.check_value().as_str()) {
            return Err("the master key is not this database's".into());
        }
        Ok(())
    }

    /// The tender's data key, made and stored (wrapped) inside `txn` if it has none.
    pub(crate) async fn data_key<C: ConnectionTrait>(
        &self,
        txn: &C,
        tender_id: &str,
    ) -> Result<[u8; 32]> {
        if let Some(k) = self
            .keys
            .read()
            .ok()
            .and_then(|m| m.get(tender_id).copied())
        {
            return Ok(k);
        }
        // What is read here may be uncommitted (made earlier in this transaction): the
        // caller caches it only after the commit.
        if let Some(key) = self.data_key_ro(txn, tender_id).await? {
            return Ok(key);
        }
        let key = crypto::new_data_key()?;
        let row = insert(
            TenderKeys::Table,
            [
                (TenderKeys::TenderId, tender_id.into()),
                (
                    TenderKeys::WrappedKey,
                    self.master.wrap(tender_id, &key)?.into(),
                ),
            ],
        );
        txn.execute(&row)
            .await
            .map_err(|e| StoreError::raced(tender_id, e))?;
        Ok(key)
    }

    /// The tender's data key if it has one, read through `conn`.
    pub(crate) async fn data_key_ro<C: ConnectionTrait>(
        &self,
        conn: &C,
        tender_id: &str,
    ) -> Result<Option<[u8; 32]>> {
        let q = Query::select()
            .column(TenderKeys::WrappedKey)
            .from(TenderKeys::Table)
            .and_where(Expr::col(TenderKeys::TenderId).eq(tender_id))
            .to_owned();
        match conn.query_one(&q).await? {
            Some(r) => Ok(Some(
                self.master
                    .unwrap(tender_id, &get::<String>(&r, TenderKeys::WrappedKey)?)?,
            )),
            None => Ok(None),
        }
    }
}
