//! The sender: delivers the outbox through lettre's async SMTP transport (plain, STARTTLS or
//! TLS and auth as the `[smtp] url` says), several mails at a time, the oldest first per
//! recipient. A mail is marked sent only after the server accepted it; failures back off
//! exponentially with jitter and give up after [`MAX_ATTEMPTS`] (or at once on a permanent 5xx).

use crate::config::SmtpUrl;
use crate::domain::Timestamp;
use crate::metrics::Metrics;
use crate::store::outbox::{self, QueuedMail};
use crate::store::Store;
use futures::StreamExt;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Attempts before a mail is marked failed.
pub const MAX_ATTEMPTS: i64 = 12;
/// Mails in flight at once.
pub const CONCURRENCY: usize = 16;
/// Mails claimed per round.
pub const CLAIM: i64 = 256;
/// First retry delay; it doubles per attempt up to [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// Longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often an idle sender looks for due mail.
pub const POLL_EVERY: Duration = Duration::from_millis(250);

/// What one delivery attempt ended in: accepted, or an error and whether it is permanent.
type Delivery = Result<(), (String, bool)>;

/// Where mail goes: an SMTP server, or `.eml` files in a folder (`file://` URLs, for the demo).
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Delivers the outbox.
pub struct Sender {
    store: Store,
    transport: Transport,
    from: Mailbox,
    metrics: Arc<Metrics>,
}

impl Sender {
    /// A sender for `[smtp]`.
    pub fn new(
        store: Store,
        smtp: &crate::config::Smtp,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<Sender> {
        let transport = match &smtp.url {
            SmtpUrl::Files(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("smtp.url: cannot create {}: {e}", dir.display())
                })?;
                Transport::Files(AsyncFileTransport::new(dir))
            }
            SmtpUrl::Server { url, .. } => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .map_err(|e| anyhow::anyhow!("smtp.url: {e}"))?
                    .timeout(Some(Duration::from_secs(15)))
                    .build(),
            ),
        };
        let from = smtp.from.clone();
        Ok(Sender {
            store,
            transport,
            from,
            metrics,
        })
    }

    /// Sends what is due until `cancel`.
    pub async fn run(self, cancel: CancellationToken) {
        loop {
            let sent = match self.dispatch_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "outbox round failed");
                    0
                }
            };
            if sent == 0 {
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(POLL_EVERY) => {}
                }
            } else if cancel.is_cancelled() {
                return;
            }
        }
    }

    /// One round: claims due mail, delivers it concurrently, records each outcome. Returns how
    /// many mails were attempted.
    pub async fn dispatch_once(&self) -> Result<usize, crate::store::Error> {
        let due = {
            let mut conn = self.store.pool().acquire().await?;
            let due = outbox::claim_due(&mut conn, Timestamp::now(), CLAIM).await?;
            let (pending, failed, _) = outbox::outbox_counts(&mut conn).await?;
            self.metrics.set_outbox(pending, failed);
            due
        };
        let n = due.len();
        let results: Vec<(QueuedMail, Delivery)> = futures::stream::iter(due)
            .map(|m| async move {
                let r = self.deliver(&m).await;
                (m, r)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut tx = self.store.begin_write().await?;
        for (m, r) in results {
            match r {
                Ok(()) => outbox::mark_sent(&mut tx, m.id, Timestamp::now()).await?,
                Err((error, permanent)) => {
                    let attempts = m.attempts + 1;
                    let retry = (!permanent && attempts < MAX_ATTEMPTS).then(|| backoff(attempts));
                    tracing::warn!(to = %m.recipient, attempts, permanent, error = %error, "mail not delivered");
                    outbox::mark_attempt_failed(&mut tx, m.id, &error, retry).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn deliver(&self, m: &QueuedMail) -> Delivery {
        let to: Mailbox = m
            .recipient
            .parse()
            .map_err(|e| (format!("bad recipient: {e}"), true))?;
        let mut b = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(m.subject.clone())
            .message_id(Some(format!("<{}>", m.message_id)));
        for (name, value) in &m.headers {
            let name = HeaderName::new_from_ascii(name.clone())
                .map_err(|e| (format!("bad header name: {e}"), true))?;
            b = b.raw_header(HeaderValue::new(name, value.clone()));
        }
        let msg = match &m.html {
            Some(html) => b.multipart(MultiPart::alternative_plain_html(
                m.text.clone(),
                html.clone(),
            )),
            None => b.header(ContentType::TEXT_PLAIN).body(m.text.clone()),
        }
        .map_err(|e| (format!("building the message: {e}"), true))?;
        match &self.transport {
            Transport::Smtp(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| (e.to_string(), e.is_permanent())),
            Transport::Files(t) => t
                .send(msg)
                .await
                .map(|_| ())
                .map_err(|e| (e.to_string(), false)),
        }
    }
}

/// When to retry after `attempts` failures: doubling from [`BASE_BACKOFF`], capped, ±25 %.
fn backoff(attempts: i64) -> Timestamp {
    let exp = BASE_BACKOFF.as_millis() as f64 * 2f64.powi((attempts - 1).clamp(0, 20) as i32);
    let capped = exp.min(MAX_BACKOFF.as_millis() as f64);
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    Timestamp::from_millis(Timestamp::now().as_millis() + (capped * jitter) as i64)
}
