//! Turns a rendered shape into a request prepared once (URL parsed, header names and values
//! checked, body in shared bytes), so each run only clones cheap handles.
//!
//! Two limits of the HTTP stack are accepted and documented: hyper writes header names in lower
//! case (as every SDK's traffic arrives over HTTP/2), and reqwest adds `accept: */*` when a shape
//! sends no Accept header (most SDK runtimes send that same value).

use super::render::{BrowserFacts, RenderedRequest};
use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::sync::Arc;

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

/// A request ready to be sent any number of times.
#[derive(Debug, Clone)]
pub struct Prepared {
    method: reqwest::Method,
    url: reqwest::Url,
    headers: HeaderMap,
    body: Option<Bytes>,
    browser: Option<Arc<BrowserPrepared>>,
}

/// What a browser shape adds around its request: the preflight, and what answers are judged by.
#[derive(Debug)]
pub struct BrowserPrepared {
    /// The CORS preflight, when the request needs one.
    pub preflight: Option<Prepared>,
    /// The page origin, method and CORS-unsafe header names.
    pub facts: BrowserFacts,
}

impl Prepared {
    /// Validates and converts a rendered request; header order is kept.
    pub fn new(r: &RenderedRequest) -> Result<Prepared, BuildError> {
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
        let browser = match &r.browser {
            Some(facts) => Some(Arc::new(BrowserPrepared {
                preflight: r.preflight.as_deref().map(Prepared::new).transpose()?,
                facts: facts.clone(),
            })),
            None => None,
        };
        Ok(Prepared {
            method,
            url,
            headers,
            body: r.body.clone().map(Bytes::from),
            browser,
        })
    }

    /// The URL the request goes to.
    pub fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// The same request sent to another URL with no body (the next page of a paged answer);
    /// a browser's preflight goes to that URL too.
    pub fn with_url(&self, url: &str) -> Result<Prepared, BuildError> {
        let parsed = reqwest::Url::parse(url).map_err(|source| BuildError::Url {
            url: url.to_owned(),
            source,
        })?;
        let browser = match &self.browser {
            None => None,
            Some(b) => Some(Arc::new(BrowserPrepared {
                preflight: b.preflight.as_ref().map(|p| p.with_url(url)).transpose()?,
                facts: b.facts.clone(),
            })),
        };
        Ok(Prepared {
            method: self.method.clone(),
            url: parsed,
            headers: self.headers.clone(),
            body: None,
            browser,
        })
    }

    /// The browser part, for a browser shape's request.
    pub fn browser(&self) -> Option<&BrowserPrepared> {
        self.browser.as_deref()
    }

    /// A fresh request (cheap: the body bytes are shared).
    pub fn request(&self) -> reqwest::Request {
        let mut req = reqwest::Request::new(self.method.clone(), self.url.clone());
        *req.headers_mut() = self.headers.clone();
        if let Some(body) = &self.body {
            *req.body_mut() = Some(reqwest::Body::from(body.clone()));
        }
        req
    }
}
