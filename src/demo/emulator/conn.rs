//! The accept loop and per-connection serving, including the stream wrapper
//! that turns a dropped connection into a TCP reset when a handler asks for one.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{router, State};

/// How long shutdown lets in-flight requests finish before cutting connections.
const GRACE: Duration = Duration::from_millis(200);

/// Lets a handler ask for its connection to be torn down with an RST.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnControl {
    reset_on_drop: Arc<AtomicBool>,
    reset: CancellationToken,
}

impl ConnControl {
    /// Marks the connection for an abortive close and wakes its task to drop it.
    pub(crate) fn reset(&self) {
        self.reset_on_drop.store(true, Ordering::SeqCst);
        self.reset.cancel();
    }
}

/// A `TcpStream` that sets `SO_LINGER` to zero on drop when its reset flag is set,
/// so the kernel answers with RST instead of an orderly FIN.
#[derive(Debug)]
pub(crate) struct ResettableStream {
    inner: TcpStream,
    reset_on_drop: Arc<AtomicBool>,
}

impl Drop for ResettableStream {
    fn drop(&mut self) {
        if self.reset_on_drop.load(Ordering::SeqCst) {
            if let Err(e) = self.inner.set_zero_linger() {
                tracing::debug!(error = %e, "emulator: could not arm connection reset");
            }
        }
    }
}

impl AsyncRead for ResettableStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ResettableStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Accepts connections until `shutdown` fires, then drains them within `GRACE`.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: CancellationToken,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve_connection(stream, state.clone(), shutdown.clone()));
                }
                Err(e) => {
                    // Usually fd exhaustion; back off instead of spinning on the error.
                    tracing::warn!(error = %e, "emulator: accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished connections so the set does not grow without bound.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE * 2, drain).await.is_err() {
        // Each connection gives up after GRACE on its own; this is only a backstop.
        conns.abort_all();
        while conns.join_next().await.is_some() {}
    }
}

/// Serves HTTP/1.1 on one connection until it closes, a handler resets it, or shutdown.
async fn serve_connection(stream: TcpStream, state: Arc<State>, shutdown: CancellationToken) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "emulator: set_nodelay failed");
    }
    let control = ConnControl::default();
    let io = TokioIo::new(ResettableStream {
        inner: stream,
        reset_on_drop: control.reset_on_drop.clone(),
    });
    let handler_control = control.clone();
    let service = service_fn(move |request| {
        let state = state.clone();
        let control = handler_control.clone();
        async move { Ok::<_, Infallible>(router::handle(state, control, request).await) }
    });
    let conn = http1::Builder::new().serve_connection(io, service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(error = %e, "emulator: connection ended with an error");
            }
        }
        // Returning drops `conn` and with it the stream, which now closes with RST.
        _ = control.reset.cancelled() => {}
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = control.reset.cancelled() => {}
                // Hanging requests never finish on their own; cut them off.
                _ = tokio::time::sleep(GRACE) => {}
            }
        }
    }
}
