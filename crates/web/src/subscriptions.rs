//! Notice-board subscriptions in the pages: subscribing an address (`POST /subscribe`), the
//! mailed confirmation link (`/subscribe/{token}`) and the unsubscribe link every
//! announcement carries (`/unsubscribe`); each link opens a button that confirms.

use crate::Web;
use crate::page::{Message, error, render};
use crate::session::Visitor;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tenderflow_app::AppError;

use crate::account::{EmailForm, TokenOnly, confirm, link_used};

/// `POST /subscribe`: subscribes an address to announcements (confirmed by a mailed link).
pub(crate) async fn subscribe(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(form): axum::Form<EmailForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let lang = visitor.lang;
    match web.app.subscribe(&form.email, lang.tag()).await {
        Ok(()) => render(
            &Message::new(
                &visitor,
                lang.t("check-your-mail"),
                lang.t("subscribe-sent"),
            ),
            StatusCode::OK,
        ),
        Err(AppError::Invalid { .. }) => render(
            &Message::new(
                &visitor,
                lang.t("subscribe-title"),
                lang.t("error-invalid-email"),
            )
            .link(format!("/?lang={}", lang.tag()), lang.t("back-to-board")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => error(lang, &e),
    }
}

/// `GET /subscribe/{token}`: a button that confirms the subscription.
pub(crate) async fn subscribe_page(visitor: Visitor, Path(token): Path<String>) -> Response {
    render(
        &confirm(&visitor, "subconfirm", format!("/subscribe/{token}"), false),
        StatusCode::OK,
    )
}

/// `POST /subscribe/{token}`.
pub(crate) async fn confirm_subscription(
    State(web): State<Web>,
    visitor: Visitor,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<TokenOnly>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let result = web.app.confirm_subscription(&token).await;
    let onwards = (
        format!("/?lang={}", visitor.lang.tag()),
        visitor.lang.t("back-to-board"),
    );
    link_used(&visitor, result, "subscribed", Some(onwards))
}

/// The unsubscribe link's address.
#[derive(Deserialize)]
pub(crate) struct UnsubscribeQuery {
    email: String,
    token: String,
    #[serde(default, rename = "lang")]
    _lang: Option<String>,
}

/// `GET /unsubscribe?email=…&token=…`: a button that ends the subscription.
pub(crate) async fn unsubscribe_page(
    visitor: Visitor,
    Query(q): Query<UnsubscribeQuery>,
) -> Response {
    let action = format!(
        "/unsubscribe?email={}&token={}",
        crate::page::encode(&q.email),
        crate::page::encode(&q.token)
    );
    render(
        &confirm(&visitor, "unsubscribe", action, false),
        StatusCode::OK,
    )
}

/// What `POST /unsubscribe` carries: the page's form key, or a mail client's one-click
/// request (RFC 8058: `List-Unsubscribe=One-Click`, no cookies, no form key).
#[derive(serde::Deserialize)]
pub(crate) struct UnsubscribeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default, rename = "List-Unsubscribe")]
    one_click: Option<String>,
}

/// `POST /unsubscribe?email=…&token=…`: from the page's button, or a mail client's
/// one-click unsubscribe (the address's own token in the URL authenticates it, as it does
/// the link).
pub(crate) async fn unsubscribe(
    State(web): State<Web>,
    visitor: Visitor,
    Query(q): Query<UnsubscribeQuery>,
    axum::Form(form): axum::Form<UnsubscribeForm>,
) -> Response {
    let one_click = form.one_click.as_deref() == Some("One-Click");
    if !one_click {
        if let Err(r) = visitor.check(&form.csrf) {
            return r;
        }
    }
    let result = web.app.unsubscribe(&q.email, &q.token).await;
    link_used(&visitor, result, "unsubscribed", None)
}
