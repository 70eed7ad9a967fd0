//! The expert pool (each evaluator's fields of expertise and declared ties to organisations,
//! read when experts are drawn) and evaluators' draft score sheets (private to their
//! evaluator, not events: only a submitted sheet enters the record).

use crate::clock::wall_ms;
use crate::sql::{Accounts, ScoreDrafts, insert};
use crate::{Result, Store, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use serde_json::json;

/// An evaluator in the expert pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpertProfile {
    /// Account id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Fields of expertise.
    pub fields: Vec<String>,
    /// Declared ties to organisations (account ids).
    pub ties: Vec<String>,
}

#[derive(FromQueryResult)]
struct ExpertRow {
    id: String,
    display_name: String,
    expert_fields: String,
    expert_ties: String,
}

impl Store {
    /// Sets an evaluator's fields of expertise and declared ties to organisations (the expert
    /// pool's facts).
    pub async fn set_expert_profile(
        &self,
        account: &str,
        fields: &[String],
        ties: &[String],
    ) -> Result<()> {
        let _gate = self.gate().await;
        let q = Query::update()
            .table(Accounts::Table)
            .value(Accounts::ExpertFields, json!(fields).to_string())
            .value(Accounts::ExpertTies, json!(ties).to_string())
            .and_where(Expr::col(Accounts::Id).eq(account))
            .to_owned();
        if self.db.execute(&q).await?.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("account `{account}`")));
        }
        Ok(())
    }

    /// The expert pool: every enabled evaluator with its fields and declared ties, by id.
    pub async fn expert_pool(&self) -> Result<Vec<ExpertProfile>> {
        let q = Query::select()
            .columns([
                Accounts::Id,
                Accounts::DisplayName,
                Accounts::ExpertFields,
                Accounts::ExpertTies,
            ])
            .from(Accounts::Table)
            .and_where(Expr::col(Accounts::Role).eq("evaluator"))
            .and_where(Expr::col(Accounts::DisabledMs).is_null())
            .order_by(Accounts::Id, sea_orm::sea_query::Order::Asc)
            .to_owned();
        let rows: Vec<ExpertRow> = self.all(&self.db, &q).await?;
        rows.into_iter()
            .map(|r| {
                let parse = |text: &str, what: &str| {
                    serde_json::from_str::<Vec<String>>(text).map_err(|e| StoreError::Corrupt {
                        what: format!("account `{}`: its {what}", r.id),
                        source: Some(Box::new(e)),
                    })
                };
                Ok(ExpertProfile {
                    fields: parse(&r.expert_fields, "fields")?,
                    ties: parse(&r.expert_ties, "ties")?,
                    id: r.id,
                    name: r.display_name,
                })
            })
            .collect()
    }

    /// Saves an evaluator's draft sheet for one bid (replacing its earlier draft).
    pub async fn save_score_draft(
        &self,
        tender: &str,
        evaluator: &str,
        bidder: &str,
        sheet: &serde_json::Value,
    ) -> Result<()> {
        let _gate = self.gate().await;
        let txn = self.db.begin().await?;
        txn.execute(&draft_delete(tender, evaluator, bidder))
            .await?;
        let row = insert(
            ScoreDrafts::Table,
            [
                (ScoreDrafts::TenderId, tender.into()),
                (ScoreDrafts::EvaluatorId, evaluator.into()),
                (ScoreDrafts::Bidder, bidder.into()),
                (ScoreDrafts::Sheet, sheet.to_string().into()),
                (ScoreDrafts::UpdatedMs, wall_ms().into()),
            ],
        );
        txn.execute(&row).await?;
        txn.commit().await?;
        Ok(())
    }

    /// An evaluator's drafts in a tender, by bidder.
    pub async fn score_drafts(
        &self,
        tender: &str,
        evaluator: &str,
    ) -> Result<std::collections::BTreeMap<String, serde_json::Value>> {
        let q = Query::select()
            .columns([ScoreDrafts::Bidder, ScoreDrafts::Sheet])
            .from(ScoreDrafts::Table)
            .and_where(Expr::col(ScoreDrafts::TenderId).eq(tender))
            .and_where(Expr::col(ScoreDrafts::EvaluatorId).eq(evaluator))
            .to_owned();
        let rows: Vec<DraftRow> = self.all(&self.db, &q).await?;
        rows.into_iter()
            .map(|r| {
                let sheet = serde_json::from_str(&r.sheet).map_err(|e| StoreError::Corrupt {
                    what: format!("the draft sheet of `{evaluator}` for `{}`", r.bidder),
                    source: Some(Box::new(e)),
                })?;
                Ok((r.bidder, sheet))
            })
            .collect()
    }
}

#[derive(FromQueryResult)]
struct DraftRow {
    bidder: String,
    sheet: String,
}

fn draft_delete(
    tender: &str,
    evaluator: &str,
    bidder: &str,
) -> sea_orm::sea_query::DeleteStatement {
    Query::delete()
        .from_table(ScoreDrafts::Table)
        .and_where(Expr::col(ScoreDrafts::TenderId).eq(tender))
        .and_where(Expr::col(ScoreDrafts::EvaluatorId).eq(evaluator))
        .and_where(Expr::col(ScoreDrafts::Bidder).eq(bidder))
        .to_owned()
}
