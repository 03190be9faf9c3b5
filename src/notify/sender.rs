//! The sender: expands queued mail events into per-recipient mails ([`super::fanout`]), then
//! delivers the outbox through lettre's async SMTP transport (plain, STARTTLS or TLS and auth as
//! the `[smtp] url` says) over pooled connections, several mails at a time, the oldest first per
//! recipient. Each mail is marked sent in a small write moments after the server accepted it
//! (outcomes that arrive together share one), never at the end of a round, so a kill -9 resends
//! at most the [`CONCURRENCY`] mails in flight. Failures back off exponentially with jitter and give
//! up after [`MAX_ATTEMPTS`] (or at once on a permanent 5xx). A mail server that is down is never
//! the sender's failure; a store that keeps failing is (see [`Sender::run`]).

use super::{fanout, Error, MailContext};
use crate::config::SmtpUrl;
use crate::domain::Timestamp;
use crate::metrics::Metrics;
use crate::store::outbox::{self, QueuedMail};
use crate::store::{mail_events, Store};
use futures::StreamExt;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rand::Rng;
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Attempts before a mail is marked failed.
pub const MAX_ATTEMPTS: i64 = 12;
/// Mails in flight at once: also the most a kill -9 can make the next start send twice.
pub const CONCURRENCY: usize = 16;
/// Mails selected per round.
pub const ROUND_LIMIT: i64 = 256;
/// First retry delay; it doubles per attempt up to [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// Longest retry delay.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// How often an idle sender looks for due mail.
pub const POLL_EVERY: Duration = Duration::from_millis(250);
/// Rounds in a row that may fail on the store (waiting 1, 2, 4 … 64 s between them) before
/// [`Sender::run`] gives up with the cause.
pub const STORE_RETRIES: u32 = 7;

/// What one delivery attempt ended in: accepted, or an error and whether it is permanent.
type Delivery = Result<(), (String, bool)>;

/// What one round did, and what is left: the sender's progress for supervision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Round {
    /// Mail events expanded into outbox rows.
    pub expanded: usize,
    /// Mails handed to the server (accepted or not).
    pub attempted: usize,
    /// Mails the server accepted.
    pub sent: usize,
    /// Mails not yet accepted (waiting for a retry or for their turn).
    pub pending: i64,
    /// Updates not yet expanded into mails.
    pub pending_events: i64,
    /// When the oldest pending mail or event was queued; `None` when nothing waits.
    pub oldest_pending: Option<Timestamp>,
}

/// The last finished round and when it finished; the sender publishes it after every round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// When the round ended (or the sender was made, before the first round).
    pub at: Timestamp,
    /// What it found.
    pub round: Round,
}

/// Where mail goes: an SMTP server, or `.eml` files in a folder (`file://` URLs, for the demo).
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(AsyncFileTransport<Tokio1Executor>),
}

/// Expands mail events and delivers the outbox.
pub struct Sender {
    store: Store,
    transport: Transport,
    from: Mailbox,
    mail: MailContext,
    metrics: Arc<Metrics>,
    progress: watch::Sender<Progress>,
}

impl Sender {
    /// A sender for `[smtp]`, composing mail with `mail`.
    pub fn new(
        store: Store,
        smtp: &crate::config::Smtp,
        mail: MailContext,
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
                    // Reused connections: `send` returns at the server's 250, not after a QUIT
                    // round trip, so a mail is marked sent moments after it was accepted.
                    .pool_config(PoolConfig::new().max_size(CONCURRENCY as u32))
                    .build(),
            ),
        };
        let from = smtp.from.clone();
        let (progress, _) = watch::channel(Progress {
            at: Timestamp::now(),
            round: Round::default(),
        });
        Ok(Sender {
            store,
            transport,
            from,
            mail,
            metrics,
            progress,
        })
    }

    /// The sender's progress, updated after every round (for `/healthz`).
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.subscribe()
    }

    /// Sends what is due until `cancel`. A round that fails on the store is retried after 1, 2,
    /// 4 … 64 s; after [`STORE_RETRIES`] such waits in a row the sender ends with the cause.
    /// Mail the server refuses is retried per mail and never ends the sender.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), Error> {
        let mut failures = 0u32;
        loop {
            let wait = match self.dispatch_once().await {
                Ok(round) => {
                    failures = 0;
                    (round.attempted == 0 && round.expanded == 0).then_some(POLL_EVERY)
                }
                Err(e) if failures >= STORE_RETRIES => {
                    tracing::error!(error = %e, failures = failures + 1, "the outbox store keeps failing; the sender stops");
                    return Err(e);
                }
                Err(e) => {
                    let wait = Duration::from_secs(1 << failures);
                    failures += 1;
                    tracing::warn!(error = %e, failures, retry_in_s = wait.as_secs(), "outbox round failed");
                    Some(wait)
                }
            };
            match wait {
                Some(wait) => tokio::select! {
                    _ = cancel.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(wait) => {}
                },
                None if cancel.is_cancelled() => return Ok(()),
                None => {}
            }
        }
    }

    /// One round: expands pending mail events, selects due mail, delivers it concurrently and
    /// records each outcome as soon as it is known; then publishes what is left.
    pub async fn dispatch_once(&self) -> Result<Round, Error> {
        let expanded = fanout::expand_pending(&self.store, &self.mail).await?;
        let due = {
            let mut conn = self.store.pool().acquire().await?;
            outbox::select_due_mails(&mut conn, Timestamp::now(), ROUND_LIMIT).await?
        };
        let attempted = due.len();
        // Outcomes go to one writer that records whatever has arrived in one short transaction
        // and comes straight back for more: each mail is marked moments after the server took
        // it, and the in-flight deliveries do not queue on SQLite's lock one by one.
        let (done_tx, mut done_rx) = mpsc::unbounded_channel::<(QueuedMail, Delivery)>();
        let deliveries = async move {
            futures::stream::iter(due)
                .for_each_concurrent(CONCURRENCY, |m| {
                    let done_tx = done_tx.clone();
                    async move {
                        // The writer only goes away after a store error, which ends the round:
                        // then send nothing more that could not be recorded.
                        if done_tx.is_closed() {
                            return;
                        }
                        let delivery = self.deliver(&m).await;
                        let _ = done_tx.send((m, delivery));
                    }
                })
                .await;
        };
        let writer = async {
            let mut sent = 0;
            while let Some(first) = done_rx.recv().await {
                let mut batch = vec![first];
                while let Ok(more) = done_rx.try_recv() {
                    batch.push(more);
                }
                sent += self.record(&batch).await?;
            }
            Ok::<_, Error>(sent)
        };
        let ((), sent) = tokio::join!(deliveries, writer);
        let sent = sent?;
        let round = self.take_stock(expanded, attempted, sent).await?;
        self.progress.send_replace(Progress {
            at: Timestamp::now(),
            round,
        });
        Ok(round)
    }

    /// Writes the outcomes of deliveries that just ended, in one transaction; returns how many
    /// were sent.
    async fn record(&self, outcomes: &[(QueuedMail, Delivery)]) -> Result<usize, Error> {
        let mut tx = self.store.begin_write().await?;
        let mut sent = 0;
        for (m, delivery) in outcomes {
            match delivery {
                Ok(()) => {
                    outbox::mark_sent(&mut tx, m.id, Timestamp::now()).await?;
                    sent += 1;
                }
                Err((error, permanent)) => {
                    let attempts = m.attempts + 1;
                    let retry = (!permanent && attempts < MAX_ATTEMPTS).then(|| backoff(attempts));
                    tracing::warn!(to = %m.recipient, attempts, permanent, error = %error, "mail not delivered");
                    outbox::mark_attempt_failed(&mut tx, m.id, error, retry).await?;
                }
            }
        }
        tx.commit().await?;
        Ok(sent)
    }

    /// Counts what is left and updates the outbox metrics.
    async fn take_stock(
        &self,
        expanded: usize,
        attempted: usize,
        sent: usize,
    ) -> Result<Round, Error> {
        let mut conn = self.store.pool().acquire().await?;
        let (pending, failed, oldest_mail) = outbox::select_unsent_summary(&mut conn).await?;
        let (incident_events, oldest_incident_event) =
            mail_events::select_pending_summary(&mut conn).await?;
        let (maintenance_events, oldest_maintenance_event) =
            crate::store::maintenances::select_pending_summary(&mut conn).await?;
        let pending_events = incident_events + maintenance_events;
        let oldest_event = oldest_incident_event
            .into_iter()
            .chain(oldest_maintenance_event)
            .min();
        self.metrics.set_outbox(pending, failed);
        Ok(Round {
            expanded,
            attempted,
            sent,
            pending,
            pending_events,
            oldest_pending: oldest_mail.into_iter().chain(oldest_event).min(),
        })
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

/// When to retry after `attempts` failures: doubling from [`BASE_BACKOFF`], capped at
/// [`MAX_BACKOFF`], ±25 % (the channel sender uses it too).
pub(crate) fn backoff(attempts: i64) -> Timestamp {
    let exp = BASE_BACKOFF.as_millis() as f64 * 2f64.powi((attempts - 1).clamp(0, 20) as i32);
    let capped = exp.min(MAX_BACKOFF.as_millis() as f64);
    let jitter = rand::thread_rng().gen_range(0.75..1.25);
    Timestamp::from_millis(Timestamp::now().as_millis() + (capped * jitter) as i64)
}
