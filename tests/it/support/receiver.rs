//! Loopback receivers for the alert channels: one HTTP server on port 0 that takes every vendor's
//! path (`/slack`, `/pagerduty`, `/discord`, `/teams`, `/webhook`), answers with that vendor's
//! success code unless the story scripted other answers (429 with `Retry-After`, 500, 410, a slow
//! reply), and records every request with the answer it got.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// `Retry-After`, if any.
    pub retry_after: Option<String>,
    /// Wait this long before answering.
    pub delay: Duration,
}

impl Reply {
    /// `status` at once.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            retry_after: None,
            delay: Duration::ZERO,
        }
    }

    /// 429 with `Retry-After: secs`.
    pub fn too_many(secs: &str) -> Reply {
        Reply {
            status: 429,
            retry_after: Some(secs.into()),
            delay: Duration::ZERO,
        }
    }

    /// The vendor's success, after `delay`.
    pub fn slow(delay: Duration) -> Reply {
        Reply {
            status: 0,
            retry_after: None,
            delay,
        }
    }
}

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// `slack`, `pagerduty`, …
    pub path: String,
    /// Request headers.
    pub headers: HashMap<String, String>,
    /// Raw body.
    pub body: Vec<u8>,
    /// What it was answered.
    pub answered: u16,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// Whether the answer was the vendor's success.
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.answered)
    }
}

#[derive(Default)]
struct Inner {
    script: HashMap<String, VecDeque<Reply>>,
    forever: HashMap<String, u16>,
    got: Vec<Received>,
}

/// The running receiver.
#[derive(Clone)]
pub struct Receiver {
    /// Where it listens.
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

fn success(path: &str) -> (u16, &'static str) {
    match path {
        "slack" => (200, "ok"),
        "pagerduty" => (202, r#"{"status":"success","message":"Event processed"}"#),
        "discord" => (204, ""),
        "teams" => (202, ""),
        _ => (200, ""),
    }
}

async fn take(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut g = inner.lock().unwrap_or_else(|p| p.into_inner());
        match g.forever.get(&path) {
            Some(&s) => Some(Reply::status(s)),
            None => g.script.get_mut(&path).and_then(VecDeque::pop_front),
        }
    };
    let reply = reply.unwrap_or(Reply::status(0));
    let at = Instant::now();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let (ok, ok_body) = success(&path);
    let status = if reply.status == 0 { ok } else { reply.status };
    let headers = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    inner
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .got
        .push(Received {
            path: path.clone(),
            headers,
            body: body.to_vec(),
            answered: status,
            at,
        });
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = if status == ok {
        ok_body.to_owned()
    } else {
        format!("scripted {status}")
    };
    match reply.retry_after {
        Some(r) => (code, [("retry-after", r)], text).into_response(),
        None => (code, text).into_response(),
    }
}

impl Receiver {
    /// Starts a receiver on 127.0.0.1, port 0.
    pub async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/{path}", post(take))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind: {e}"));
        let addr = listener.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver { addr, inner }
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    /// Answers the next requests to `path` with `replies`, in order.
    pub fn script(&self, path: &str, replies: impl IntoIterator<Item = Reply>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.script.entry(path.to_owned()).or_default().extend(replies);
    }

    /// Answers every request to `path` with `status` until [`Receiver::recover`].
    pub fn fail_with(&self, path: &str, status: u16) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.forever.insert(path.to_owned(), status);
    }

    /// Stops the standing failure of `path`.
    pub fn recover(&self, path: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.forever.remove(path);
    }

    /// Every request to `path` so far.
    pub fn got(&self, path: &str) -> Vec<Received> {
        let g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.got.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// The requests to `path` it accepted.
    pub fn accepted(&self, path: &str) -> Vec<Received> {
        self.got(path)
            .into_iter()
            .filter(Received::accepted)
            .collect()
    }

    /// Waits until `check` holds for the accepted requests of `path`.
    pub async fn wait_for(
        &self,
        path: &str,
        what: &str,
        within: Duration,
        check: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let got = self.accepted(path);
            if check(&got) {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} at /{path}; got {:#?}",
                self.got(path)
                    .iter()
                    .map(|r| (r.answered, r.json()))
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Runs `tests/channel_validators.py` (the vendors' own validators) over `requests` of `kind`;
/// panics with its output when one refuses. `secret` verifies webhook signatures.
pub fn validate_with_vendor_libraries(kind: &str, requests: &[Received], secret: &str) {
    let items: Vec<Value> = requests
        .iter()
        .map(|r| {
            serde_json::json!({
                "headers": r.headers,
                "body": String::from_utf8_lossy(&r.body),
            })
        })
        .collect();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("requests.json");
    std::fs::write(&file, serde_json::to_vec(&items).unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}"));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/channel_validators.py");
    let out = std::process::Command::new("python3")
        .args([script, kind, &file.to_string_lossy(), secret])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(
        out.status.success(),
        "the {kind} validators refused a delivery:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
