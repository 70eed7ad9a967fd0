//! A per-client limit on the forms that send mail (`/forgot`, `/subscribe`, `/register`):
//! one client may not make the server mail address after address. Each address has its own
//! limit in the store (`MAILS_PER_ADDRESS`), which holds across servers; this one counts
//! posts per client address in memory, so a flood from one client stops at `429` with
//! `Retry-After` before anything is looked up. Behind a reverse proxy every client has the
//! proxy's address, so the limit is generous.

use crate::Web;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Posts to a mail-sending form one client may make in [`WINDOW`].
pub(crate) const LIMIT: usize = 20;
/// The window the posts are counted in.
pub(crate) const WINDOW: Duration = Duration::from_secs(600);
/// Clients remembered at most; the oldest are forgotten first.
const CLIENTS: usize = 10_000;

/// The forms whose posts send mail.
const MAIL_FORMS: [&str; 3] = ["/forgot", "/subscribe", "/register"];

/// Recent posts per client address.
#[derive(Debug, Default)]
pub(crate) struct Throttle {
    hits: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl Throttle {
    /// Counts a post from `client` at `now`: whether it is within the limit.
    fn allow(&self, client: IpAddr, now: Instant) -> bool {
        let mut hits = self
            .hits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if hits.len() >= CLIENTS && !hits.contains_key(&client) {
            hits.retain(|_, times| times.back().is_some_and(|t| now - *t < WINDOW));
            if hits.len() >= CLIENTS {
                return false;
            }
        }
        let times = hits.entry(client).or_default();
        while times.front().is_some_and(|t| now - *t >= WINDOW) {
            times.pop_front();
        }
        if times.len() >= LIMIT {
            return false;
        }
        times.push_back(now);
        true
    }
}

/// Middleware: `429` for a client past its limit on the mail-sending forms.
pub(crate) async fn mail_forms(State(web): State<Web>, req: Request, next: Next) -> Response {
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let limited = req.method() == Method::POST && MAIL_FORMS.contains(&req.uri().path());
    if let (true, Some(client)) = (limited, client) {
        if !web.throttle.allow(client, Instant::now()) {
            tracing::info!(%client, path = req.uri().path(), "mail form throttled");
            let mut res = (
                StatusCode::TOO_MANY_REQUESTS,
                "too many requests from this address; try again later",
            )
                .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(WINDOW.as_secs()));
            return res;
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::{LIMIT, Throttle, WINDOW};
    use std::net::{IpAddr, Ipv4Addr};
    use std::time::Instant;

    #[test]
    fn a_client_past_its_limit_waits_for_the_window() {
        let t = Throttle::default();
        let (a, b) = (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
        );
        let start = Instant::now();
        for _ in 0..LIMIT {
            assert!(t.allow(a, start));
        }
        assert!(!t.allow(a, start), "one more is refused");
        assert!(t.allow(b, start), "another client is not affected");
        assert!(t.allow(a, start + WINDOW), "after the window, again");
    }
}
