//! Documents over HTTP: upload a file as the request body (streamed, never whole in memory),
//! then reference the answered description in a command; download with its media type,
//! `Content-Disposition` (UTF-8 names), `ETag` and single byte ranges.

use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiResult, Caller, Params, check_id};
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde::Deserialize;
use tenderflow_core::model::Document;
use utoipa::IntoParams;

/// The upload's file name.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file name (UTF-8, e.g. `服务方案.pdf`), at most 255 characters.
    #[param(min_length = 1, max_length = 255)]
    pub name: String,
    /// For a bid's document: the bid form's slot it fills (its types and size apply, and the
    /// answer carries it).
    #[serde(default)]
    #[param(pattern = "^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    pub slot: Option<String>,
}

/// `POST /tenders/{id}/documents?name=…`: the body is the file, its `Content-Type` the
/// file's media type. Answers the document's description (201).
pub(crate) async fn upload(
    State(s): State<AppState>,
    caller: Caller,
    Path(tender): Path<String>,
    Params(q): Params<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Document>)> {
    check_id("the path", &tender)?;
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let doc = s
        .app
        .upload_document(
            &caller,
            &tender,
            &q.name,
            media_type,
            q.slot.as_deref(),
            body.into_data_stream(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// An RFC 6266 `Content-Disposition`: an ASCII fallback name and the UTF-8 name as
/// `filename*` (RFC 8187), so that Chinese names survive every browser.
pub fn content_disposition(disposition: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// What a `Range` header asks of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ranged {
    /// No range, or one this server does not serve (several ranges): the whole file.
    Whole,
    /// One range of bytes.
    Part(std::ops::Range<u64>),
    /// A range outside the file (416).
    Outside,
}

/// One byte range of a file of `size` bytes from a `Range` header, parsed and checked by
/// `http-range-header` (RFC 9110): a malformed header, another unit or several ranges are
/// served whole (the RFC lets a server ignore them); a range the file cannot satisfy is 416.
pub fn byte_range(header: Option<&str>, size: u64) -> Ranged {
    let Some(header) = header else {
        return Ranged::Whole;
    };
    let Ok(parsed) = http_range_header::parse_range_header(header.trim()) else {
        return Ranged::Whole;
    };
    match parsed.validate(size) {
        Ok(ranges) => match ranges.as_slice() {
            [one] => Ranged::Part(*one.start()..one.end().saturating_add(1)),
            _ => Ranged::Whole,
        },
        Err(_) => Ranged::Outside,
    }
}

/// `GET /tenders/{id}/documents/{doc}`.
pub(crate) async fn download(
    State(s): State<AppState>,
    caller: Caller,
    Path((tender, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    check_id("the path", &tender)?;
    check_id("the path", &id)?;
    let doc = s.app.readable_document(Some(&caller), &tender, &id).await?;
    file_response(&s.app, doc, &headers)
}

/// The response for a readable document: 200 (whole), 206 (a range), 304 (`If-None-Match`)
/// or 416 (a range outside the file). The bytes stream from the store.
pub fn file_response(
    app: &tenderflow_app::App,
    doc: tenderflow_app::documents::Readable,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let d = doc.document.clone();
    let etag = format!("\"{}\"", d.sha256);
    let mut out = HeaderMap::new();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &str| {
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(k, v);
        }
    };
    set(&mut out, header::ETAG, &etag);
    set(&mut out, header::ACCEPT_RANGES, "bytes");
    set(&mut out, header::CACHE_CONTROL, "private, no-cache");
    set(&mut out, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // A document is never run as a page of ours, whatever it holds.
    set(
        &mut out,
        header::CONTENT_SECURITY_POLICY,
        "sandbox; default-src 'none'",
    );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    let inline = matches!(
        d.media_type.as_str(),
        "application/pdf" | "image/png" | "image/jpeg"
    );
    set(
        &mut out,
        header::CONTENT_DISPOSITION,
        &content_disposition(if inline { "inline" } else { "attachment" }, &d.name),
    );
    set(&mut out, header::CONTENT_TYPE, &d.media_type);
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, range) = match byte_range(range, d.size) {
        Ranged::Whole => (StatusCode::OK, 0..d.size),
        Ranged::Part(r) => {
            set(
                &mut out,
                header::CONTENT_RANGE,
                &format!("bytes {}-{}/{}", r.start, r.end - 1, d.size),
            );
            (StatusCode::PARTIAL_CONTENT, r)
        }
        Ranged::Outside => {
            set(
                &mut out,
                header::CONTENT_RANGE,
                &format!("bytes */{}", d.size),
            );
            let mut e = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the file has {} bytes", d.size),
            )
            .into_response();
            e.headers_mut().extend(out);
            return Ok(e);
        }
    };
    set(
        &mut out,
        header::CONTENT_LENGTH,
        &(range.end - range.start).to_string(),
    );
    let bytes = app.document_bytes(doc, range).map(|chunk| {
        chunk.map_err(|e| {
            tracing::error!(error = %e, "a document's bytes failed mid-stream");
            std::io::Error::other(e.to_string())
        })
    });
    Ok((status, out, Body::from_stream(bytes)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ranges() {
        assert_eq!(
            content_disposition("attachment", "服务方案 v2.pdf"),
            "attachment; filename=\"____ v2.pdf\"; filename*=UTF-8''%E6%9C%8D%E5%8A%A1%E6%96%B9%E6%A1%88%20v2.pdf"
        );
        assert_eq!(byte_range(None, 10), Ranged::Whole);
        assert_eq!(byte_range(Some("bytes=2-4"), 10), Ranged::Part(2..5));
        assert_eq!(byte_range(Some("bytes=7-"), 10), Ranged::Part(7..10));
        assert_eq!(byte_range(Some("bytes=-3"), 10), Ranged::Part(7..10));
        assert_eq!(byte_range(Some("bytes=5-100"), 10), Ranged::Part(5..10));
        assert_eq!(byte_range(Some("bytes=10-"), 10), Ranged::Outside);
        assert_eq!(byte_range(Some("bytes=0-1,4-5"), 10), Ranged::Whole);
        assert_eq!(byte_range(Some("items=0-1"), 10), Ranged::Whole);
    }
}
