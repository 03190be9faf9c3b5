//! The request log: a bounded record of what clients sent, so tests and the
//! `GET /__requests` endpoint can check exactly how an SDK spoke.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::{json, Value};

/// How many requests the log keeps; older ones fall off the front.
pub(crate) const MAX_REQUESTS: usize = 1000;
/// How much of each request body the log keeps.
pub(crate) const MAX_RECORDED_BODY: usize = 64 * 1024;

/// One request as the emulator received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The region from the path, if it named a configured region.
    pub region: Option<String>,
    /// The HTTP method, e.g. `POST`.
    pub method: String,
    /// Path plus `?query` exactly as received.
    pub target: String,
    /// Header names (lower-cased by the HTTP parser) and values, in received order.
    pub headers: Vec<(String, String)>,
    /// The request body, cut at 64 KiB.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// Whether this was a CORS preflight: `OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`.
    pub fn is_preflight(&self) -> bool {
        let has = |name: &str| {
            self.headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
        };
        self.method == "OPTIONS" && has("origin") && has("access-control-request-method")
    }

    /// The JSON form used by `GET /__requests`; the body is shown as lossy UTF-8.
    pub(crate) fn to_json(&self) -> Value {
        let headers: Vec<Value> = self
            .headers
            .iter()
            .map(|(name, value)| json!([name, value]))
            .collect();
        json!({
            "region": self.region,
            "method": self.method,
            "target": self.target,
            "headers": headers,
            "body": String::from_utf8_lossy(&self.body),
        })
    }
}

/// A bounded, thread-safe list of recorded requests, newest last.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<RecordedRequest>>,
    /// Every request other than a preflight received since start or the last clear, kept or not.
    total: std::sync::atomic::AtomicU64,
    /// Every CORS preflight received since start or the last clear.
    preflights: std::sync::atomic::AtomicU64,
}

impl RequestLog {
    /// Appends a request, truncating its body and dropping the oldest entry when full.
    pub(crate) fn push(&self, mut request: RecordedRequest) {
        request.body.truncate(MAX_RECORDED_BODY);
        let counter = if request.is_preflight() {
            &self.preflights
        } else {
            &self.total
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut entries = self.lock();
        while entries.len() >= MAX_REQUESTS {
            entries.pop_front();
        }
        entries.push_back(request);
    }

    /// A copy of every kept request, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<RecordedRequest> {
        self.lock().iter().cloned().collect()
    }

    /// Forgets every kept request.
    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.clear();
        self.total.store(0, std::sync::atomic::Ordering::Relaxed);
        self.preflights
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many requests other than preflights arrived since start or the last
    /// clear (more than are kept).
    pub(crate) fn total(&self) -> u64 {
        self.total.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many preflights arrived since start or the last clear.
    pub(crate) fn preflights(&self) -> u64 {
        self.preflights.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<RecordedRequest>> {
        // A panic while holding the lock cannot leave the deque half-updated in a way
        // that matters for a test log, so recover rather than poison every later call.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(n: usize, body_len: usize) -> RecordedRequest {
        RecordedRequest {
            region: None,
            method: "GET".into(),
            target: format!("/{n}"),
            headers: vec![],
            body: vec![b'x'; body_len],
        }
    }

    #[test]
    fn log_is_bounded_and_truncates_bodies() {
        let log = RequestLog::default();
        for n in 0..MAX_REQUESTS + 5 {
            log.push(request(n, 0));
        }
        let kept = log.snapshot();
        assert_eq!(kept.len(), MAX_REQUESTS);
        assert_eq!(log.total(), (MAX_REQUESTS + 5) as u64);
        assert_eq!(kept.first().map(|r| r.target.as_str()), Some("/5"));
        assert_eq!(
            kept.last().map(|r| r.target.clone()),
            Some(format!("/{}", MAX_REQUESTS + 4))
        );

        log.clear();
        log.push(request(0, MAX_RECORDED_BODY + 10));
        assert_eq!(
            log.snapshot().first().map(|r| r.body.len()),
            Some(MAX_RECORDED_BODY)
        );
    }
}
