//! The initial schema: workflows, tenders, events, commands, keys, timers, outbox, accounts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Workflows {
    Table,
    Sha256,
    DefinitionId,
    Version,
    FileName,
    Content,
    CreatedMs,
}

#[derive(DeriveIden)]
enum Tenders {
    Table,
    TenderId,
    WorkflowSha256,
    State,
    Seq,
    LastHash,
    DeadlineMs,
    UpdatedMs,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    TenderId,
    Seq,
    CommandId,
    ActorId,
    ActorRole,
    AtMs,
    Kind,
    Payload,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum Commands {
    Table,
    CommandId,
    TenderId,
    FirstSeq,
    LastSeq,
    CreatedMs,
}

#[derive(DeriveIden)]
enum TenderKeys {
    Table,
    TenderId,
    WrappedKey,
}

#[derive(DeriveIden)]
enum Timers {
    Table,
    TenderId,
    Kind,
    DueMs,
    ClaimedBy,
    ClaimedUntilMs,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    TenderId,
    EventSeq,
    Message,
    RecipientKind,
    RecipientId,
    Status,
    Attempts,
    NextAttemptMs,
    LastError,
    ClaimedBy,
    ClaimedUntilMs,
    CreatedMs,
    SentMs,
}

#[derive(DeriveIden)]
enum Accounts {
    Table,
    Id,
    Role,
    DisplayName,
    Email,
    Locale,
    TokenHash,
    CreatedMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Workflows::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Workflows::Sha256)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Workflows::DefinitionId)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(Workflows::Version).string_len(32).not_null())
                .col(ColumnDef::new(Workflows::FileName).string().not_null())
                .col(ColumnDef::new(Workflows::Content).text().not_null())
                .col(
                    ColumnDef::new(Workflows::CreatedMs)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("workflows_id_version")
                .table(Workflows::Table)
                .col(Workflows::DefinitionId)
                .col(Workflows::Version)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Tenders::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Tenders::TenderId)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(Tenders::WorkflowSha256)
                        .string_len(64)
                        .not_null(),
                )
                .col(ColumnDef::new(Tenders::State).string_len(64).not_null())
                .col(ColumnDef::new(Tenders::Seq).big_integer().not_null())
                .col(ColumnDef::new(Tenders::LastHash).string_len(64).not_null())
                .col(ColumnDef::new(Tenders::DeadlineMs).big_integer().null())
                .col(ColumnDef::new(Tenders::UpdatedMs).big_integer().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Events::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Events::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Events::TenderId).string_len(64).not_null())
                .col(ColumnDef::new(Events::Seq).big_integer().not_null())
                .col(ColumnDef::new(Events::CommandId).string_len(128).not_null())
                .col(ColumnDef::new(Events::ActorId).string_len(128).not_null())
                .col(ColumnDef::new(Events::ActorRole).string_len(64).not_null())
                .col(ColumnDef::new(Events::AtMs).big_integer().not_null())
                .col(ColumnDef::new(Events::Kind).string_len(64).not_null())
                .col(ColumnDef::new(Events::Payload).text().not_null())
                .col(ColumnDef::new(Events::PrevHash).string_len(64).not_null())
                .col(ColumnDef::new(Events::Hash).string_len(64).not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("events_tender_seq")
                .table(Events::Table)
                .col(Events::TenderId)
                .col(Events::Seq)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Commands::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Commands::CommandId)
                        .string_len(128)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Commands::TenderId).string_len(64).not_null())
                .col(ColumnDef::new(Commands::FirstSeq).big_integer().not_null())
                .col(ColumnDef::new(Commands::LastSeq).big_integer().not_null())
                .col(ColumnDef::new(Commands::CreatedMs).big_integer().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(TenderKeys::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(TenderKeys::TenderId)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(TenderKeys::WrappedKey).string().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Timers::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Timers::TenderId)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Timers::Kind).string_len(32).not_null())
                .col(ColumnDef::new(Timers::DueMs).big_integer().not_null())
                .col(ColumnDef::new(Timers::ClaimedBy).string_len(128).null())
                .col(ColumnDef::new(Timers::ClaimedUntilMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("timers_due")
                .table(Timers::Table)
                .col(Timers::DueMs)
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Outbox::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Outbox::Id)
                        .big_integer()
                        .not_null()
                        .auto_increment()
                        .primary_key(),
                )
                .col(ColumnDef::new(Outbox::TenderId).string_len(64).not_null())
                .col(ColumnDef::new(Outbox::EventSeq).big_integer().not_null())
                .col(ColumnDef::new(Outbox::Message).string_len(64).not_null())
                .col(
                    ColumnDef::new(Outbox::RecipientKind)
                        .string_len(16)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(Outbox::RecipientId)
                        .string_len(128)
                        .not_null(),
                )
                .col(ColumnDef::new(Outbox::Status).string_len(16).not_null())
                .col(ColumnDef::new(Outbox::Attempts).integer().not_null())
                .col(
                    ColumnDef::new(Outbox::NextAttemptMs)
                        .big_integer()
                        .not_null(),
                )
                .col(ColumnDef::new(Outbox::LastError).text().null())
                .col(ColumnDef::new(Outbox::ClaimedBy).string_len(128).null())
                .col(ColumnDef::new(Outbox::ClaimedUntilMs).big_integer().null())
                .col(ColumnDef::new(Outbox::CreatedMs).big_integer().not_null())
                .col(ColumnDef::new(Outbox::SentMs).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("outbox_due")
                .table(Outbox::Table)
                .col(Outbox::Status)
                .col(Outbox::NextAttemptMs)
                .if_not_exists()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Accounts::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Accounts::Id)
                        .string_len(128)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Accounts::Role).string_len(32).not_null())
                .col(ColumnDef::new(Accounts::DisplayName).string().not_null())
                .col(ColumnDef::new(Accounts::Email).string().null())
                .col(ColumnDef::new(Accounts::Locale).string_len(16).not_null())
                .col(
                    ColumnDef::new(Accounts::TokenHash)
                        .string_len(64)
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Accounts::CreatedMs).big_integer().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Accounts::Table.into_iden(),
            Outbox::Table.into_iden(),
            Timers::Table.into_iden(),
            TenderKeys::Table.into_iden(),
            Commands::Table.into_iden(),
            Events::Table.into_iden(),
            Tenders::Table.into_iden(),
            Workflows::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}
