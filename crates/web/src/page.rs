//! What every page shares: rendering a template (or a logged error), the error page, the
//! message page (a title and a sentence, e.g. "check your mail"), and query encoding.

use crate::i18n::Lang;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use tenderflow_app::AppError;

/// Renders a page with `status` (a template that fails is logged and answered with 500).
pub(crate) fn render(page: &impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page failed to render",
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    lang: Lang,
    me: Me,
    title: String,
    detail: String,
}

/// The error page for what a use case refused (a logged 500 for anything unexpected).
pub(crate) fn error(lang: Lang, e: &AppError) -> Response {
    let (status, title) = match e {
        AppError::Busy {
            retry_after_secs, ..
        } => {
            let page = ErrorPage {
                lang,
                me: Me::nobody(),
                title: lang.t("busy"),
                detail: lang.t("back-to-board"),
            };
            let mut res = render(&page, StatusCode::SERVICE_UNAVAILABLE);
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
            return res;
        }
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, lang.t("not-found")),
        AppError::Invalid { .. } => (StatusCode::BAD_REQUEST, lang.t("not-found")),
        // The client went away mid-upload: its doing, not a server error.
        AppError::Upload(why) => {
            tracing::info!(error = %why, "an upload was cut off by the client");
            (StatusCode::BAD_REQUEST, lang.t("refusal-other"))
        }
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, lang.t("forbidden")),
        // Not now (the bids are not opened yet, say): why, in the page's language.
        AppError::NotNow { code, .. } => (StatusCode::CONFLICT, refusal(lang, code)),
        AppError::Rejected(r) => (StatusCode::CONFLICT, refusal(lang, r.code.as_str())),
        _ => {
            tracing::error!(error = %e, "a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, lang.t("internal-error"))
        }
    };
    let page = ErrorPage {
        lang,
        me: Me::nobody(),
        title,
        detail: lang.t("back-to-board"),
    };
    render(&page, status)
}

/// A page that says one thing: a title, a sentence and, optionally, a link onwards.
#[derive(Template)]
#[template(path = "message.html")]
pub(crate) struct Message {
    pub lang: Lang,
    pub me: Me,
    pub title: String,
    pub text: String,
    pub link: Option<(String, String)>,
}

impl Message {
    /// With a link onwards (`href`, its text).
    pub fn link(mut self, href: String, text: String) -> Self {
        self.link = Some((href, text));
        self
    }
}

/// `text` percent-encoded for a query value.
pub(crate) fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'~' | b'/') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `path` with the page's language in its query, unless it names one already.
pub(crate) fn with_lang(path: &str, lang: Lang) -> String {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    if query.split('&').any(|p| p.starts_with("lang=")) {
        return path.to_owned();
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", lang.tag())
}

/// A local path to go to after signing in: `next` when it is a path on this site, the
/// portal otherwise (never another site: no open redirect).
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.contains('\\')
                && !p.chars().any(char::is_control) =>
        {
            p.to_owned()
        }
        _ => "/my".to_owned(),
    }
}

/// The signed-in person as every page's header shows it.
#[derive(Debug, Clone)]
pub(crate) struct Me {
    /// Its name, when signed in.
    pub name: Option<String>,
    /// Whether it is a bidder (the portal links).
    pub bidder: bool,
    /// Whether it is an official or an evaluator (the console link).
    pub console: bool,
    /// The CSRF token (the sign-out button is a form).
    pub csrf: String,
}

impl Me {
    /// Nobody signed in (error pages).
    pub(crate) fn nobody() -> Self {
        Self {
            name: None,
            bidder: false,
            console: false,
            csrf: String::new(),
        }
    }
}

/// The code of a refusal the page explains in its own words (a business rejection or a
/// request problem); `None` for failures (logged, answered with the error page).
pub(crate) fn refusal_code(e: &AppError) -> Option<String> {
    match e {
        AppError::Rejected(r) => Some(r.code.as_str().to_owned()),
        AppError::Invalid { code, .. } | AppError::NotNow { code, .. } => Some((*code).to_owned()),
        AppError::Forbidden(_) => Some("wrong_role".to_owned()),
        AppError::Stale { .. } => Some("stale".to_owned()),
        _ => None,
    }
}

/// A refusal in the page's language (`refusal-{code}`), or the general sentence.
pub(crate) fn refusal(lang: Lang, code: &str) -> String {
    lang.try_t(&format!("refusal-{code}"))
        .unwrap_or_else(|| lang.t("refusal-other"))
}
