//! An evaluator's draft score sheets: private to the evaluator until submitted (a draft is
//! not an event: only the submitted sheet enters the record).

use crate::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ScoreDrafts::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(ScoreDrafts::TenderId)
                        .string_len(64)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ScoreDrafts::EvaluatorId)
                        .string_len(128)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(ScoreDrafts::Bidder)
                        .string_len(128)
                        .not_null(),
                )
                .col(ColumnDef::new(ScoreDrafts::Sheet).text().not_null())
                .col(
                    ColumnDef::new(ScoreDrafts::UpdatedMs)
                        .big_integer()
                        .not_null(),
                )
                .primary_key(
                    Index::create()
                        .col(ScoreDrafts::TenderId)
                        .col(ScoreDrafts::EvaluatorId)
                        .col(ScoreDrafts::Bidder),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(ScoreDrafts::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
