//! Server-rendered pages: askama templates (checked at compile time) over the application's
//! use cases, htmx vendored into the binary for progressive enhancement (every page works
//! without JavaScript), one stylesheet, zh-CN and en from Fluent catalogues in files.
//!
//! Pages live beside the JSON API on one port: the public notice board (`/`,
//! `/notices/{id}`, subscriptions), accounts (`/sign-in`, `/register`, `/verify/…`,
//! `/forgot`, `/reset/…`, `/account`), and the bidder portal (`/my`, `/notices/{id}/bid`,
//! `…/receipt`, `…/withdraw`, `…/questions`), the officials' console (`/console`,
//! `/console/tenders/{id}[/timeline]`) and the evaluators' desk (`/desk/tenders/{id}`). No business rule lives here: a page asks the
//! `App` and renders. Sessions and CSRF: see [`session`].

// Page helpers return `Result<_, Response>` so that a handler can answer early (a redirect to
// sign in, a refused form) with `?`-like matches; a response once per request is not worth boxing.
#![allow(clippy::result_large_err)]

mod account;
mod actions;
mod assets;
mod board;
mod console;
mod desk;
mod documents;
mod form;
mod headers;
mod i18n;
mod new_tender;
mod page;
mod pdf;
mod portal;
mod records;
mod reports;
mod session;
mod subscriptions;
mod throttle;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use std::sync::Arc;
use tenderflow_app::App;

pub use i18n::Lang;

/// A simple PDF: a title and paragraphs (Chinese and Latin text), as the demo's sample
/// documents are written.
pub fn simple_pdf(title: &str, paragraphs: &[String]) -> Result<Vec<u8>, String> {
    let mut blocks = vec![pdf::Block::Title(title.to_owned())];
    blocks.extend(paragraphs.iter().cloned().map(pdf::Block::Text));
    pdf::render(&blocks)
}

pub use reports::quarterly_report_pdf;

/// What the pages need: the application, and whether cookies are HTTPS-only.
#[derive(Clone, Debug)]
pub struct Web {
    app: Arc<App>,
    secure_cookies: bool,
    throttle: Arc<throttle::Throttle>,
}

impl FromRef<Web> for Arc<App> {
    fn from_ref(web: &Web) -> Self {
        web.app.clone()
    }
}

/// The pages, to be merged with the API's router; cookies are marked `Secure` when
/// `secure_cookies` (the pages are served over HTTPS).
pub fn router_with(app: Arc<App>, secure_cookies: bool) -> Router {
    let web = Web {
        app,
        secure_cookies,
        throttle: Arc::default(),
    };
    Router::new()
        .route("/", get(board::board))
        .route("/notices/{id}", get(board::notice))
        .route("/notices/{id}/questions", post(board::ask))
        .route(
            "/notices/{id}/bid",
            get(portal::bid_form)
                .post(portal::submit)
                // Files stream to the store, each checked against the definition's limit;
                // the form's text is read up to `documents::FORM_TEXT_BYTES`.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/notices/{id}/documents/{doc}", get(documents::download))
        .route("/notices/{id}/withdraw", post(portal::withdraw))
        .route("/notices/{id}/receipt", get(portal::receipt))
        .route("/my", get(portal::my))
        .route("/console", get(console::console))
        .route(
            "/console/new",
            get(new_tender::new_tender).post(new_tender::create),
        )
        .route(
            "/console/tenders/{id}",
            get(console::tender)
                .post(actions::act)
                // Tender documents stream to the store; the form's text has its own limit.
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/console/tenders/{id}/timeline", get(console::timeline))
        .route("/console/tenders/{id}/records", get(records::records))
        .route(
            "/console/tenders/{id}/records.pdf",
            get(records::records_pdf),
        )
        .route("/desk/tenders/{id}", get(desk::desk).post(desk::score))
        .route("/console/reports/quarterly", get(reports::quarterly))
        .route(
            "/console/reports/quarterly.csv",
            get(reports::quarterly_csv),
        )
        .route(
            "/console/reports/quarterly.pdf",
            get(reports::quarterly_pdf),
        )
        .route(
            "/sign-in",
            get(account::sign_in_page).post(account::sign_in),
        )
        .route("/sign-out", post(account::sign_out))
        .route(
            "/register",
            get(account::register_page).post(account::register),
        )
        .route(
            "/verify/{token}",
            get(account::verify_page).post(account::verify),
        )
        .route("/forgot", get(account::forgot_page).post(account::forgot))
        .route(
            "/reset/{token}",
            get(account::reset_page).post(account::reset),
        )
        .route(
            "/account",
            get(account::account_page).post(account::save_account),
        )
        .route("/account/expert", post(account::save_expert))
        .route(
            "/account/sign-out-everywhere",
            post(account::sign_out_everywhere),
        )
        .route("/subscribe", post(subscriptions::subscribe))
        .route(
            "/subscribe/{token}",
            get(subscriptions::subscribe_page).post(subscriptions::confirm_subscription),
        )
        .route(
            "/unsubscribe",
            get(subscriptions::unsubscribe_page).post(subscriptions::unsubscribe),
        )
        .layer(axum::middleware::from_fn_with_state(
            web.clone(),
            session::csrf_cookie,
        ))
        .layer(axum::middleware::from_fn_with_state(
            web.clone(),
            throttle::mail_forms,
        ))
        .route("/static/{file}", get(assets::asset))
        // Every other form is text: 413 beyond what one may carry.
        .layer(axum::extract::DefaultBodyLimit::max(
            documents::FORM_TEXT_BYTES,
        ))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(web)
}

/// The pages over plain HTTP (tests, a server behind nothing).
pub fn router(app: Arc<App>) -> Router {
    router_with(app, false)
}
