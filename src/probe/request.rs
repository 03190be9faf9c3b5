//! Turns a rendered shape into a `reqwest::Request`, header order kept.
//!
//! Two limits of the HTTP stack are accepted and documented: hyper writes header names in lower
//! case (as every SDK's traffic arrives over HTTP/2), and reqwest adds `accept: */*` when a shape
//! sends no Accept header (most SDK runtimes send that same value).

use super::render::RenderedRequest;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Why a rendered request cannot be sent.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The method is not a valid token.
    #[error("invalid method {0:?}")]
    Method(String),
    /// The URL does not parse.
    #[error("invalid URL {url:?}: {source}")]
    Url {
        /// The URL text.
        url: String,
        /// The parse error.
        source: url::ParseError,
    },
    /// A header name or value has characters HTTP forbids.
    #[error("invalid header {0:?}")]
    Header(String),
}

/// Builds the request; the body is sent byte for byte.
pub fn build(
    client: &reqwest::Client,
    r: &RenderedRequest,
) -> Result<reqwest::Request, BuildError> {
    let method = reqwest::Method::from_bytes(r.method.as_bytes())
        .map_err(|_| BuildError::Method(r.method.clone()))?;
    let url = reqwest::Url::parse(&r.url).map_err(|source| BuildError::Url {
        url: r.url.clone(),
        source,
    })?;
    let mut headers = HeaderMap::with_capacity(r.headers.len());
    for (name, value) in &r.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| BuildError::Header(name.clone()))?;
        let v = HeaderValue::from_str(value).map_err(|_| BuildError::Header(name.clone()))?;
        headers.append(n, v);
    }
    let mut builder = client.request(method, url).headers(headers);
    if let Some(body) = &r.body {
        builder = builder.body(body.clone().into_bytes());
    }
    builder
        .build()
        .map_err(|e| BuildError::Header(e.to_string()))
}
