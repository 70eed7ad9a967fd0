//! Headers every page answer carries so that no other site can frame, sniff or script it:
//! `Content-Security-Policy` (only this site's script, style and forms; never framed),
//! `X-Frame-Options: DENY` for older browsers, `X-Content-Type-Options: nosniff` and a
//! referrer policy that keeps paths (which may name a link token) on this site.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{
    CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of an HTML page: the vendored htmx and our own script, our stylesheet, images
/// from here (and inline `data:` ones), forms posted only here, never framed.
pub(crate) const PAGE_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// The policy of anything else (a PDF, a document, a script): never framed.
pub(crate) const OTHER_POLICY: &str = "frame-ancestors 'none'";

/// Middleware: sets the headers on every answer.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let h = res.headers_mut();
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if html { PAGE_POLICY } else { OTHER_POLICY }),
    );
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}
