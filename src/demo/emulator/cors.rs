//! CORS like the real Edge API: the answer to a browser's preflight, the
//! `Access-Control-Allow-Origin` on every other answer, and the two values the
//! CORS faults carry (a header name and an origin).
//!
//! Assumption (design A.4): the Edge API answers like django-cors-headers with
//! `CORS_ORIGIN_ALLOW_ALL` and no credentials, i.e. `200`, `*`, the methods
//! `DELETE, GET, OPTIONS, PATCH, POST, PUT`, django's default headers plus
//! Flagsmith's extras and the SDK headers added by Flagsmith/flagsmith #6010 and
//! #6017, and `Access-Control-Max-Age: 86400` (#1478). The real answer is not
//! captured anywhere; this is the best reading of the server's settings.

use std::fmt;

use http::header::{
    HeaderMap, HeaderValue, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN,
    VARY,
};
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, Empty};

use super::body::EmuBody;
use super::faults::Fault;

/// The methods a preflight answer allows, as django-cors-headers lists them.
pub(crate) const ALLOW_METHODS: &str = "DELETE, GET, OPTIONS, PATCH, POST, PUT";

/// The request headers a preflight answer allows, in the order they are sent.
pub(crate) const ALLOW_HEADERS: [&str; 15] = [
    "accept",
    "accept-encoding",
    "authorization",
    "content-type",
    "dnt",
    "origin",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
    "sentry-trace",
    "x-environment-key",
    "x-e2e-test-auth-token",
    "flagsmith-sdk-user-agent",
    "flagsmith-application-name",
    "flagsmith-application-version",
];

/// How long a browser may cache a preflight answer, in seconds.
pub(crate) const MAX_AGE: &str = "86400";

/// Whether a request is a CORS preflight (Fetch: `OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`); a bare `OPTIONS` is not one.
pub(crate) fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS
        && headers.contains_key(ORIGIN)
        && headers.contains_key(ACCESS_CONTROL_REQUEST_METHOD)
}

/// The empty 200 answer to a preflight, shaped by the region's behaviour fault.
pub(crate) fn preflight(fault: &Fault) -> Response<EmuBody> {
    let mut response = Response::new(Empty::new().boxed());
    *response.status_mut() = StatusCode::OK;
    let dropped = match fault {
        Fault::CorsDropHeader(name) => Some(name.as_str()),
        _ => None,
    };
    let allowed: Vec<&str> = ALLOW_HEADERS
        .iter()
        .copied()
        .filter(|h| dropped.is_none_or(|d| !h.eq_ignore_ascii_case(d)))
        .collect();
    let headers = response.headers_mut();
    headers.insert(
        ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    // Every listed name is a token, so the joined value is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, value);
    }
    headers.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
    decorate(&mut response, fault);
    response
}

/// Adds `Access-Control-Allow-Origin` (`*`, or the one origin of `cors_origin`
/// with `Vary: Origin`) so a browser page may read the answer.
pub(crate) fn decorate(response: &mut Response<EmuBody>, fault: &Fault) {
    let headers = response.headers_mut();
    match fault {
        Fault::CorsOrigin(origin) => {
            // An `Origin` holds only checked ASCII, so this never fails in practice.
            if let Ok(value) = HeaderValue::from_str(origin.as_str()) {
                headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, value);
            }
            headers.insert(VARY, HeaderValue::from_static("Origin"));
        }
        _ => {
            headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        }
    }
}

/// A lower-cased HTTP header name (an RFC 9110 token), for `cors_drop_header`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HeaderToken(String);

impl HeaderToken {
    /// Checks that `text` is a token and lower-cases it; the error says why not.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("the header name is empty".into());
        }
        if let Some(bad) = text.chars().find(|c| !is_tchar(*c)) {
            return Err(format!("{bad:?} cannot be part of a header name"));
        }
        Ok(Self(text.to_ascii_lowercase()))
    }

    /// The lower-cased name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HeaderToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// A serialized origin (`scheme://host[:port]`, lower case, no default port), for `cors_origin`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin(String);

impl Origin {
    /// Checks `text` is an http(s) origin with no path and serializes it the way a
    /// browser sends `Origin` (lower case, default port dropped); the error says why not.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        let (scheme, rest) = lower
            .split_once("://")
            .ok_or("it has no scheme (write http:// or https://)")?;
        let default_port = match scheme {
            "http" => "80",
            "https" => "443",
            other => return Err(format!("the scheme {other:?} is not http or https")),
        };
        if let Some(bad) = rest.chars().find(|c| "/?#@\\".contains(*c)) {
            return Err(format!(
                "an origin has no path, query, fragment or user ({bad:?} found)"
            ));
        }
        let (host, port) = split_host_port(rest)?;
        check_host(host)?;
        let port = match port {
            None => None,
            Some(p) if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) => {
                return Err(format!("the port {p:?} is not a number"));
            }
            Some(p) => match p.parse::<u16>() {
                Ok(0) | Err(_) => return Err(format!("the port {p} is not from 1 to 65535")),
                Ok(n) => Some(n.to_string()),
            },
        };
        Ok(Self(match port {
            Some(p) if p != default_port => format!("{scheme}://{host}:{p}"),
            _ => format!("{scheme}://{host}"),
        }))
    }

    /// The serialized origin, e.g. `https://app.example.com`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Splits `host[:port]`, where the host may be a bracketed IPv6 address.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    if authority.starts_with('[') {
        let end = authority
            .find(']')
            .ok_or("the IPv6 host has no closing ]")?;
        let (host, after) = authority.split_at(end + 1);
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err(format!("unexpected {after:?} after the host")),
            },
        };
    }
    Ok(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// A DNS name or IPv4 address (letters, digits, `-`, dot-separated labels) or `[IPv6]`.
fn check_host(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("it has no host".into());
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return match inner.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(format!("{host} is not an IPv6 address")),
        };
    }
    if let Some(bad) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '.'))
    {
        return Err(format!("{bad:?} cannot be part of a host name"));
    }
    if host.split('.').any(str::is_empty) {
        return Err(format!("the host {host} has an empty label"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_tokens_and_lower_cased() {
        assert_eq!(
            HeaderToken::parse(" Flagsmith-SDK-User-Agent ").map(|t| t.to_string()),
            Ok("flagsmith-sdk-user-agent".into())
        );
        for bad in ["", "x y", "x:y", "x,y", "é"] {
            assert!(HeaderToken::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn origins_are_checked_and_serialized_like_a_browser_does() {
        for (text, want) in [
            ("https://App.Example.com", "https://app.example.com"),
            ("http://localhost:8080", "http://localhost:8080"),
            ("https://a.example:443", "https://a.example"),
            ("http://127.0.0.1:80", "http://127.0.0.1"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ] {
            assert_eq!(
                Origin::parse(text).map(|o| o.to_string()),
                Ok(want.into()),
                "{text}"
            );
        }
        for (bad, why) in [
            ("app.example.com", "no scheme"),
            ("ftp://a.example", "not http or https"),
            ("https://", "no host"),
            ("https://a.example/", "no path"),
            ("https://a.example/x", "no path"),
            ("https://a.example?q", "no path"),
            ("https://u@a.example", "no path"),
            ("https://a.example:", "not a number"),
            ("https://a.example:http", "not a number"),
            ("https://a.example:70000", "1 to 65535"),
            ("https://a..example", "empty label"),
            ("https://a_b.example", "host name"),
            ("https://[zz]", "IPv6"),
        ] {
            let got = Origin::parse(bad);
            assert!(
                got.as_ref().is_err_and(|e| e.contains(why)),
                "{bad}: {got:?}"
            );
        }
    }
}
