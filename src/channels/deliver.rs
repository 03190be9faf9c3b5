//! Posts one delivery and reads the answer with the channel kind's rules: which codes mean
//! success, which are worth a retry (and when, from `Retry-After`), which give up on this
//! delivery, and which mean the channel is gone for good and must stop.

use crate::config::ChannelKind;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::StatusCode;
use std::time::Duration;

/// The longest `Retry-After` honoured; a receiver asking for more is retried after this.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(3600);

/// What one attempt ended in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver took it.
    Sent,
    /// Worth another try, after `after` when the receiver said so.
    Retry {
        /// What went wrong.
        error: String,
        /// The receiver's `Retry-After`.
        after: Option<Duration>,
    },
    /// This delivery can never succeed (a 400, say); the next one may.
    GiveUp(String),
    /// The channel is gone (410, or the kind's revoked codes): stop it.
    Stop(String),
}

/// Whether `code` is this kind's success.
fn is_success(kind: ChannelKind, code: StatusCode, body: &str) -> bool {
    match kind {
        // Slack answers 200 with the plain text `ok`; anything else is an error text.
        ChannelKind::Slack => code == StatusCode::OK && body.trim() == "ok",
        ChannelKind::PagerDuty => code == StatusCode::ACCEPTED,
        ChannelKind::Discord => code == StatusCode::NO_CONTENT || code == StatusCode::OK,
        // Teams' 2xx means accepted, not posted: the flow runs later.
        ChannelKind::Teams | ChannelKind::Webhook => code.is_success(),
    }
}

/// Whether `code` says the channel is gone.
fn is_gone(kind: ChannelKind, code: StatusCode) -> bool {
    let c = code.as_u16();
    match kind {
        ChannelKind::Slack => matches!(c, 403 | 404 | 410),
        ChannelKind::Discord => matches!(c, 401 | 403 | 404 | 410),
        ChannelKind::PagerDuty | ChannelKind::Teams | ChannelKind::Webhook => c == 410,
    }
}

/// Reads an answer.
pub fn classify(kind: ChannelKind, code: StatusCode, headers: &HeaderMap, body: &str) -> Outcome {
    if is_success(kind, code, body) {
        return Outcome::Sent;
    }
    let said = body.trim();
    let said = super::message::clip(said, 300);
    let error = if said.is_empty() {
        format!("HTTP {code}")
    } else {
        format!("HTTP {code}: {said}")
    };
    if is_gone(kind, code) {
        return Outcome::Stop(error);
    }
    if code == StatusCode::TOO_MANY_REQUESTS
        || code.is_server_error()
        || code == StatusCode::REQUEST_TIMEOUT
    {
        return Outcome::Retry {
            error,
            after: retry_after(headers, std::time::SystemTime::now()),
        };
    }
    Outcome::GiveUp(error)
}

/// `Retry-After` as seconds (integer or, as Discord sends, fractional) or an HTTP date, capped
/// at [`RETRY_AFTER_MAX`].
pub fn retry_after(headers: &HeaderMap, now: std::time::SystemTime) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if let Ok(secs) = v.parse::<f64>() {
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))?
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
        let at = std::time::SystemTime::UNIX_EPOCH
            + Duration::from_millis(u64::try_from(at.timestamp_millis()).ok()?);
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(RETRY_AFTER_MAX))
}

/// Posts `body` with `headers` and reads the answer.
pub async fn post(
    client: &reqwest::Client,
    kind: ChannelKind,
    url: &str,
    headers: HeaderMap,
    body: Vec<u8>,
    timeout: Duration,
) -> Outcome {
    let sent = client
        .post(url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .timeout(timeout)
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        // The error text of reqwest names the URL, which may carry the channel's token.
        Err(e) => {
            let what = if e.is_timeout() {
                format!("no answer within {}", humantime::format_duration(timeout))
            } else if e.is_connect() {
                "could not connect".to_owned()
            } else {
                "the request failed".to_owned()
            };
            return Outcome::Retry {
                error: what,
                after: None,
            };
        }
    };
    let (code, headers) = (resp.status(), resp.headers().clone());
    if code.is_redirection() {
        // Standard Webhooks and Statuspage: a redirect is a failure, never followed.
        return Outcome::Retry {
            error: format!("HTTP {code}: redirects are not followed"),
            after: None,
        };
    }
    let body = tokio::time::timeout(timeout, resp.text())
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    classify(kind, code, &headers, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(retry: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = retry.parse() {
            h.insert(RETRY_AFTER, v);
        }
        h
    }

    #[test]
    fn each_kind_has_its_own_success_code() {
        let h = HeaderMap::new();
        assert_eq!(
            classify(ChannelKind::Slack, StatusCode::OK, &h, "ok"),
            Outcome::Sent
        );
        assert!(matches!(
            classify(ChannelKind::Slack, StatusCode::OK, &h, "invalid_token"),
            Outcome::GiveUp(_)
        ));
        assert_eq!(
            classify(ChannelKind::PagerDuty, StatusCode::ACCEPTED, &h, "{}"),
            Outcome::Sent
        );
        assert!(matches!(
            classify(ChannelKind::PagerDuty, StatusCode::OK, &h, ""),
            Outcome::GiveUp(_)
        ));
        assert_eq!(
            classify(ChannelKind::Discord, StatusCode::NO_CONTENT, &h, ""),
            Outcome::Sent
        );
        assert_eq!(
            classify(ChannelKind::Teams, StatusCode::ACCEPTED, &h, ""),
            Outcome::Sent
        );
        assert_eq!(
            classify(ChannelKind::Webhook, StatusCode::NO_CONTENT, &h, ""),
            Outcome::Sent
        );
    }

    #[test]
    fn gone_codes_stop_429_and_5xx_retry_other_4xx_give_up() {
        let h = headers("7");
        for kind in ChannelKind::ALL {
            assert!(
                matches!(classify(kind, StatusCode::GONE, &h, ""), Outcome::Stop(_)),
                "{kind:?}"
            );
            assert_eq!(
                classify(kind, StatusCode::TOO_MANY_REQUESTS, &h, ""),
                Outcome::Retry {
                    error: "HTTP 429 Too Many Requests".into(),
                    after: Some(Duration::from_secs(7))
                }
            );
            assert!(matches!(
                classify(kind, StatusCode::BAD_GATEWAY, &h, ""),
                Outcome::Retry { .. }
            ));
            assert!(matches!(
                classify(kind, StatusCode::BAD_REQUEST, &h, ""),
                Outcome::GiveUp(_)
            ));
        }
        assert!(matches!(
            classify(
                ChannelKind::Slack,
                StatusCode::NOT_FOUND,
                &h,
                "channel_not_found"
            ),
            Outcome::Stop(_)
        ));
        assert!(matches!(
            classify(ChannelKind::Webhook, StatusCode::NOT_FOUND, &h, ""),
            Outcome::GiveUp(_)
        ));
    }

    #[test]
    fn retry_after_reads_seconds_fractions_and_http_dates_and_is_capped() {
        let now = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        assert_eq!(
            retry_after(&headers("2.5"), now),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(
            retry_after(&headers("Wed, 21 Oct 2015 07:28:30 GMT"), now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(retry_after(&headers("999999"), now), Some(RETRY_AFTER_MAX));
        assert_eq!(retry_after(&headers("soon"), now), None);
        assert_eq!(retry_after(&headers("-1"), now), None);
    }
}
