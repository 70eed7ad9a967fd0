//! The expert pool: an evaluator's fields of expertise and its declared ties to
//! organisations (JSON arrays of text), read when experts are drawn for a committee.

use crate::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [Accounts::ExpertFields, Accounts::ExpertTies] {
            m.alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(ColumnDef::new(col).text().not_null().default("[]"))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [Accounts::ExpertTies, Accounts::ExpertFields] {
            m.alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
