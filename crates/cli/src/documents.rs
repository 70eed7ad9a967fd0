//! `tenderflow tender attach` and `tender download`: documents from the command line, through
//! the same use cases (and rules) as the API.

use crate::refused;
use anyhow::Context;
use bytes::Bytes;
use futures_util::StreamExt;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use tenderflow_app::commands::Submission;
use tenderflow_app::{App, Caller};
use tenderflow_core::CommandBody;
use tenderflow_core::model::{Amend, Document, media_type_of};
use tokio::io::AsyncReadExt;

/// What `tender attach` was asked.
pub struct Attach {
    pub tender: String,
    pub file: PathBuf,
    pub actor: String,
    pub media_type: Option<String>,
    pub name: Option<String>,
    pub amend: Option<String>,
    pub replaces: Option<String>,
    pub slot: Option<String>,
}

/// A file read in frames, never whole.
fn file_stream(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send {
    futures_util::stream::try_unfold(file, |mut f| async move {
        let mut buf = vec![0u8; 256 * 1024];
        let n = f.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), f)))
    })
}

pub async fn attach(app: &App, a: Attach) -> anyhow::Result<ExitCode> {
    let caller = app.acting_as(&Caller::operator(), &a.actor).await?;
    let name = match a.name {
        Some(n) => n,
        None => a
            .file
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                anyhow::anyhow!("{}: no usable file name; give --name", a.file.display())
            })?,
    };
    let media_type = match a.media_type {
        Some(t) => t,
        None => media_type_of(&name)
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("`{name}`: unknown extension; give --type"))?,
    };
    let file = tokio::fs::File::open(&a.file)
        .await
        .with_context(|| format!("opening {}", a.file.display()))?;
    let mut doc: Document = match app
        .upload_document(
            &caller,
            &a.tender,
            &name,
            &media_type,
            a.slot.as_deref(),
            file_stream(file),
        )
        .await
    {
        Ok(d) => d,
        Err(e) => return refused(e),
    };
    doc.replaces = a.replaces;
    if let Some(text) = a.amend {
        let body = CommandBody::Amend(Amend {
            text,
            affects_bids: false,
            new_deadline: None,
            documents: vec![doc.clone()],
        });
        let submission = Submission {
            tender_id: a.tender.clone(),
            body,
            key: None,
            if_match: None,
        };
        match app.execute(&caller, submission).await {
            Ok(done) => eprintln!(
                "published `{}` in an amendment; tender {} is `{}`",
                doc.name, a.tender, done.state
            ),
            Err(e) => return refused(e),
        }
    }
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(ExitCode::SUCCESS)
}

pub async fn download(
    app: &App,
    tender: &str,
    document: &str,
    actor: &str,
    output: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let caller = app.acting_as(&Caller::operator(), actor).await?;
    let doc = match app.readable_document(Some(&caller), tender, document).await {
        Ok(d) => d,
        Err(e) => return refused(e),
    };
    let (name, size, sha) = (
        doc.document.name.clone(),
        doc.document.size,
        doc.document.sha256.clone(),
    );
    let mut bytes = std::pin::pin!(app.document_bytes(doc, 0..size));
    match output {
        None => {
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = bytes.next().await {
                out.write_all(&chunk?)?;
            }
            out.flush()?;
        }
        Some(path) => {
            // Written beside the target and renamed: never a half file under its name.
            let part = path.with_extension("part");
            let mut f = std::fs::File::create(&part)
                .with_context(|| format!("creating {}", part.display()))?;
            let written: anyhow::Result<()> = async {
                while let Some(chunk) = bytes.next().await {
                    f.write_all(&chunk?)?;
                }
                f.sync_all()?;
                Ok(())
            }
            .await;
            if let Err(e) = written {
                let _ = std::fs::remove_file(&part);
                return Err(e);
            }
            std::fs::rename(&part, &path)
                .with_context(|| format!("renaming {}", part.display()))?;
            eprintln!("{name}: {size} bytes, SHA-256 {sha} → {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
