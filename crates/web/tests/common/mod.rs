//! The pages in process with a cookie jar: a browser without a browser, for the tests that
//! check what the server answers (status, redirects, cookies, HTML).

#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use tenderflow_testkit::app::TestApp;
use tower::ServiceExt;

/// The password the tests give accounts.
pub const PASSWORD: &str = "correct horse battery";

/// A browser without a browser: cookies kept between requests.
pub struct Visitor {
    router: axum::Router,
    pub cookies: BTreeMap<String, String>,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub html: String,
}

impl Page {
    /// The CSRF token of the page's first form.
    pub fn csrf(&self) -> String {
        self.html
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a form with a CSRF token")
            .to_owned()
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl Visitor {
    pub fn new(e: &TestApp) -> Self {
        Self {
            router: tenderflow_web::router(Arc::new(e.app.clone())),
            cookies: BTreeMap::new(),
        }
    }

    /// The request builder with the jar's cookies.
    fn with_cookies(&self, mut req: axum::http::request::Builder) -> axum::http::request::Builder {
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req = req.header(header::COOKIE, jar.join("; "));
        }
        req
    }

    /// Sends `req`, keeps the cookies it sets, and reads the page.
    async fn exchange(&mut self, req: Request<Body>) -> Page {
        let res = self.router.clone().oneshot(req).await.expect("response");
        for c in res.headers().get_all(header::SET_COOKIE) {
            let c = c.to_str().expect("ascii");
            let (pair, attrs) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = pair.split_once('=').expect("a cookie");
            assert!(
                attrs.contains("HttpOnly") && attrs.contains("SameSite=Lax"),
                "{c}"
            );
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        Page {
            status,
            location,
            html: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
    ) -> Page {
        let mut req = self.with_cookies(Request::builder().method(method).uri(path));
        let body = match form {
            Some(f) => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                let pairs: Vec<String> = f
                    .iter()
                    .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                    .collect();
                Body::from(pairs.join("&"))
            }
            None => Body::empty(),
        };
        self.exchange(req.body(body).expect("request")).await
    }

    /// The raw body of a GET (a PDF, say), after checking it answered 200.
    pub async fn bytes(&mut self, path: &str) -> Vec<u8> {
        let req = self.with_cookies(Request::builder().method(Method::GET).uri(path));
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes()
            .to_vec()
    }

    /// Posts a `multipart/form-data` form: text fields, then files as (input name, file
    /// name, media type, bytes), as a browser sends a form with file inputs.
    pub async fn multipart(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Page {
        let boundary = "----tenderflow-test-boundary-7d3a";
        let mut body: Vec<u8> = Vec::new();
        for (k, v) in fields {
            body.extend(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .into_bytes(),
            );
        }
        for (k, name, media, bytes) in files {
            body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: {media}\r\n\r\n").into_bytes());
            body.extend_from_slice(bytes);
            body.extend(b"\r\n");
        }
        body.extend(format!("--{boundary}--\r\n").into_bytes());
        let req = self.with_cookies(Request::builder().method(Method::POST).uri(path).header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        ));
        self.exchange(req.body(Body::from(body)).expect("request"))
            .await
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Posts a form with the CSRF token of the page at `from`.
    pub async fn submit(&mut self, from: &str, to: &str, fields: &[(&str, &str)]) -> Page {
        let csrf = self.get(from).await.csrf();
        let mut form = vec![("csrf", csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(to, &form).await
    }

    pub async fn sign_in(&mut self, login: &str, password: &str) -> Page {
        self.submit(
            "/sign-in?lang=en",
            "/sign-in?lang=en",
            &[("login", login), ("password", password), ("next", "/my")],
        )
        .await
    }
}

/// `t` as a `datetime-local` value in Beijing time.
pub fn beijing(t: tenderflow_core::Timestamp) -> String {
    t.plus_seconds(8 * 3600).to_rfc3339()[..16].to_owned()
}

/// A form's fields from a JSON object: strings as they are, numbers as text, fen
/// (`…Minor`) as yuan, nested objects as `outer.inner`.
pub fn fields(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    for (k, v) in v.as_object().into_iter().flatten() {
        let name = format!("{prefix}{k}");
        match v {
            Value::Object(_) => fields(&format!("{name}."), v, out),
            Value::String(s) => out.push((name, s.clone())),
            Value::Number(n) if k.ends_with("Minor") => {
                let fen = n.as_i64().expect("fen");
                out.push((name, format!("{}.{:02}", fen / 100, fen % 100)));
            }
            other => out.push((name, other.to_string())),
        }
    }
}
