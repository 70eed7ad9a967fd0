//! Documents: stored files and, for the database backend, their bytes in frames.

use crate::schema::*;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Blobs::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Blobs::BlobId)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Blobs::TenderId).string_len(64).not_null())
                .col(ColumnDef::new(Blobs::Owner).string_len(128).not_null())
                .col(ColumnDef::new(Blobs::Sealed).boolean().not_null())
                .col(ColumnDef::new(Blobs::State).string_len(16).not_null())
                .col(ColumnDef::new(Blobs::Backend).string_len(16).not_null())
                .col(ColumnDef::new(Blobs::Size).big_integer().not_null())
                .col(ColumnDef::new(Blobs::Frames).big_integer().not_null())
                .col(ColumnDef::new(Blobs::StoredSha256).string_len(64))
                .col(ColumnDef::new(Blobs::Sha256).string_len(64))
                .col(ColumnDef::new(Blobs::Name).text())
                .col(ColumnDef::new(Blobs::MediaType).string_len(255))
                .col(ColumnDef::new(Blobs::SealedMeta).text())
                .col(ColumnDef::new(Blobs::Nonce).string_len(32))
                .col(ColumnDef::new(Blobs::CreatedMs).big_integer().not_null())
                .col(ColumnDef::new(Blobs::EventSeq).big_integer())
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("blobs_tender")
                .table(Blobs::Table)
                .col(Blobs::TenderId)
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(BlobChunks::Table)
                .if_not_exists()
                .col(ColumnDef::new(BlobChunks::BlobId).string_len(64).not_null())
                .col(ColumnDef::new(BlobChunks::N).big_integer().not_null())
                .col(ColumnDef::new(BlobChunks::Data).blob().not_null())
                .primary_key(Index::create().col(BlobChunks::BlobId).col(BlobChunks::N))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(BlobChunks::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(Blobs::Table).if_exists().to_owned())
            .await
    }
}
