//! Sends one rendered request and classifies what came back: a per-run timeout covers the whole
//! exchange, bodies are read up to a cap (compressed and decoded), failures become outcome
//! classes, never errors.

use super::assert::Expectation;
use super::render::RenderedRequest;
use super::request::Prepared;
use crate::domain::RunOutcome;
use flate2::read::{GzDecoder, ZlibDecoder};
use std::io::Read;
use std::time::{Duration, Instant};

/// Longest response excerpt kept with a run.
pub const EXCERPT_BYTES: usize = 2048;
/// Default cap on a response body.
pub const DEFAULT_BODY_CAP: usize = 1024 * 1024;

/// What one execution saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    /// Outcome class.
    pub outcome: RunOutcome,
    /// HTTP status, when an answer arrived.
    pub status: Option<u16>,
    /// Time from sending to the end of the body (or the failure).
    pub latency: Duration,
    /// A human explanation.
    pub message: String,
    /// At most [`EXCERPT_BYTES`] of the (decoded) body.
    pub excerpt: String,
    /// The whole (decoded) body, up to the cap; empty when none arrived.
    pub body: Vec<u8>,
    /// A sequence's requests as they went (empty for one request).
    pub steps: Vec<crate::domain::StepResult>,
}

/// Per-run limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The whole exchange must finish within this.
    pub timeout: Duration,
    /// Bodies larger than this end as `body_too_large`.
    pub body_cap: usize,
}

/// Builds the shared HTTP client: rustls, no default timeout (each run has its own), no cookies.
pub fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(5))
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_secs(10))
        .build()
}

/// Prepares `req` and sends it once (see [`execute_prepared`]).
pub async fn execute(
    client: &reqwest::Client,
    req: &RenderedRequest,
    expect: &Expectation,
    limits: Limits,
) -> Execution {
    match Prepared::new(req) {
        Ok(p) => execute_prepared(client, &p, expect, limits).await,
        Err(e) => Execution {
            outcome: RunOutcome::Connect,
            status: None,
            latency: Duration::ZERO,
            message: format!("request could not be built: {e}"),
            excerpt: String::new(),
            body: Vec::new(),
            steps: Vec::new(),
        },
    }
}

/// Sends a prepared request and judges the answer against `expect`. The excerpt is kept only
/// for runs that did not pass: it is evidence, and storing 2 KiB of every healthy answer
/// would grow the database by gigabytes a day for no reader.
pub async fn execute_prepared(
    client: &reqwest::Client,
    req: &Prepared,
    expect: &Expectation,
    limits: Limits,
) -> Execution {
    execute_answered(client, req, expect, limits).await.0
}

/// [`execute_prepared`], also returning the answer's headers (empty when none arrived), which
/// a sequence reads its captures and next pages from.
pub(super) async fn execute_answered(
    client: &reqwest::Client,
    req: &Prepared,
    expect: &Expectation,
    limits: Limits,
) -> (Execution, reqwest::header::HeaderMap) {
    let started = Instant::now();
    let result = match req.browser() {
        None => {
            let exchange = exchange(client, req.request(), limits.body_cap);
            tokio::time::timeout(limits.timeout, exchange).await
        }
        Some(browser) => {
            let exchange = super::browser::exchange(client, req, browser, limits.body_cap);
            tokio::time::timeout(limits.timeout, exchange).await
        }
    };
    let latency = started.elapsed();
    let mut answer_headers = reqwest::header::HeaderMap::new();
    let exec = match result {
        Err(_) => Execution {
            outcome: RunOutcome::Timeout,
            status: None,
            latency,
            message: format!(
                "no complete answer within {} ms",
                limits.timeout.as_millis()
            ),
            excerpt: String::new(),
            body: Vec::new(),
            steps: Vec::new(),
        },
        Ok(Err(failure)) => Execution {
            outcome: failure.outcome,
            status: failure.status,
            latency,
            message: failure.message,
            excerpt: String::new(),
            body: Vec::new(),
            steps: Vec::new(),
        },
        Ok(Ok((status, headers, body))) => {
            answer_headers = headers;
            let verdict = expect.judge(status, &body, latency);
            Execution {
                outcome: verdict.outcome,
                status: Some(status),
                latency,
                excerpt: if verdict.outcome.passed() {
                    String::new()
                } else {
                    excerpt(&body)
                },
                message: verdict.message,
                body,
                steps: Vec::new(),
            }
        }
    };
    (exec, answer_headers)
}

/// Why an exchange ended without an answer to judge.
pub(super) struct Failure {
    /// Outcome class.
    pub(super) outcome: RunOutcome,
    /// HTTP status, when an answer arrived.
    pub(super) status: Option<u16>,
    /// What happened.
    pub(super) message: String,
}

/// Sends one request and reads the answer: status, headers and the (decoded) body up to `cap`.
pub(super) async fn exchange(
    client: &reqwest::Client,
    req: reqwest::Request,
    cap: usize,
) -> Result<(u16, reqwest::header::HeaderMap, Vec<u8>), Failure> {
    let mut resp = client.execute(req).await.map_err(|e| classify(&e, None))?;
    let status = resp.status().as_u16();
    let too_large = |status| Failure {
        outcome: RunOutcome::BodyTooLarge,
        status: Some(status),
        message: format!("HTTP {status}, body larger than {cap} bytes"),
    };
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_large(status));
    }
    let encoding = resp
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase());
    let expected = resp.content_length().unwrap_or(0).min(cap as u64) as usize;
    let headers = std::mem::take(resp.headers_mut());
    let mut body = Vec::with_capacity(expected);
    while let Some(chunk) = resp.chunk().await.map_err(|e| classify(&e, Some(status)))? {
        if body.len() + chunk.len() > cap {
            return Err(too_large(status));
        }
        body.extend_from_slice(&chunk);
    }
    let body = match encoding.as_deref() {
        Some("gzip") | Some("x-gzip") => decode(GzDecoder::new(&body[..]), cap, status)?,
        Some("deflate") => decode(ZlibDecoder::new(&body[..]), cap, status)?,
        // Browsers advertise br and zstd; a server may well answer in either.
        Some("br") => decode(
            brotli_decompressor::Decompressor::new(&body[..], 4096),
            cap,
            status,
        )?,
        Some("zstd") => match ruzstd::decoding::StreamingDecoder::new(&body[..]) {
            Ok(d) => decode(d, cap, status)?,
            Err(e) => {
                return Err(Failure {
                    outcome: RunOutcome::InvalidJson,
                    status: Some(status),
                    message: format!("HTTP {status}, body could not be decompressed: {e}"),
                })
            }
        },
        _ => body,
    };
    Ok((status, headers, body))
}

/// Inflates a compressed body, refusing to grow past the cap (a zip bomb costs nothing).
fn decode(reader: impl Read, cap: usize, status: u16) -> Result<Vec<u8>, Failure> {
    let mut out = Vec::new();
    match reader.take(cap as u64 + 1).read_to_end(&mut out) {
        Ok(n) if n > cap => Err(Failure {
            outcome: RunOutcome::BodyTooLarge,
            status: Some(status),
            message: format!("HTTP {status}, decoded body larger than {cap} bytes"),
        }),
        Ok(_) => Ok(out),
        Err(e) => Err(Failure {
            outcome: RunOutcome::InvalidJson,
            status: Some(status),
            message: format!("HTTP {status}, body could not be decompressed: {e}"),
        }),
    }
}

/// Maps a transport error to its class by walking the cause chain.
fn classify(e: &reqwest::Error, status: Option<u16>) -> Failure {
    let mut chain = Vec::new();
    let mut io_kind = None;
    let mut cur: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = cur {
        chain.push(err.to_string());
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            io_kind.get_or_insert(io.kind());
        }
        cur = err.source();
    }
    let text = chain.join(": ");
    let lower = text.to_ascii_lowercase();
    use std::io::ErrorKind as K;
    let outcome = if e.is_timeout() {
        RunOutcome::Timeout
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        RunOutcome::Dns
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("invalidcontenttype")
    {
        RunOutcome::Tls
    } else if matches!(
        io_kind,
        Some(K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof)
    ) || lower.contains("connection closed before message completed")
        || lower.contains("incomplete message")
        || lower.contains("connection reset")
    {
        RunOutcome::Reset
    } else if e.is_connect() {
        RunOutcome::Connect
    } else if e.is_body() || e.is_decode() {
        RunOutcome::Reset
    } else {
        RunOutcome::Connect
    };
    Failure {
        outcome,
        status,
        message: text,
    }
}

/// The first [`EXCERPT_BYTES`] of a body as text, cut on a character boundary.
fn excerpt(body: &[u8]) -> String {
    let head = &body[..body.len().min(EXCERPT_BYTES)];
    let text = String::from_utf8_lossy(head);
    let mut s = text.into_owned();
    while s.len() > EXCERPT_BYTES {
        s.pop();
    }
    s
}
