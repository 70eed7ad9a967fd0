//! Accounts that can be disabled, and API tokens of their own: several per account, each with
//! a label, an optional expiry and a revocation time.

use crate::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Accounts::Table)
                .add_column(ColumnDef::new(Accounts::DisabledMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Tokens::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Tokens::Id)
                        .string_len(40)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Tokens::AccountId).string_len(128).not_null())
                .col(
                    ColumnDef::new(Tokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Tokens::Label).string_len(128).not_null())
                .col(ColumnDef::new(Tokens::CreatedMs).big_integer().not_null())
                .col(ColumnDef::new(Tokens::ExpiresMs).big_integer().null())
                .col(ColumnDef::new(Tokens::RevokedMs).big_integer().null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Tokens::Table, Tokens::AccountId)
                        .to(Accounts::Table, Accounts::Id),
                )
                .to_owned(),
        )
        .await?;
        // Every account's existing token becomes its first token.
        let copy = Query::insert()
            .into_table(Tokens::Table)
            .columns([
                Tokens::Id,
                Tokens::AccountId,
                Tokens::TokenHash,
                Tokens::Label,
                Tokens::CreatedMs,
            ])
            .select_from(
                Query::select()
                    .expr(Expr::cust("'tok_' || substr(token_hash, 1, 16)"))
                    .column(Accounts::Id)
                    .column(Accounts::TokenHash)
                    .expr(Expr::val("first"))
                    .column(Accounts::CreatedMs)
                    .from(Accounts::Table)
                    .to_owned(),
            )
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        m.exec_stmt(copy).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Tokens::Table).if_exists().to_owned())
            .await
    }
}
