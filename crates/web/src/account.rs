//! Accounts in the browser: sign in and out (here or everywhere), an organisation's
//! registration and the mailed verification link, the forgotten-password link, the account
//! page (announcement opt-in, language), and notice-board subscriptions. Every form carries
//! the CSRF token; every outcome comes from the application's use cases.

use crate::Web;
use crate::i18n::Lang;
use crate::page::refusal;
use crate::page::{Message, error, local_path, render};
use crate::session::{Me, SESSION, Visitor, set_cookie};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use tenderflow_app::AccountField;
use tenderflow_app::AppError;
use tenderflow_app::accounts::RegistrationForm;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    lang: Lang,
    me: Me,
    login: String,
    next: String,
    problem: Option<String>,
}

/// The sign-in page's address.
#[derive(Deserialize)]
pub(crate) struct NextQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default, rename = "lang")]
    _lang: Option<String>,
}

/// `GET /sign-in`.
pub(crate) async fn sign_in_page(visitor: Visitor, Query(q): Query<NextQuery>) -> Response {
    let page = SignInPage {
        lang: visitor.lang,
        me: visitor.me(),
        login: String::new(),
        next: local_path(q.next.as_deref()),
        problem: None,
    };
    render(&page, StatusCode::OK)
}

/// The sign-in form.
#[derive(Deserialize)]
pub(crate) struct SignInForm {
    csrf: String,
    login: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /sign-in`: a new session (any session the browser had is ended first), then back
/// to where the visitor was going.
pub(crate) async fn sign_in(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(form): axum::Form<SignInForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let lang = visitor.lang;
    let next = local_path(form.next.as_deref());
    match web.app.sign_in(&form.login, &form.password).await {
        Ok(signed) => {
            if let Some(old) = &visitor.session {
                if let Err(e) = web.app.sign_out(old).await {
                    return error(lang, &e);
                }
            }
            // The language the visitor signed in with goes on with it.
            let mut res = Redirect::to(&crate::page::with_lang(&next, lang)).into_response();
            res.headers_mut()
                .append(SET_COOKIE, set_cookie(&web, SESSION, &signed.cookie, None));
            res
        }
        Err(e) => {
            let status = match &e {
                AppError::NotNow {
                    code: "too_many_attempts",
                    ..
                } => StatusCode::TOO_MANY_REQUESTS,
                AppError::NotNow { .. } | AppError::Invalid { .. } => StatusCode::UNAUTHORIZED,
                _ => return error(lang, &e),
            };
            let code = crate::page::refusal_code(&e).unwrap_or_default();
            let page = SignInPage {
                lang,
                me: visitor.me(),
                login: form.login.trim().to_owned(),
                next,
                problem: Some(refusal(lang, &code)),
            };
            render(&page, status)
        }
    }
}

/// A form that only carries its token.
#[derive(Deserialize)]
pub(crate) struct TokenOnly {
    pub(crate) csrf: String,
}

/// `POST /sign-out`: ends this session.
pub(crate) async fn sign_out(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(form): axum::Form<TokenOnly>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    if let Some(s) = &visitor.session {
        if let Err(e) = web.app.sign_out(s).await {
            return error(visitor.lang, &e);
        }
    }
    let mut res = Redirect::to(&format!("/?lang={}", visitor.lang.tag())).into_response();
    res.headers_mut()
        .append(SET_COOKIE, set_cookie(&web, SESSION, "", Some(0)));
    res
}

/// `POST /account/sign-out-everywhere`: ends every session of the account (this one too).
pub(crate) async fn sign_out_everywhere(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(form): axum::Form<TokenOnly>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let caller = match visitor.require("/account") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let lang = visitor.lang;
    let n = match web.app.sign_out_everywhere(caller).await {
        Ok(n) => n,
        Err(e) => return error(lang, &e),
    };
    let signed_out = Visitor {
        caller: None,
        session: None,
        ..visitor.clone()
    };
    let page = Message::new(
        &signed_out,
        lang.t("signed-out-everywhere"),
        lang.t_with("signed-out-count", &[("count", n.into())]),
    )
    .link(format!("/sign-in?lang={}", lang.tag()), lang.t("sign-in"));
    let mut res = render(&page, StatusCode::OK);
    res.headers_mut()
        .append(SET_COOKIE, set_cookie(&web, SESSION, "", Some(0)));
    res
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    lang: Lang,
    me: Me,
    name: String,
    number: String,
    contact: String,
    email: String,
    announcements: bool,
    errors: BTreeMap<&'static str, String>,
}

impl RegisterPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// `GET /register`.
pub(crate) async fn register_page(visitor: Visitor) -> Response {
    let page = RegisterPage {
        lang: visitor.lang,
        me: visitor.me(),
        name: String::new(),
        number: String::new(),
        contact: String::new(),
        email: String::new(),
        announcements: true,
        errors: BTreeMap::new(),
    };
    render(&page, StatusCode::OK)
}

/// The registration form.
#[derive(Deserialize)]
pub(crate) struct RegisterForm {
    csrf: String,
    name: String,
    number: String,
    contact: String,
    email: String,
    password: String,
    password2: String,
    #[serde(default)]
    announcements: Option<String>,
}

/// `POST /register`: the account and its verification mail; problems next to their fields.
pub(crate) async fn register(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(form): axum::Form<RegisterForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let lang = visitor.lang;
    let mut errors = BTreeMap::new();
    for (field, value) in [
        ("name", &form.name),
        ("number", &form.number),
        ("contact", &form.contact),
        ("email", &form.email),
    ] {
        if value.trim().is_empty() {
            errors.insert(field, lang.t("error-required"));
        }
    }
    if form.password != form.password2 {
        errors.insert("password2", lang.t("error-passwords-differ"));
    }
    let outcome = if errors.is_empty() {
        web.app
            .register(RegistrationForm {
                name: form.name.clone(),
                registration_number: form.number.clone(),
                contact_person: form.contact.clone(),
                email: form.email.clone(),
                password: form.password.clone(),
                locale: lang.tag().to_owned(),
                announcements: form.announcements.is_some(),
            })
            .await
    } else {
        Ok(())
    };
    match outcome {
        Ok(()) if errors.is_empty() => {
            let page = Message::new(
                &visitor,
                lang.t("check-your-mail"),
                lang.t_with(
                    "verify-sent",
                    &[("email", form.email.trim().to_owned().into())],
                ),
            );
            return render(&page, StatusCode::OK);
        }
        Ok(()) => {}
        Err(AppError::Invalid {
            code: "invalid_password",
            ..
        }) => {
            errors.insert("password", lang.t("error-password"));
        }
        Err(AppError::Invalid {
            code: "invalid_email",
            ..
        }) => {
            errors.insert("email", lang.t("error-invalid-email"));
        }
        Err(AppError::InvalidAccount { field, .. }) => {
            let field = match field {
                AccountField::Email => "email",
                AccountField::RegistrationNumber => "number",
                AccountField::ContactPerson => "contact",
                _ => "name",
            };
            errors.insert(field, lang.t(&format!("error-invalid-{field}")));
        }
        Err(e) => return error(lang, &e),
    }
    let page = RegisterPage {
        lang,
        me: visitor.me(),
        name: form.name,
        number: form.number,
        contact: form.contact,
        email: form.email,
        announcements: form.announcements.is_some(),
        errors,
    };
    render(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

#[derive(Template)]
#[template(path = "confirm.html")]
pub(crate) struct ConfirmPage {
    lang: Lang,
    me: Me,
    title: String,
    text: String,
    action: String,
    button: String,
    /// A password form (reset) rather than a button.
    password: bool,
    problem: Option<String>,
}

pub(crate) fn confirm(visitor: &Visitor, key: &str, action: String, password: bool) -> ConfirmPage {
    let lang = visitor.lang;
    ConfirmPage {
        lang,
        me: visitor.me(),
        title: lang.t(&format!("{key}-title")),
        text: lang.t(&format!("{key}-text")),
        action,
        button: lang.t(&format!("{key}-button")),
        password,
        problem: None,
    }
}

/// `GET /verify/{token}`: a button that confirms the address (a link opened by a mail
/// scanner does nothing; the person presses the button).
pub(crate) async fn verify_page(visitor: Visitor, Path(token): Path<String>) -> Response {
    let page = confirm(&visitor, "verify", format!("/verify/{token}"), false);
    render(&page, StatusCode::OK)
}

/// `POST /verify/{token}`.
pub(crate) async fn verify(
    State(web): State<Web>,
    visitor: Visitor,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<TokenOnly>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let result = web.app.verify_email(&token).await;
    let onwards = (
        format!("/sign-in?lang={}", visitor.lang.tag()),
        visitor.lang.t("sign-in"),
    );
    link_used(&visitor, result, "verified", Some(onwards))
}

/// The page after a mailed link was used: `{ok}-title` and `{ok}-text` with a link onwards,
/// or why the link did not work.
pub(crate) fn link_used<T>(
    visitor: &Visitor,
    result: tenderflow_app::Result<T>,
    ok: &str,
    onwards: Option<(String, String)>,
) -> Response {
    let lang = visitor.lang;
    match result {
        Ok(_) => {
            let mut page = Message::new(
                visitor,
                lang.t(&format!("{ok}-title")),
                lang.t(&format!("{ok}-text")),
            );
            page.link = onwards;
            render(&page, StatusCode::OK)
        }
        Err(AppError::Invalid { code, .. }) => render(
            &Message::new(visitor, lang.t("link-invalid-title"), refusal(lang, code)),
            StatusCode::BAD_REQUEST,
        ),
        Err(e) => error(lang, &e),
    }
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    lang: Lang,
    me: Me,
}

/// `GET /forgot`: asks for the address to send a reset (or verification) link to.
pub(crate) async fn forgot_page(visitor: Visitor) -> Response {
    render(
        &ForgotPage {
            lang: visitor.lang,
            me: visitor.me(),
        },
        StatusCode::OK,
    )
}

/// The forgotten-password form.
#[derive(Deserialize)]
pub(crate) struct EmailForm {
    pub(crate) csrf: String,
    pub(crate) email: String,
}

/// `POST /forgot`: queues a reset link (or, for an unverified address, a new verification
/// link); the answer is the same whether or not the address is registered.
pub(crate) async fn forgot(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(form): axum::Form<EmailForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let lang = visitor.lang;
    if let Err(e) = web.app.request_password_reset(&form.email).await {
        return error(lang, &e);
    }
    if let Err(e) = web.app.resend_verification(&form.email).await {
        return error(lang, &e);
    }
    render(
        &Message::new(&visitor, lang.t("check-your-mail"), lang.t("reset-sent")),
        StatusCode::OK,
    )
}

/// `GET /reset/{token}`: the new-password form.
pub(crate) async fn reset_page(visitor: Visitor, Path(token): Path<String>) -> Response {
    render(
        &confirm(&visitor, "reset", format!("/reset/{token}"), true),
        StatusCode::OK,
    )
}

/// The new-password form.
#[derive(Deserialize)]
pub(crate) struct ResetForm {
    csrf: String,
    password: String,
    password2: String,
}

/// `POST /reset/{token}`: sets the password and ends every session of the account.
pub(crate) async fn reset(
    State(web): State<Web>,
    visitor: Visitor,
    Path(token): Path<String>,
    axum::Form(form): axum::Form<ResetForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let lang = visitor.lang;
    let problem = if form.password != form.password2 {
        Some(lang.t("error-passwords-differ"))
    } else {
        match web.app.reset_password(&token, &form.password).await {
            Ok(_) => {
                let page = Message::new(
                    &visitor,
                    lang.t("reset-done-title"),
                    lang.t("reset-done-text"),
                )
                .link(format!("/sign-in?lang={}", lang.tag()), lang.t("sign-in"));
                return render(&page, StatusCode::OK);
            }
            Err(AppError::Invalid {
                code: "invalid_password",
                ..
            }) => Some(lang.t("error-password")),
            Err(AppError::Invalid { code, .. }) => Some(refusal(lang, code)),
            Err(e) => return error(lang, &e),
        }
    };
    let mut page = confirm(&visitor, "reset", format!("/reset/{token}"), true);
    page.problem = problem;
    render(&page, StatusCode::UNPROCESSABLE_ENTITY)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    lang: Lang,
    me: Me,
    profile: tenderflow_app::Profile,
    saved: bool,
    /// For an evaluator: its fields of expertise, and every organisation with whether it
    /// declared a tie to it.
    expert: Option<(String, Vec<Organisation>)>,
}

/// An organisation an evaluator may declare a tie to: (id, name, tied).
type Organisation = (String, String, bool);

/// The account page's address.
#[derive(Deserialize)]
pub(crate) struct AccountQuery {
    #[serde(default)]
    saved: Option<String>,
    #[serde(default, rename = "lang")]
    _lang: Option<String>,
}

/// `GET /account`: the account's facts, its preferences, and signing out everywhere.
pub(crate) async fn account_page(
    State(web): State<Web>,
    visitor: Visitor,
    Query(q): Query<AccountQuery>,
) -> Response {
    let caller = match visitor.require("/account") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let expert = if caller.is(tenderflow_core::Role::EVALUATOR) {
        let mine = match web.app.expert_profile(caller).await {
            Ok(p) => p,
            Err(e) => return error(visitor.lang, &e),
        };
        let orgs = match web.app.organisations(caller).await {
            Ok(o) => o,
            Err(e) => return error(visitor.lang, &e),
        };
        let ties = mine.as_ref().map(|m| m.ties.clone()).unwrap_or_default();
        Some((
            mine.map(|m| m.fields.join(", ")).unwrap_or_default(),
            orgs.into_iter()
                .map(|(id, name)| {
                    let tied = ties.contains(&id);
                    (id, name, tied)
                })
                .collect(),
        ))
    } else {
        None
    };
    match web.app.profile(caller).await {
        Ok(profile) => render(
            &AccountPage {
                lang: visitor.lang,
                me: visitor.me(),
                profile,
                saved: q.saved.is_some(),
                expert,
            },
            StatusCode::OK,
        ),
        Err(e) => error(visitor.lang, &e),
    }
}

/// The preferences form.
#[derive(Deserialize)]
pub(crate) struct PreferencesForm {
    csrf: String,
    #[serde(default)]
    announcements: Option<String>,
    locale: String,
}

/// `POST /account`: saves the preferences.
pub(crate) async fn save_account(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(form): axum::Form<PreferencesForm>,
) -> Response {
    if let Err(r) = visitor.check(&form.csrf) {
        return r;
    }
    let caller = match visitor.require("/account") {
        Ok(c) => c,
        Err(r) => return r,
    };
    match web
        .app
        .set_preferences(caller, form.announcements.is_some(), &form.locale)
        .await
    {
        Ok(()) => {
            Redirect::to(&format!("/account?lang={}&saved=1", visitor.lang.tag())).into_response()
        }
        Err(e) => error(visitor.lang, &e),
    }
}

/// `POST /account/expert`: an evaluator's fields of expertise and declared ties.
pub(crate) async fn save_expert(
    State(web): State<Web>,
    visitor: Visitor,
    axum::Form(posted): axum::Form<std::collections::HashMap<String, String>>,
) -> Response {
    if let Err(r) = visitor.check(posted.get("csrf").map(String::as_str).unwrap_or_default()) {
        return r;
    }
    let caller = match visitor.require("/account") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let fields: Vec<String> = posted
        .get("fields")
        .map(String::as_str)
        .unwrap_or_default()
        .split([',', '，', '、'])
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    let mut ties: Vec<String> = posted
        .keys()
        .filter_map(|k| k.strip_prefix("tie-"))
        .map(str::to_owned)
        .collect();
    ties.sort();
    match web.app.set_expert_profile(caller, &fields, &ties).await {
        Ok(()) => {
            Redirect::to(&format!("/account?lang={}&saved=1", visitor.lang.tag())).into_response()
        }
        Err(e) => error(visitor.lang, &e),
    }
}
