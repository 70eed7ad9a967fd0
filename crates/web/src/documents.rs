//! Documents on the pages: downloading one (`/notices/{id}/documents/{doc}`: tender documents
//! for anyone once published, a bid's as the core allows, for the signed-in), and reading a
//! form that carries files (`multipart/form-data`), each file streamed to the store as it
//! arrives, never whole in memory.

use crate::i18n::Lang;
use crate::page::error;
use crate::page::{refusal, refusal_code};
use crate::session::Visitor;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tenderflow_app::{App, Caller};
use tenderflow_core::model::Document;

/// `GET /notices/{id}/documents/{doc}`.
pub(crate) async fn download(
    State(app): State<Arc<App>>,
    visitor: Visitor,
    Path((id, doc)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let readable = match app
        .readable_document(visitor.caller.as_ref(), &id, &doc)
        .await
    {
        Ok(d) => d,
        Err(e) => return error(visitor.lang, &e),
    };
    match tenderflow_api::documents::file_response(&app, readable, &headers) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

/// A posted form: its text fields, the files uploaded with it (each with its slot, from
/// inputs named `doc:{slot}`), and the problems of files that were refused, by slot.
#[derive(Debug, Default)]
pub(crate) struct Posted {
    pub fields: HashMap<String, String>,
    pub uploads: Vec<Document>,
    pub refused: BTreeMap<String, String>,
}

/// Reads a form posted as `application/x-www-form-urlencoded` or `multipart/form-data`. In a
/// multipart form the CSRF token must come before any file (it does: it is the form's first
/// input), so that nothing is stored for a forged request; each file is uploaded for tender
/// `tender_id` as `caller` while it arrives.
pub(crate) async fn read_form(
    app: &App,
    visitor: &Visitor,
    caller: &Caller,
    tender_id: &str,
    request: Request,
) -> Result<Posted, Response> {
    let lang = visitor.lang;
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        // The route streams files, so no body limit applies before here: this form's text
        // is read up to its own.
        let (parts, body) = request.into_parts();
        let bytes = axum::body::to_bytes(body, FORM_TEXT_BYTES)
            .await
            .map_err(|_| too_large(lang))?;
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum::Form(fields) = axum::Form::<HashMap<String, String>>::from_request(request, &())
            .await
            .map_err(IntoResponse::into_response)?;
        visitor.check(fields.get("csrf").map(String::as_str).unwrap_or_default())?;
        return Ok(Posted {
            fields,
            ..Posted::default()
        });
    }
    let mut form = Multipart::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    let mut posted = Posted::default();
    let mut checked = false;
    let mut text_left = FORM_TEXT_BYTES;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(bad_form(lang, &e.to_string())),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let Some(slot) = name.strip_prefix("doc:").map(str::to_owned) else {
            let value = read_text(lang, field, &mut text_left).await?;
            if name == "csrf" {
                visitor.check(&value)?;
                checked = true;
            }
            posted.fields.insert(name, value);
            continue;
        };
        let file_name = field.file_name().unwrap_or_default().to_owned();
        if file_name.is_empty() {
            // An empty file input: no file chosen.
            continue;
        }
        if !checked {
            visitor.check("")?;
        }
        let media_type = match field.content_type() {
            Some(t) if t != "application/octet-stream" => t.to_owned(),
            _ => tenderflow_core::model::media_type_of(&file_name)
                .unwrap_or("application/octet-stream")
                .to_owned(),
        };
        match app
            .upload_document(
                caller,
                tender_id,
                &file_name,
                &media_type,
                Some(slot.as_str()).filter(|s| *s != "tender"),
                field,
            )
            .await
        {
            Ok(mut doc) => {
                doc.slot = Some(slot);
                posted.uploads.push(doc);
            }
            Err(e) => {
                let message = match refusal_code(&e) {
                    Some(code) => format!("{file_name}: {}", refusal(lang, &code)),
                    None => return Err(error(lang, &e)),
                };
                posted.refused.insert(slot, message);
            }
        }
    }
    if !checked {
        visitor.check("")?;
    }
    Ok(posted)
}

/// The most text one form may carry, all its fields together (files stream apart).
pub(crate) const FORM_TEXT_BYTES: usize = 1024 * 1024;
/// The most one field may hold (a service plan's description, an answer).
pub(crate) const FIELD_BYTES: usize = 256 * 1024;

/// A text field of a multipart form, read chunk by chunk up to [`FIELD_BYTES`] and what is
/// left of the form's [`FORM_TEXT_BYTES`]: beyond either, `413` before more is read.
async fn read_text(
    lang: Lang,
    mut field: axum::extract::multipart::Field<'_>,
    left: &mut usize,
) -> Result<String, Response> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > FIELD_BYTES.min(*left) {
                    return Err(too_large(lang));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => return Err(bad_form(lang, &e.to_string())),
        }
    }
    *left -= bytes.len();
    String::from_utf8(bytes).map_err(|_| bad_form(lang, "a field is not UTF-8"))
}

/// `413`: the form carries more text than it may.
fn too_large(lang: Lang) -> Response {
    tracing::info!("a form carried more text than allowed");
    (
        axum::http::StatusCode::PAYLOAD_TOO_LARGE,
        axum::response::Html(format!("<p>{}</p>", lang.t("form-too-large"))),
    )
        .into_response()
}

fn bad_form(lang: Lang, why: &str) -> Response {
    tracing::info!(error = %why, "a form could not be read");
    (
        axum::http::StatusCode::BAD_REQUEST,
        axum::response::Html(format!("<p>{}</p>", lang.t("refusal-other"))),
    )
        .into_response()
}
