//! Server-rendered pages: askama templates (checked at compile time) over the application's
//! use cases, htmx vendored into the binary for progressive enhancement (every page works
//! without JavaScript), one stylesheet, zh-CN and en from Fluent catalogues in files.
//!
//! Pages live at `/` (the notice board), `/notices/{id}` and `/static/…`; the JSON API keeps
//! its paths beside them. No business rule lives here: a page asks the `App` and renders.

mod assets;
mod board;
mod i18n;

use axum::Router;
use axum::routing::get;
use std::sync::Arc;
use tenderflow_app::App;

pub use i18n::Lang;

/// The pages, to be merged with the API's router.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(board::board))
        .route("/notices/{id}", get(board::notice))
        .route("/static/{file}", get(assets::asset))
        .with_state(app)
}
