//! Who is asking: the session cookie (a signed-in person) and the CSRF token every form
//! carries back.
//!
//! - The session cookie `tf_session` is HttpOnly, SameSite=Lax, `Secure` when the pages are
//!   served over HTTPS, and names a session in the database (the application's
//!   [`App::session`]): several servers share it, signing out ends it everywhere.
//! - CSRF: a signed-in visitor's forms carry its session's token; an anonymous visitor's
//!   forms carry the token of its `tf_csrf` cookie (double submit), set on its first page.
//!   Every POST compares the form's token with the expected one in constant time and refuses
//!   a mismatch with `403`, before anything is done.
//! - Signing in always starts a new session (a cookie planted before sign-in is never
//!   adopted: no session fixation).

use crate::Web;
use crate::i18n::Lang;
pub(crate) use crate::page::Me;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenderflow_app::Caller;

/// The session cookie.
pub(crate) const SESSION: &str = "tf_session";
/// The anonymous CSRF cookie.
pub(crate) const CSRF: &str = "tf_csrf";

/// A cookie of the request.
pub(crate) fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, `Secure` over HTTPS; `max_age`
/// seconds (0 deletes it; `None` lasts the browser session).
pub(crate) fn set_cookie(web: &Web, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if web.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// 32 random bytes, hex.
pub(crate) fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string() + &uuid::Uuid::new_v4().simple().to_string()
}

/// The CSRF token made for a visitor without one (by [`csrf_cookie`]).
#[derive(Clone)]
struct NewCsrf(String);

/// Middleware: gives a visitor without a `tf_csrf` cookie one (so that its first form can
/// be checked), and makes every page uncacheable by shared caches.
pub(crate) async fn csrf_cookie(State(web): State<Web>, mut req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let fresh = cookie(&parts, CSRF).is_none().then(random_token);
    if let Some(t) = &fresh {
        parts.extensions.insert(NewCsrf(t.clone()));
    }
    req = Request::from_parts(parts, body);
    let mut res = next.run(req).await;
    if let Some(t) = fresh {
        res.headers_mut()
            .append(SET_COOKIE, set_cookie(&web, CSRF, &t, None));
    }
    res.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

/// The person asking: signed in or not, its language and the CSRF token its forms carry.
#[derive(Clone)]
pub(crate) struct Visitor {
    /// The page's language.
    pub lang: Lang,
    /// The signed-in caller.
    pub caller: Option<Caller>,
    /// The token forms carry.
    pub csrf: String,
    /// The session cookie, when signed in.
    pub session: Option<String>,
}

impl FromRequestParts<Web> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, web: &Web) -> Result<Self, Response> {
        let Ok(lang) = Lang::from_request_parts(parts, web).await;
        if let Some(cookie) = cookie(parts, SESSION) {
            match web.app.session(cookie).await {
                Ok(Some((caller, csrf))) => {
                    return Ok(Self {
                        lang,
                        caller: Some(caller),
                        csrf,
                        session: Some(cookie.to_owned()),
                    });
                }
                Ok(None) => {}
                Err(e) => return Err(crate::page::error(lang, &e)),
            }
        }
        let csrf = cookie(parts, CSRF)
            .map(str::to_owned)
            .or_else(|| parts.extensions.get::<NewCsrf>().map(|n| n.0.clone()))
            .unwrap_or_default();
        Ok(Self {
            lang,
            caller: None,
            csrf,
            session: None,
        })
    }
}

impl Visitor {
    /// Refuses (403) a form whose token is not the visitor's.
    pub fn check(&self, sent: &str) -> Result<(), Response> {
        if !self.csrf.is_empty()
            && tenderflow_app::accounts::constant_time_eq(
                self.csrf.as_bytes(),
                sent.trim().as_bytes(),
            )
        {
            Ok(())
        } else {
            let page = crate::page::Message::new(
                self,
                self.lang.t("csrf-title"),
                self.lang.t("csrf-text"),
            );
            Err(crate::page::render(&page, StatusCode::FORBIDDEN))
        }
    }

    /// The signed-in caller, or a redirect to the sign-in page that comes back to `here`.
    pub fn require(&self, here: &str) -> Result<&Caller, Response> {
        self.caller.as_ref().ok_or_else(|| {
            axum::response::Redirect::to(&format!(
                "/sign-in?lang={}&next={}",
                self.lang.tag(),
                crate::page::encode(here)
            ))
            .into_response()
        })
    }

    /// What the page header shows.
    pub fn me(&self) -> Me {
        Me {
            name: self.caller.as_ref().map(|c| c.account.display_name.clone()),
            bidder: self
                .caller
                .as_ref()
                .is_some_and(|c| c.is(tenderflow_core::Role::BIDDER)),
            console: self.caller.as_ref().is_some_and(|c| {
                tenderflow_app::roles::is_official(c.role())
                    || c.is(tenderflow_core::Role::EVALUATOR)
            }),
            csrf: self.csrf.clone(),
        }
    }
}

impl crate::page::Message {
    /// A message for `visitor`.
    pub fn new(visitor: &Visitor, title: String, text: String) -> Self {
        Self {
            lang: visitor.lang,
            me: visitor.me(),
            title,
            text,
            link: None,
        }
    }
}

/// The officials (or evaluators) signed in, or a redirect / 403.
pub(crate) fn official<'a>(visitor: &'a Visitor, here: &str) -> Result<&'a Caller, Response> {
    let caller = visitor.require(here)?;
    if tenderflow_app::roles::is_official(caller.role())
        || caller.is(tenderflow_app::roles::Role::EVALUATOR)
    {
        Ok(caller)
    } else {
        Err(
            axum::response::Redirect::to(&format!("/my?lang={}", visitor.lang.tag()))
                .into_response(),
        )
    }
}
