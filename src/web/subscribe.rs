//! The subscription pages: sign up (double opt-in), confirm, one-click unsubscribe (RFC 8058).
//! The answer to a sign-up never reveals whether the address is already subscribed; sign-ups
//! are rate-limited per client address and per mailbox. Every write goes through
//! [`crate::notify::subscription`].

mod limits;

pub use limits::RateLimits;

use super::views::utc;
use super::AppState;
use crate::domain::{EmailAddress, SubscriberStatus, Timestamp};
use crate::notify::subscription::{self, valid_token};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Largest sign-up form accepted.
pub const MAX_FORM_BYTES: usize = 4096;
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
    let rendered = MessagePage {
        page_title: &state.config.page.title,
        generated: utc(Timestamp::now()),
        heading,
        message,
        form_action,
        button,
    }
    .render();
    match rendered {
        Ok(html) => (code, Html(html)).into_response(),
        // Never fall back to `message`: it may hold what the visitor typed, unescaped.
        Err(e) => {
            tracing::error!(error = %e, "rendering a subscription page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Internal server error\n",
            )
                .into_response()
        }
    }
}

/// `POST /subscribe` (form: `email`, optional repeated `component`).
pub async fn subscribe(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let Some(mail) = state.mail.clone().filter(|m| m.sends_mail) else {
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
    let refused = state
        .limits
        .admit_sign_up(peer.ip(), address.as_str())
        .err();
    if let Some(limit) = refused {
        tracing::debug!(client = %peer.ip(), limit, "sign-up refused by the rate limit");
        return page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            "Slow down",
            "Too many sign-ups from here or for this address. Try again later.",
        );
    }
    let done =
        subscription::sign_up(&state.store, &mail, &address, &wanted, Timestamp::now()).await;
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
    match subscription::confirm(&state.store, t, Timestamp::now()).await {
        Ok(true) => page(&state, StatusCode::OK, "You are subscribed",
            "You will get an email for every update of every incident on this page. Each mail has a one-click unsubscribe link."),
        Ok(false) => invalid(),
        Err(e) => {
            tracing::error!(error = %e, "confirmation failed");
            page(&state, StatusCode::SERVICE_UNAVAILABLE, "Try again", "Try again in a minute.")
        }
    }
}

/// The request's unsubscribe token, if it looks like one.
fn unsubscribe_token(q: &HashMap<String, String>) -> Option<&str> {
    q.get("token")
        .map(String::as_str)
        .filter(|t| valid_token(t))
}

fn invalid_unsubscribe(state: &AppState) -> Response {
    page(
        state,
        StatusCode::BAD_REQUEST,
        "Link not valid",
        "This unsubscribe link is not valid.",
    )
}

fn try_again(state: &AppState) -> Response {
    page(
        state,
        StatusCode::SERVICE_UNAVAILABLE,
        "Try again",
        "Try again in a minute.",
    )
}

/// `GET /unsubscribe?token=`: a button, so that link scanners cannot unsubscribe anyone.
pub async fn unsubscribe_form(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(t) = unsubscribe_token(&q) else {
        return invalid_unsubscribe(&state);
    };
    match subscription::status_of(&state.store, t).await {
        Ok(Some(SubscriberStatus::Unsubscribed)) => page(
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
        Ok(None) => invalid_unsubscribe(&state),
        Err(e) => {
            tracing::error!(error = %e, "reading an unsubscribe token failed");
            try_again(&state)
        }
    }
}

/// `POST /unsubscribe?token=`: unsubscribes at once (the RFC 8058 one-click POST lands here).
pub async fn unsubscribe(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(t) = unsubscribe_token(&q) else {
        return invalid_unsubscribe(&state);
    };
    match subscription::unsubscribe(&state.store, t, Timestamp::now()).await {
        Ok(true) => page(
            &state,
            StatusCode::OK,
            "Unsubscribed",
            "This address gets no more mail from this page.",
        ),
        Ok(false) => invalid_unsubscribe(&state),
        Err(e) => {
            tracing::error!(error = %e, "unsubscribing failed");
            try_again(&state)
        }
    }
}
