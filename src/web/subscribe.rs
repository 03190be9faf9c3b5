//! The subscription flow: sign up (double opt-in), confirm, one-click unsubscribe (RFC 8058).
//! The answer to a sign-up never reveals whether the address is already subscribed; sign-ups
//! are rate-limited per client address and per mailbox.

use super::views::utc;
use super::AppState;
use crate::domain::{EmailAddress, Timestamp};
use crate::notify::messages::queue_confirmation;
use crate::store::subscribers::{self, SignUp};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use rand::RngCore;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Largest sign-up form accepted.
pub const MAX_FORM_BYTES: usize = 4096;
/// How long a confirmation link works.
pub const CONFIRM_FOR: Duration = Duration::from_secs(24 * 3600);

#[derive(Template)]
#[template(path = "subscribe/message.html")]
struct MessagePage<'a> {
    page_title: &'a str,
    generated: String,
    heading: &'a str,
    message: &'a str,
    form_action: Option<String>,
    button: &'a str,
}

fn page(state: &AppState, code: StatusCode, heading: &str, message: &str) -> Response {
    page_with_form(state, code, heading, message, None, "")
}

fn page_with_form(
    state: &AppState,
    code: StatusCode,
    heading: &str,
    message: &str,
    form_action: Option<String>,
    button: &str,
) -> Response {
    let html = MessagePage {
        page_title: &state.config.page.title,
        generated: utc(Timestamp::now()),
        heading,
        message,
        form_action,
        button,
    }
    .render()
    .unwrap_or_else(|_| message.to_owned());
    (code, Html(html)).into_response()
}

/// Sliding-window limits on sign-ups.
#[derive(Debug, Default)]
pub struct RateLimits {
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimits {
    /// Records an attempt under `key`; false when more than `max` happened within `window`.
    pub fn allow(&self, key: String, max: usize, window: Duration) -> bool {
        let Ok(mut seen) = self.seen.lock() else {
            return false;
        };
        let now = Instant::now();
        let q = seen.entry(key).or_default();
        while q.front().is_some_and(|t| now.duration_since(*t) > window) {
            q.pop_front();
        }
        if q.len() >= max {
            return false;
        }
        q.push_back(now);
        true
    }
}

fn token() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn valid_token(t: &str) -> bool {
    t.len() == 48 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `POST /subscribe` (form: `email`, optional repeated `component`).
pub async fn subscribe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let Some(mail) = state.mail.clone() else {
        return page(&state, StatusCode::NOT_FOUND, "Subscriptions are off",
            "Email subscriptions are not configured on this page. Follow the Atom or RSS feed instead.");
    };
    if body.len() > MAX_FORM_BYTES {
        return page(
            &state,
            StatusCode::PAYLOAD_TOO_LARGE,
            "Form too large",
            "That form is too large.",
        );
    }
    let mut email = None;
    let mut components = Vec::new();
    for (k, v) in url::form_urlencoded::parse(&body) {
        match k.as_ref() {
            "email" => email = Some(v.into_owned()),
            "component" => components.push(v.into_owned()),
            _ => {}
        }
    }
    let address = match EmailAddress::parse(email.as_deref().unwrap_or("")) {
        Ok(a) => a,
        Err(e) => return page(&state, StatusCode::BAD_REQUEST, "Check the address", &e),
    };
    let mut wanted = Vec::new();
    for c in components {
        match state.config.components.iter().find(|k| k.id.as_str() == c) {
            Some(k) => wanted.push(k.id.clone()),
            None => {
                return page(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "Unknown component",
                    &format!("There is no component {c:?} on this page."),
                )
            }
        }
    }
    let ip_ok = state
        .limits
        .allow(format!("ip:{}", peer.ip()), 10, Duration::from_secs(600));
    let box_ok = state
        .limits
        .allow(format!("box:{address}"), 3, Duration::from_secs(3600));
    if !ip_ok || !box_ok {
        return page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            "Slow down",
            "Too many sign-ups from here or for this address. Try again later.",
        );
    }
    let done = async {
        let now = Timestamp::now();
        let mut tx = state.store.begin_write().await?;
        let result = subscribers::sign_up(
            &mut tx,
            &address,
            &wanted,
            &token(),
            &token(),
            now.plus(CONFIRM_FOR),
            now,
        )
        .await?;
        if let SignUp::Confirm { token, .. } = &result {
            queue_confirmation(&mut tx, &mail, &address, token, now).await?;
        }
        tx.commit().await?;
        Ok::<_, crate::store::Error>(())
    }
    .await;
    match done {
        Ok(()) => page(&state, StatusCode::OK, "Check your inbox",
            "If that address can receive mail, a confirmation link is on its way. Updates start once you follow it."),
        Err(e) => {
            tracing::error!(error = %e, "sign-up failed");
            page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "We could not record that just now. Try again in a minute.")
        }
    }
}

/// `GET /subscribe/confirm?token=`
pub async fn confirm(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let t = q.get("token").map(String::as_str).unwrap_or("");
    let invalid = || {
        page(&state, StatusCode::BAD_REQUEST, "Link not valid",
        "This confirmation link is invalid, was already used, or has expired. Subscribe again to get a new one.")
    };
    if !valid_token(t) {
        return invalid();
    }
    let Ok(mut conn) = state.store.pool().acquire().await else {
        return page(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "Try again in a minute.",
        );
    };
    match subscribers::confirm(&mut conn, t, Timestamp::now()).await {
        Ok(Some(_)) => page(&state, StatusCode::OK, "You are subscribed",
            "You will get an email for every update of every incident on this page. Each mail has a one-click unsubscribe link."),
        Ok(None) => invalid(),
        Err(e) => {
            tracing::error!(error = %e, "confirmation failed");
            page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Try again in a minute.")
        }
    }
}

/// The request's unsubscribe token and a connection, or the page to answer with.
async fn token_and_conn(
    state: &AppState,
    q: &HashMap<String, String>,
) -> Result<(String, sqlx::pool::PoolConnection<sqlx::Sqlite>), Response> {
    let t = q.get("token").map(String::as_str).unwrap_or("");
    if !valid_token(t) {
        return Err(page(
            state,
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This unsubscribe link is not valid.",
        ));
    }
    match state.store.pool().acquire().await {
        Ok(conn) => Ok((t.to_owned(), conn)),
        Err(_) => Err(page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "Try again in a minute.",
        )),
    }
}

/// `GET /unsubscribe?token=`: a button, so that link scanners cannot unsubscribe anyone.
pub async fn unsubscribe_form(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (t, mut conn) = match token_and_conn(&state, &q).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match subscribers::by_unsubscribe_token(&mut conn, &t).await {
        Ok(Some((_, status))) if status == "unsubscribed" => page(
            &state,
            StatusCode::OK,
            "Already unsubscribed",
            "This address gets no more mail from this page.",
        ),
        Ok(Some(_)) => page_with_form(
            &state,
            StatusCode::OK,
            "Unsubscribe?",
            "Stop all incident mail from this page to this address.",
            Some(format!("/unsubscribe?token={t}")),
            "Unsubscribe",
        ),
        Ok(None) => page(
            &state,
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This unsubscribe link is not valid.",
        ),
        Err(_) => page(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "Try again in a minute.",
        ),
    }
}

/// `POST /unsubscribe?token=`: unsubscribes at once (the RFC 8058 one-click POST lands here).
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (t, mut conn) = match token_and_conn(&state, &q).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    match subscribers::unsubscribe(&mut conn, &t, Timestamp::now()).await {
        Ok(true) => page(
            &state,
            StatusCode::OK,
            "Unsubscribed",
            "This address gets no more mail from this page.",
        ),
        Ok(false) => page(
            &state,
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This unsubscribe link is not valid.",
        ),
        Err(_) => page(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Try again",
            "Try again in a minute.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_allow_up_to_max_per_key_then_refuse() {
        let l = RateLimits::default();
        let w = Duration::from_secs(60);
        assert!((0..3).all(|_| l.allow("ip:1".into(), 3, w)));
        assert!(!l.allow("ip:1".into(), 3, w));
        assert!(l.allow("ip:2".into(), 3, w), "other keys are not affected");
        assert!(
            l.allow("ip:1".into(), 3, Duration::ZERO),
            "old attempts leave the window"
        );
    }

    #[test]
    fn tokens_are_48_hex_characters_and_differ() {
        let (a, b) = (token(), token());
        assert!(valid_token(&a) && valid_token(&b));
        assert_ne!(a, b);
        assert!(!valid_token("../../etc/passwd"));
    }
}
