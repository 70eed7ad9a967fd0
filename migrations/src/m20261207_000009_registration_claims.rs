//! Claims of a registration number that another account holds: the real organisation asks,
//! staff decide (the number moves to a new account for the claimant, or stays).

use crate::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use RegistrationClaims as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(C::Id)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(C::RegistrationNumber)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(C::Name).string_len(256).not_null())
                .col(ColumnDef::new(C::ContactPerson).string_len(256).not_null())
                .col(ColumnDef::new(C::Email).string_len(254).not_null())
                .col(ColumnDef::new(C::Locale).string_len(8).not_null())
                .col(ColumnDef::new(C::PasswordHash).text().not_null())
                .col(ColumnDef::new(C::Announcements).boolean().not_null())
                .col(ColumnDef::new(C::HolderId).string_len(128).not_null())
                .col(ColumnDef::new(C::CreatedMs).big_integer().not_null())
                .col(ColumnDef::new(C::Status).string_len(16).not_null())
                .col(ColumnDef::new(C::DecidedBy).string_len(128))
                .col(ColumnDef::new(C::DecidedMs).big_integer())
                .col(ColumnDef::new(C::Note).text())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("registration_claims_status")
                .table(C::Table)
                .col(C::Status)
                .col(C::CreatedMs)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(RegistrationClaims::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}
