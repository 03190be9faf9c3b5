//! Response bodies: the boxed body type every handler returns, JSON helpers,
//! and the streamed filler body behind the `large_body` fault.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Frame, SizeHint};
use serde_json::Value;

/// The body type of every emulator response.
pub(crate) type EmuBody = BoxBody<Bytes, Infallible>;

/// A JSON response with the given status.
pub(crate) fn json(status: StatusCode, value: &Value) -> Response<EmuBody> {
    // Serialising a `Value` cannot fail (all keys are strings), so an empty body is
    // only a theoretical fallback.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)).boxed());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A `{"detail": message}` response, the shape Flagsmith uses for most errors.
pub(crate) fn detail(status: StatusCode, message: &str) -> Response<EmuBody> {
    json(status, &serde_json::json!({ "detail": message }))
}

/// A 200 `application/json` response whose body is exactly `len` bytes, streamed.
pub(crate) fn large(len: u64) -> Response<EmuBody> {
    let mut response = Response::new(FillerBody::new(len).boxed());
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The size of each streamed frame; small enough to keep memory flat.
const CHUNK: usize = 64 * 1024;
/// One array element of filler; repeated to make up the body.
const FILLER_ITEM: &[u8] = br#"{"id":0,"feature":{"name":"filler"},"enabled":true},"#;

/// The filler repeated to at least `CHUNK + FILLER_ITEM.len()` bytes, built once and
/// then sliced without copying for every frame of every response.
fn pattern() -> &'static Bytes {
    static PATTERN: OnceLock<Bytes> = OnceLock::new();
    PATTERN.get_or_init(|| {
        let copies = CHUNK / FILLER_ITEM.len() + 2;
        Bytes::from(FILLER_ITEM.repeat(copies))
    })
}

/// `[` + repeated filler + `]`, exactly `total` bytes, generated frame by frame.
#[derive(Debug)]
pub(crate) struct FillerBody {
    total: u64,
    sent: u64,
}

impl FillerBody {
    /// A body of exactly `total` bytes.
    pub(crate) fn new(total: u64) -> Self {
        Self { total, sent: 0 }
    }

    fn next_frame(&mut self) -> Option<Bytes> {
        let remaining = self.total - self.sent;
        if remaining == 0 {
            return None;
        }
        let frame = if self.sent == 0 {
            Bytes::from_static(b"[")
        } else if remaining == 1 {
            Bytes::from_static(b"]")
        } else {
            // Leave the final byte for the closing bracket.
            let len = usize::try_from(remaining - 1).map_or(CHUNK, |r| r.min(CHUNK));
            let item_len = FILLER_ITEM.len() as u64;
            // Position within the repeating filler, so frames join seamlessly.
            let offset = usize::try_from((self.sent - 1) % item_len).unwrap_or(0);
            pattern().slice(offset..offset + len)
        };
        self.sent += frame.len() as u64;
        Some(frame)
    }
}

impl Body for FillerBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().next_frame().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent == self.total
    }

    fn size_hint(&self) -> SizeHint {
        // An exact hint makes hyper send Content-Length instead of chunked encoding.
        SizeHint::with_exact(self.total - self.sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn collect(len: u64) -> Vec<u8> {
        match FillerBody::new(len).collect().await {
            Ok(collected) => collected.to_bytes().to_vec(),
            Err(never) => match never {},
        }
    }

    #[tokio::test]
    async fn filler_is_exactly_the_requested_size() {
        assert_eq!(collect(0).await, b"");
        assert_eq!(collect(1).await, b"[");
        assert_eq!(collect(2).await, b"[]");
        for len in [
            3,
            100,
            CHUNK as u64,
            CHUNK as u64 + 1,
            3 * CHUNK as u64 + 17,
        ] {
            let body = collect(len).await;
            assert_eq!(body.len() as u64, len);
            assert_eq!(body.first(), Some(&b'['));
            assert_eq!(body.last(), Some(&b']'));
        }
    }

    #[tokio::test]
    async fn filler_frames_join_into_repeated_items() {
        let body = collect(2 * CHUNK as u64 + 2).await;
        let inner = &body[1..body.len() - 1];
        let expected: Vec<u8> = FILLER_ITEM
            .iter()
            .copied()
            .cycle()
            .take(inner.len())
            .collect();
        assert_eq!(inner, expected.as_slice());
    }
}
