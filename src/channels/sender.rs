//! The channel sender: one loop per configured channel, each sending that channel's deliveries
//! strictly oldest first at the kind's pace. A delivery is rendered when it is sent (from the
//! incident as of its update, and for `webhook` the published page), posted, and its outcome
//! written in a small transaction right after the answer: a kill -9 can repeat at most the one
//! delivery in flight per channel, which PagerDuty's `dedup_key` and the webhook's stable
//! `webhook-id` make harmless. A store that keeps failing ends the sender with the cause.

use super::deliver::{self, Outcome};
use super::message::Message;
use super::{discord, pagerduty, slack, teams, webhook};
use crate::config::{Channel, ChannelKind};
use crate::domain::{MailKind, Timestamp};
use crate::metrics::Metrics;
use crate::notify::MailContext;
use crate::store::channels::{self as store, QueuedDelivery};
use crate::store::outbox::{self, NewMail};
use crate::store::{incidents, maintenances, Store};
use crate::web::publish::Published;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How often an idle channel looks for a due delivery.
pub const POLL_EVERY: Duration = Duration::from_millis(500);
/// How often the pending counts and stopped channels are published (metrics, `/healthz`).
pub const REPORT_EVERY: Duration = Duration::from_secs(5);
/// A delivery still failing this long after it was queued is given up (the next one goes).
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);
/// Store failures in a row (waiting 1, 2, 4 … 64 s) before a channel's loop ends the sender.
pub const STORE_RETRIES: u32 = 7;

/// Why the channel sender failed.
pub type Error = crate::store::Error;

/// What the sender reports after each pass, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// When.
    pub at: Timestamp,
    /// Channel ids that are stopped.
    pub stopped: Vec<String>,
}

/// Delivers every channel's queue.
pub struct ChannelSender {
    shared: Arc<Shared>,
}

struct Shared {
    store: Store,
    ctx: MailContext,
    client: reqwest::Client,
    published: watch::Receiver<Arc<Published>>,
    metrics: Arc<Metrics>,
    progress: watch::Sender<Progress>,
}

impl ChannelSender {
    /// A sender for `ctx.channels`, rendering webhooks from the `published` page.
    pub fn new(
        store: Store,
        ctx: MailContext,
        published: watch::Receiver<Arc<Published>>,
        metrics: Arc<Metrics>,
    ) -> anyhow::Result<ChannelSender> {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "mimic/",
                env!("CARGO_PKG_VERSION"),
                " (alert channel)"
            ))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let (progress, _) = watch::channel(Progress {
            at: Timestamp::now(),
            stopped: Vec::new(),
        });
        Ok(ChannelSender {
            shared: Arc::new(Shared {
                store,
                ctx,
                client,
                published,
                metrics,
                progress,
            }),
        })
    }

    /// The sender's progress (for `/healthz`).
    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.shared.progress.subscribe()
    }

    /// Registers the channels (a changed URL or key lifts a stop), then sends until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> Result<(), Error> {
        let s = self.shared;
        {
            let mut tx = s.store.begin_write().await?;
            for c in s.ctx.channels.iter() {
                if store::register(&mut tx, &c.id, &c.fingerprint()).await? {
                    tracing::info!(channel = %c.id, "the channel's url or key changed: it is started again");
                }
            }
            tx.commit().await?;
        }
        let mut loops = JoinSet::new();
        for c in s.ctx.channels.iter() {
            let (c, s, cancel) = (c.clone(), s.clone(), cancel.clone());
            loops.spawn(async move { s.channel_loop(&c, cancel).await });
        }
        let mut tick = tokio::time::interval(REPORT_EVERY);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => break,
                Some(ended) = loops.join_next() => {
                    match ended {
                        Ok(Ok(())) if cancel.is_cancelled() => break,
                        Ok(Ok(())) => return Err(Error::Encode("a channel loop ended unexpectedly".into())),
                        Ok(Err(e)) => return Err(e),
                        Err(e) => return Err(Error::Encode(format!("a channel loop panicked: {e}"))),
                    }
                }
                _ = tick.tick() => s.report().await,
            }
        }
        while loops.join_next().await.is_some() {}
        Ok(())
    }
}

impl Shared {
    /// Publishes the stopped channels and the pending counts.
    async fn report(&self) {
        let mut stopped = Vec::new();
        if let Ok(mut conn) = self.store.pool().acquire().await {
            if let Ok(rows) = store::pending_by_channel(&mut conn).await {
                for (id, pending, is_stopped) in rows {
                    if !self.ctx.channels.iter().any(|c| c.id == id) {
                        continue;
                    }
                    self.metrics.set_channel(&id, pending, is_stopped);
                    if is_stopped {
                        stopped.push(id);
                    }
                }
            }
        }
        self.progress.send_replace(Progress {
            at: Timestamp::now(),
            stopped,
        });
    }

    /// Sends channel `c`'s deliveries in order until `cancel`.
    async fn channel_loop(&self, c: &Channel, cancel: CancellationToken) -> Result<(), Error> {
        let mut failures = 0u32;
        let mut not_before = tokio::time::Instant::now();
        loop {
            let wait = match self.step(c).await {
                Ok(Some(paced)) => {
                    failures = 0;
                    not_before = tokio::time::Instant::now() + c.kind.pace();
                    paced
                }
                Ok(None) => {
                    failures = 0;
                    POLL_EVERY
                }
                Err(e) if failures >= STORE_RETRIES => {
                    tracing::error!(channel = %c.id, error = %e, "the channel store keeps failing; the channel sender stops");
                    return Err(e);
                }
                Err(e) => {
                    let wait = Duration::from_secs(1 << failures);
                    failures += 1;
                    tracing::warn!(channel = %c.id, error = %e, failures, "channel round failed");
                    wait
                }
            };
            let until = (tokio::time::Instant::now() + wait).max(not_before);
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = tokio::time::sleep_until(until) => {}
            }
        }
    }

    /// Sends `c`'s oldest pending delivery if it is due: `Some(wait)` after an attempt (how long
    /// until the next look), `None` when nothing was due.
    async fn step(&self, c: &Channel) -> Result<Option<Duration>, Error> {
        let head = {
            let mut conn = self.store.pool().acquire().await?;
            store::select_head(&mut conn, &c.id).await?
        };
        let Some(d) = head else { return Ok(None) };
        let now = Timestamp::now();
        if d.next_attempt_at > now {
            let wait = d
                .next_attempt_at
                .millis_since(now)
                .clamp(0, POLL_EVERY.as_millis() as i64);
            return Ok(Some(Duration::from_millis(wait as u64)));
        }
        let outcome = match self.render(c, &d).await? {
            Some((headers, body)) => {
                deliver::post(
                    &self.client,
                    c.kind,
                    c.url.expose_secret(),
                    headers,
                    body,
                    c.timeout,
                )
                .await
            }
            None => Outcome::GiveUp("the incident or update is gone".into()),
        };
        self.record(c, &d, &outcome).await?;
        Ok(Some(Duration::ZERO))
    }

    /// The request headers and body of `d`, or `None` when what it tells is gone.
    async fn render(
        &self,
        c: &Channel,
        d: &QueuedDelivery,
    ) -> Result<Option<(HeaderMap, Vec<u8>)>, Error> {
        let now = Timestamp::now();
        let snapshot = self.published.borrow().clone();
        let s = &snapshot.snapshot;
        let page_id = crate::web::statuspage::page_id(s);
        let mut maintenance = None;
        let (msg, found) = if d.event == "test" {
            (Message::test(&self.ctx, &c.id, d.created_at), None)
        } else if d.event == "maintenance" {
            let Some(update_id) = d.maintenance_update_id else {
                return Ok(None);
            };
            let m = {
                let mut conn = self.store.pool().acquire().await?;
                match maintenances::maintenance_of_update(&mut conn, update_id).await? {
                    Some(id) => maintenances::get_maintenance(&mut conn, id).await?,
                    None => None,
                }
            };
            let Some(m) = m else { return Ok(None) };
            let Some(update) = m.updates.iter().find(|u| u.id == update_id).cloned() else {
                return Ok(None);
            };
            let msg = Message::for_maintenance(&self.ctx, &m, &update);
            maintenance = Some((m, update_id));
            (msg, None)
        } else {
            let (Some(incident), Some(update_id)) = (d.incident_id, d.update_id) else {
                return Ok(None);
            };
            let inc = {
                let mut conn = self.store.pool().acquire().await?;
                incidents::get_incident(&mut conn, crate::domain::IncidentId(incident)).await?
            };
            let Some(inc) = inc else { return Ok(None) };
            let Some(update) = inc.updates.iter().find(|u| u.id == update_id).cloned() else {
                return Ok(None);
            };
            (
                Message::for_update(&self.ctx, &inc, &update),
                Some((inc, update_id)),
            )
        };
        let mut headers = HeaderMap::new();
        let body = match c.kind {
            ChannelKind::Slack => slack::body(&msg),
            ChannelKind::Discord => discord::body(&msg),
            ChannelKind::Teams => teams::body(&msg),
            ChannelKind::PagerDuty => {
                let key = match &found {
                    Some((inc, _)) => pagerduty::dedup_key(&page_id, inc.id.0),
                    None => format!("mimic/{page_id}/test/{}", d.created_at.as_millis()),
                };
                let routing = c.routing_key.as_ref().map_or("", |k| k.expose_secret());
                let source = url::Url::parse(&self.ctx.public_url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_owned))
                    .unwrap_or_else(|| self.ctx.page_title.clone());
                pagerduty::body(&msg, &d.action, &key, routing, &source)
            }
            ChannelKind::Webhook => match (&found, &maintenance) {
                (Some((inc, update_id)), _) => webhook::incident_body(s, inc, *update_id, now),
                (None, Some((m, update_id))) => webhook::maintenance_body(s, m, *update_id, now),
                (None, None) => webhook::test_body(s, &c.id, now),
            },
        };
        let body = serde_json::to_vec(&body).map_err(|e| Error::Encode(e.to_string()))?;
        if let (ChannelKind::Webhook, Some(secret)) = (c.kind, &c.secret) {
            let id = webhook::message_id(&page_id, d.id);
            let ts = now.as_millis() / 1000;
            let sig =
                webhook::sign(secret.expose_secret(), &id, ts, &body).map_err(Error::Encode)?;
            for (name, value) in [
                (standardwebhooks::HEADER_WEBHOOK_ID, id),
                (standardwebhooks::HEADER_WEBHOOK_TIMESTAMP, ts.to_string()),
                (standardwebhooks::HEADER_WEBHOOK_SIGNATURE, sig),
            ] {
                let value =
                    HeaderValue::from_str(&value).map_err(|e| Error::Encode(e.to_string()))?;
                headers.insert(HeaderName::from_static(name), value);
            }
        }
        Ok(Some((headers, body)))
    }

    /// Writes what an attempt ended in.
    async fn record(
        &self,
        c: &Channel,
        d: &QueuedDelivery,
        outcome: &Outcome,
    ) -> Result<(), Error> {
        let now = Timestamp::now();
        let mut tx = self.store.begin_write().await?;
        let label = match outcome {
            Outcome::Sent => {
                store::mark_sent(&mut tx, d, now).await?;
                "sent"
            }
            Outcome::Retry { error, after } => {
                let aged = now.millis_since(d.created_at) >= GIVE_UP_AFTER.as_millis() as i64;
                let retry = (!aged).then(|| match after {
                    Some(a) => Timestamp::from_millis(now.as_millis() + a.as_millis() as i64),
                    None => crate::notify::sender::backoff(d.attempts + 1),
                });
                tracing::warn!(channel = %c.id, delivery = d.id, attempts = d.attempts + 1, error = %error, "channel delivery not accepted");
                store::mark_attempt_failed(&mut tx, d, error, retry, now).await?;
                if aged {
                    "failed"
                } else {
                    "retry"
                }
            }
            Outcome::GiveUp(error) => {
                tracing::warn!(channel = %c.id, delivery = d.id, error = %error, "channel delivery refused; giving up on it");
                store::mark_attempt_failed(&mut tx, d, error, None, now).await?;
                "failed"
            }
            Outcome::Stop(error) => {
                // The delivery stays pending: it goes first when the channel is started again.
                store::mark_attempt_failed(&mut tx, d, error, Some(now), now).await?;
                if store::stop(&mut tx, &c.id, error, now).await? {
                    tracing::error!(channel = %c.id, host = %c.host(), error = %error, "the channel is gone; it is stopped and on-call is told");
                    outbox::insert_mails(&mut tx, &self.stopped_mails(c, error, now), now).await?;
                }
                "stopped"
            }
        };
        tx.commit().await?;
        self.metrics.channel_delivery(&c.id, label);
        Ok(())
    }

    /// The on-call mails saying channel `c` stopped (none without `[smtp]`).
    fn stopped_mails(&self, c: &Channel, error: &str, now: Timestamp) -> Vec<NewMail> {
        if !self.ctx.sends_mail {
            return Vec::new();
        }
        let text = format!(
            "The alert channel {id} ({kind}, {host}) answered {error}.\n\n\
             mimic stopped sending to it: its deliveries wait in the outbox and nothing is lost.\n\
             Fix or replace the {kind} URL in [[alerts.channel]] and restart, or resume it with\n\
             POST {url}/api/admin/channels/{id}/resume once the receiver is back.\n\n\
             State: GET {url}/api/admin/channels\n\n-- {page}\n",
            id = c.id,
            kind = c.kind.as_str(),
            host = c.host(),
            url = self.ctx.public_url,
            page = self.ctx.page_title,
        );
        self.ctx
            .on_call
            .iter()
            .map(|to| {
                let key = format!("channel-stopped:{}:{}:{}", c.id, now.as_millis(), to);
                NewMail {
                    message_id: self.ctx.message_id(&key),
                    dedupe_key: key,
                    kind: MailKind::Alert,
                    recipient: to.to_string(),
                    subject: format!("[Alert channel stopped] {} ({})", c.id, c.kind.as_str()),
                    text: text.clone(),
                    html: None,
                    headers: Vec::new(),
                }
            })
            .collect()
    }
}
