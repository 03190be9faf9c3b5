//! Publishing: rebuilds the snapshot and every pre-rendered body when the recorder or an admin
//! action says something changed (and every `REFRESH_EVERY` so uptime bars and relative times
//! move), and hands them to handlers through a watch channel: a request costs a clone of an
//! `Arc`, not a database query.

use super::encoded::Encoded;
use super::feeds;
use super::pages;
use super::snapshot::{delayed_since, Snapshot};
use super::statuspage::Bodies;
use crate::config::Config;
use crate::domain::Timestamp;
use crate::pipeline::{Health, Stage};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

/// Longest the published state lags the clock when nothing changes.
pub const REFRESH_EVERY: Duration = Duration::from_secs(30);

/// Everything public, rendered.
#[derive(Debug)]
pub struct Published {
    /// The data.
    pub snapshot: Snapshot,
    /// `/api/v2` bodies.
    pub api: Bodies,
    /// `/` as HTML.
    pub index_html: Encoded,
    /// `/history.atom`.
    pub atom: Encoded,
    /// `/history.rss`.
    pub rss: Encoded,
    /// Entity tag of this generation.
    pub etag: String,
}

impl Published {
    /// Builds and renders everything.
    pub async fn build(
        store: &Store,
        config: &Config,
        generation: u64,
        started_at: Timestamp,
    ) -> anyhow::Result<Published> {
        let snapshot =
            Snapshot::build(store, config, generation, started_at, Timestamp::now()).await?;
        let subscriptions = config.smtp.is_some();
        Ok(Published {
            api: Bodies::render(&snapshot),
            index_html: Encoded::new(pages::render_index(&snapshot, subscriptions)?),
            atom: Encoded::new(feeds::atom(&snapshot)?),
            rss: Encoded::new(feeds::rss(&snapshot)?),
            etag: format!("\"g{}-{}\"", generation, snapshot.built_at.as_millis()),
            snapshot,
        })
    }
}

/// Copies the snapshot's scope statuses and open incident count into the metrics.
pub fn export(metrics: &crate::metrics::Metrics, s: &Snapshot) {
    for c in &s.components {
        for r in &c.regions {
            metrics.set_scope(c.id.as_str(), r.id.as_str(), r.status);
        }
    }
    metrics.set_open_incidents(s.open.len());
}

/// How often the publisher wakes when nothing changed: to report progress, and to rebuild at
/// once when the page must start (or stop) saying its data is delayed.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);

/// Rebuilds on every `changed` notification, every [`REFRESH_EVERY`], and when data turns
/// delayed or fresh, until `cancel`; reports progress to `health` after each wake.
#[allow(clippy::too_many_arguments)]
pub async fn publish_loop(
    store: Store,
    config: Arc<Config>,
    started_at: Timestamp,
    changed: Arc<Notify>,
    metrics: Arc<crate::metrics::Metrics>,
    health: Arc<Health>,
    tx: watch::Sender<Arc<Published>>,
    cancel: CancellationToken,
) {
    let mut generation = tx.borrow().snapshot.generation;
    let mut last_build = tokio::time::Instant::now();
    loop {
        let mut rebuild = tokio::select! {
            _ = cancel.cancelled() => return,
            _ = changed.notified() => true,
            _ = tokio::time::sleep(CHECK_EVERY) => last_build.elapsed() >= REFRESH_EVERY,
        };
        let now = Timestamp::now();
        if !rebuild {
            let shown = tx.borrow().snapshot.data_delayed_since.is_some();
            rebuild = match newest_run(&store).await {
                Ok(newest) => {
                    let delayed = delayed_since(&config, newest, started_at, now);
                    delayed.is_some() != shown
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reading the newest run failed");
                    false
                }
            };
        }
        if rebuild {
            generation += 1;
            last_build = tokio::time::Instant::now();
            match Published::build(&store, &config, generation, started_at).await {
                Ok(p) => {
                    export(&metrics, &p.snapshot);
                    tx.send_replace(Arc::new(p));
                }
                Err(e) => {
                    let error = format!("{e:#}");
                    tracing::error!(error, "rebuilding the status page failed");
                    health.failing(Stage::Publisher, now, &error);
                    continue;
                }
            }
        }
        health.progress(Stage::Publisher, now);
    }
}

async fn newest_run(store: &Store) -> Result<Option<Timestamp>, crate::store::Error> {
    let mut conn = store.pool().acquire().await?;
    crate::store::runs::newest_run_at(&mut conn).await
}
