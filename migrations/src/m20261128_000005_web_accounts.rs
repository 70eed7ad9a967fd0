//! Accounts for the web pages: passwords (argon2id), verified email addresses, the
//! registration facts of self-registered organisations and their announcement opt-in;
//! sessions in the database; one-use mailed tokens; failed sign-ins for rate limiting; and
//! notice-board subscriptions.

use crate::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        let columns = [
            ColumnDef::new(Accounts::PasswordHash)
                .string_len(256)
                .null()
                .to_owned(),
            ColumnDef::new(Accounts::EmailVerifiedMs)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Accounts::RegistrationNumber)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Accounts::ContactPerson)
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new(Accounts::Announcements)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ];
        for mut c in columns {
            m.alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .add_column(&mut c)
                    .to_owned(),
            )
            .await?;
        }
        // Accounts made by administrators before this migration had their address given by
        // an administrator (verified) and got every announcement (they keep getting them).
        m.exec_stmt(
            Query::update()
                .table(Accounts::Table)
                .value(Accounts::EmailVerifiedMs, Expr::col(Accounts::CreatedMs))
                .value(Accounts::Announcements, true)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("accounts_registration_number")
                .table(Accounts::Table)
                .col(Accounts::RegistrationNumber)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Sessions::IdHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Sessions::AccountId)
                        .string_len(128)
                        .not_null(),
                )
                .col(ColumnDef::new(Sessions::Csrf).string_len(64).not_null())
                .col(ColumnDef::new(Sessions::CreatedMs).big_integer().not_null())
                .col(
                    ColumnDef::new(Sessions::LastSeenMs)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Sessions::ExpiresMs).big_integer().not_null())
                .foreign_key(
                    ForeignKey::create()
                        .from(Sessions::Table, Sessions::AccountId)
                        .to(Accounts::Table, Accounts::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sessions_account")
                .table(Sessions::Table)
                .col(Sessions::AccountId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MailTokens::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(MailTokens::TokenHash)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(MailTokens::Purpose)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(MailTokens::AccountId).string_len(128).null())
                .col(ColumnDef::new(MailTokens::Email).string_len(254).null())
                .col(
                    ColumnDef::new(MailTokens::CreatedMs)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(MailTokens::ExpiresMs)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(MailTokens::UsedMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(SignInFailures::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(SignInFailures::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(SignInFailures::Key)
                        .string_len(300)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SignInFailures::AtMs)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sign_in_failures_key")
                .table(SignInFailures::Table)
                .col(SignInFailures::Key)
                .col(SignInFailures::AtMs)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Subscriptions::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Subscriptions::Email)
                        .string_len(254)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Subscriptions::Locale)
                        .string_len(8)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Subscriptions::CreatedMs)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Subscriptions::ConfirmedMs)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Subscriptions::Table.into_iden(),
            SignInFailures::Table.into_iden(),
            MailTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        m.drop_index(
            Index::drop()
                .name("accounts_registration_number")
                .table(Accounts::Table)
                .to_owned(),
        )
        .await?;
        for c in [
            Accounts::Announcements,
            Accounts::ContactPerson,
            Accounts::RegistrationNumber,
            Accounts::EmailVerifiedMs,
            Accounts::PasswordHash,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Accounts::Table)
                    .drop_column(c)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
