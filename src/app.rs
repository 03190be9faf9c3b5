//! The daemon: `App::build` takes the database lock, opens the store, binds the listener (port 0
//! allowed) and renders every job; `App::run` wires scheduler → runs → pipeline, the publisher,
//! the sender, the heartbeat and the web server, and supervises them: any of them ending before
//! shutdown was asked for ends the daemon with its cause (exit 1), never a quiet green page.
//!
//! Shutdown order: stop dispatching and serving (the server gets [`SERVER_GRACE`]), let
//! in-flight runs finish within [`SHUTDOWN_GRACE`], then close the pipeline's input so it stores
//! every run it holds and flushes the rollups.

use crate::config::Config;
use crate::domain::Timestamp;
use crate::incident::detector::Detector;
use crate::metrics::Metrics;
use crate::notify::sender::Sender;
use crate::pipeline::heartbeat::Heartbeater;
use crate::pipeline::{
    hand_over, hand_over_gate, GateBuffer, Health, Pipeline, PipelineOptions, RunBuffer, Stage,
};
use crate::schedule::jobs::{build_gate_jobs, build_jobs, run_job, Job};
use crate::schedule::scheduler::Scheduler;
use crate::store::{self, DatabaseLock, Store};
use crate::web::publish::{export, publish_loop, Published};
use crate::web::{self, AppState};
use anyhow::Context;
use futures::FutureExt;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long in-flight runs may take to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// How long open HTTP connections may take to finish after shutdown is asked for.
const SERVER_GRACE: Duration = Duration::from_secs(5);

/// A built daemon, ready to run.
pub struct App {
    config: Arc<Config>,
    store: Store,
    _lock: Option<DatabaseLock>,
    listener: TcpListener,
    jobs: Vec<Arc<Job>>,
    client: reqwest::Client,
}

/// What a supervised task ended with.
type Ended = (&'static str, anyhow::Result<()>);

impl App {
    /// Locks and opens the database, binds the listener and prepares every job. A database
    /// another daemon holds fails with [`store::LockError`] inside the error.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let lock = match store::database_path(&config.server.database)? {
            Some(path) => Some(DatabaseLock::acquire(&path).map_err(anyhow::Error::new)?),
            None => None,
        };
        let store = Store::open(&config.server.database)
            .await
            .with_context(|| format!("opening database {}", config.server.database))?;
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("binding {}", config.server.listen))?;
        let mut jobs = build_jobs(&config)?;
        jobs.extend(build_gate_jobs(&config)?);
        let jobs = jobs.into_iter().map(Arc::new).collect();
        let client = crate::probe::runner::http_client().context("building the HTTP client")?;
        Ok(App {
            config: Arc::new(config),
            store,
            _lock: lock,
            listener,
            jobs,
            client,
        })
    }

    /// The address the web server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| self.config.server.listen)
    }

    /// The store, for tests and tools.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// How many probe × region jobs run (the rollout gates' included).
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// Runs until `cancel` fires or a task fails; returns how many runs were stored, or the
    /// failed task's cause.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<u64> {
        let App {
            config,
            store,
            _lock,
            listener,
            jobs,
            client,
        } = self;
        let calendar = Arc::new(crate::maintenance::Calendar::new());
        let mut detector = Detector::new(&config).with_calendar(calendar.clone());
        {
            let mut conn = store.pool().acquire().await?;
            detector
                .load(&mut conn)
                .await
                .context("loading detection state")?;
            calendar
                .reload(&mut conn)
                .await
                .context("loading maintenance windows")?;
        }
        let changed = Arc::new(tokio::sync::Notify::new());
        let metrics = Arc::new(Metrics::new());
        let started_at = Timestamp::now();
        let health = Arc::new(Health::new(
            &stages(&config),
            jobs.iter().filter_map(|j| j.schedule.interval()).min(),
            started_at,
            metrics.clone(),
        ));
        let first = Published::build(&store, &config, 0, started_at)
            .await
            .context("building the status page")?;
        export(&metrics, &first.snapshot);
        let (published_tx, published) = tokio::sync::watch::channel(Arc::new(first));
        let buffer = Arc::new(RunBuffer::new(config.storage.buffer_runs));
        let gate_buffer = Arc::new(GateBuffer::new(config.storage.buffer_runs));
        let pipeline = Pipeline::new(
            &store,
            buffer.clone(),
            detector,
            PipelineOptions {
                retention: config.storage.retention,
                changed: changed.clone(),
                metrics: metrics.clone(),
                health: health.clone(),
            },
        )
        .await
        .context("opening the writer's connection")?
        .with_gates(gate_buffer.clone());

        let mut tasks: JoinSet<Ended> = JoinSet::new();
        let input_closed = CancellationToken::new();
        let stored = Arc::new(AtomicU64::new(0));
        {
            let (closed, stored) = (input_closed.clone(), stored.clone());
            tasks.spawn(async move {
                let r = pipeline.run(closed).await;
                let r = r.map(|n| stored.store(n, Ordering::Relaxed));
                ("pipeline", r.map_err(anyhow::Error::new))
            });
        }
        if let Some(smtp) = &config.smtp {
            let mail = crate::notify::MailContext::new(&config);
            let sender = Sender::new(store.clone(), smtp, mail, metrics.clone())
                .context("setting up the SMTP transport")?;
            let progress = sender.progress();
            let c = cancel.clone();
            tasks.spawn(async move { ("sender", sender.run(c).await.map_err(anyhow::Error::new)) });
            let (health, c) = (health.clone(), cancel.clone());
            tasks.spawn(async move {
                report_sender(progress, &health, c).await;
                ("sender health", Ok(()))
            });
        }
        if !config.alerts.channels.is_empty() {
            let ctx = crate::notify::MailContext::new(&config);
            let sender = crate::channels::ChannelSender::new(
                store.clone(),
                ctx,
                published.clone(),
                metrics.clone(),
            )
            .context("setting up the alert channels' HTTP client")?;
            let progress = sender.progress();
            let c = cancel.clone();
            tasks.spawn(async move {
                (
                    "channel sender",
                    sender.run(c).await.map_err(anyhow::Error::new),
                )
            });
            let (health, c) = (health.clone(), cancel.clone());
            tasks.spawn(async move {
                report_channels(progress, &health, c).await;
                ("channel sender health", Ok(()))
            });
        }
        {
            let clock = crate::maintenance::task::Clock {
                store: store.clone(),
                ctx: crate::notify::MailContext::from_config(&config),
                calendar: calendar.clone(),
                recurring: config.maintenance.clone(),
                changed: changed.clone(),
                health: health.clone(),
            };
            let c = cancel.clone();
            tasks.spawn(async move {
                (
                    "maintenance clock",
                    clock.run(c).await.map_err(anyhow::Error::new),
                )
            });
        }
        if let Some(hb) = &config.heartbeat {
            let beat = Heartbeater::new(hb.clone(), health.clone(), metrics.clone())
                .context("setting up the heartbeat client")?;
            let c = cancel.clone();
            tasks.spawn(async move {
                beat.run(c).await;
                ("heartbeat", Ok(()))
            });
        }
        {
            let publisher = publish_loop(
                store.clone(),
                config.clone(),
                started_at,
                changed.clone(),
                metrics.clone(),
                health.clone(),
                published_tx,
                cancel.clone(),
            );
            tasks.spawn(async move {
                publisher.await;
                ("publisher", Ok(()))
            });
        }
        let runs = TaskTracker::new();
        let panicked = CancellationToken::new();
        let abort_runs = CancellationToken::new();
        {
            let schedules = jobs.iter().map(|j| j.schedule.clone()).collect();
            let scheduler =
                Scheduler::new(schedules, tokio::time::Instant::now(), Timestamp::now());
            let (runs, abort, buffer, gate_buffer, metrics) = (
                runs.clone(),
                abort_runs.clone(),
                buffer.clone(),
                gate_buffer.clone(),
                metrics.clone(),
            );
            let (health, panicked) = (health.clone(), panicked.clone());
            let calendar = calendar.clone();
            let dispatch = move |due: crate::schedule::scheduler::Due| {
                let (job, client, abort) = (jobs[due.job].clone(), client.clone(), abort.clone());
                let (buffer, gate_buffer) = (buffer.clone(), gate_buffer.clone());
                let calendar = calendar.clone();
                let (metrics, panicked) = (metrics.clone(), panicked.clone());
                runs.spawn(async move {
                    let run = AssertUnwindSafe(run_job(&client, &job, due)).catch_unwind();
                    tokio::select! {
                        rec = run => match (rec, &job.gate) {
                            (Ok(run), Some(gate)) => {
                                let gate = gate.clone();
                                hand_over_gate(&gate_buffer, &metrics, crate::domain::GateRun { gate, run });
                            }
                            (Ok(mut rec), None) => {
                                // Gates see raw truth; the page's probes honour maintenance.
                                rec.in_maintenance = !calendar.is_empty()
                                    && calendar.covers(&rec.component, &rec.region, rec.started_at);
                                hand_over(&buffer, &metrics, rec)
                            }
                            // A bug, not a probe failure: it ends the daemon, loudly.
                            (Err(_), _) => panicked.cancel(),
                        },
                        _ = abort.cancelled() => {}
                    }
                });
            };
            let report = move |next: Option<Timestamp>| {
                health.scheduler_next_due(next, Timestamp::now());
            };
            let c = cancel.clone();
            tasks.spawn(async move {
                scheduler.run(c, dispatch, report).await;
                ("scheduler", Ok(()))
            });
        }
        {
            let state = AppState {
                store: store.clone(),
                config: config.clone(),
                published,
                changed: changed.clone(),
                metrics: metrics.clone(),
                health: health.clone(),
                mail: crate::notify::MailContext::from_config(&config),
                limits: Arc::new(web::subscribe::RateLimits::default()),
                calendar: calendar.clone(),
            };
            let served = serve_on_own_thread(listener, state, cancel.clone())?;
            tasks.spawn(async move {
                let result = served
                    .await
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("the web server's thread died")));
                ("web server", result)
            });
        }

        let mut failure: Option<anyhow::Error> = None;
        tokio::select! {
            biased;
            _ = cancel.cancelled() => {}
            _ = panicked.cancelled() => {
                failure = Some(anyhow::anyhow!("a probe run panicked (see the panic message above)"));
                cancel.cancel();
            }
            Some(joined) = tasks.join_next() => {
                let (name, result) = ended(joined);
                // A task that ends cleanly because shutdown began is no failure.
                if result.is_err() || !cancel.is_cancelled() {
                    let cause = result.err().unwrap_or_else(|| anyhow::anyhow!("ended unexpectedly"));
                    failure = Some(cause.context(format!("{name} stopped")));
                }
                cancel.cancel();
            }
        }
        if let Some(e) = &failure {
            tracing::error!(
                error = format!("{e:#}"),
                "a pipeline task failed; shutting down"
            );
        }
        runs.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, runs.wait())
            .await
            .is_err()
        {
            tracing::warn!("in-flight runs did not finish within the grace period; dropping them");
            abort_runs.cancel();
            runs.wait().await;
        }
        input_closed.cancel();
        while let Some(joined) = tasks.join_next().await {
            let (name, result) = ended(joined);
            if let Err(e) = result.map_err(|e| e.context(format!("{name} failed"))) {
                if failure.is_none() {
                    tracing::error!(error = format!("{e:#}"), "failed during shutdown");
                    failure = Some(e);
                }
            }
        }
        store.close().await;
        if let Some(e) = failure {
            return Err(e);
        }
        let stored = stored.load(Ordering::Relaxed);
        tracing::info!(stored, "shut down cleanly");
        Ok(stored)
    }
}

/// Copies each sender round into the `sender` stage: progress, and the mail still pending (a
/// mail server that is down is not mimic's failure: the stage stays ok and shows its queue).
async fn report_sender(
    mut progress: tokio::sync::watch::Receiver<crate::notify::sender::Progress>,
    health: &Health,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = progress.changed() => if changed.is_err() { return },
        }
        let p = *progress.borrow_and_update();
        let mut extra = serde_json::Map::new();
        let pending = p.round.pending + p.round.pending_events;
        extra.insert("pending".into(), pending.into());
        if let Some(t) = p.round.oldest_pending {
            extra.insert("oldest_pending".into(), t.to_rfc3339().into());
        }
        health.set_extra(Stage::Sender, extra);
        health.progress(Stage::Sender, p.at);
    }
}

/// Passes the channel sender's progress to `/healthz`.
async fn report_channels(
    mut progress: tokio::sync::watch::Receiver<crate::channels::sender::Progress>,
    health: &Health,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            changed = progress.changed() => if changed.is_err() { return },
        }
        let p = progress.borrow_and_update().clone();
        let mut extra = serde_json::Map::new();
        extra.insert("stopped".into(), p.stopped.into());
        health.set_extra(Stage::Channels, extra);
        health.progress(Stage::Channels, p.at);
    }
}

/// The stages this config runs (the sender only with `[smtp]`).
fn stages(config: &Config) -> Vec<Stage> {
    let mut s = vec![
        Stage::Scheduler,
        Stage::Writer,
        Stage::Detector,
        Stage::Rollups,
        Stage::Retention,
        Stage::Publisher,
    ];
    if config.smtp.is_some() {
        s.push(Stage::Sender);
    }
    if !config.alerts.channels.is_empty() {
        s.push(Stage::Channels);
    }
    s.push(Stage::Maintenance);
    s
}

/// Serves the web routes on a thread and runtime of their own, so a flood of page requests
/// competes with the probes for a core through the OS scheduler instead of delaying every
/// probe's timer on one shared runtime thread (the soak measured scheduler lateness p99 of
/// 50 ms under 50 connections on one thread). Resolves when serving ends.
fn serve_on_own_thread(
    listener: TcpListener,
    state: AppState,
    cancel: CancellationToken,
) -> anyhow::Result<tokio::sync::oneshot::Receiver<anyhow::Result<()>>> {
    let listener = listener.into_std().context("detaching the listener")?;
    let (done, served) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("mimic-web".into())
        .spawn(move || {
            let result = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("starting the web server's runtime")
                .and_then(|rt| {
                    rt.block_on(async move {
                        let listener =
                            TcpListener::from_std(listener).context("attaching the listener")?;
                        serve(listener, state, cancel).await
                    })
                });
            let _ = done.send(result);
        })
        .context("starting the web server's thread")?;
    Ok(served)
}

/// Serves until `cancel`, then gives open connections [`SERVER_GRACE`] to finish.
async fn serve(
    listener: TcpListener,
    state: AppState,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let server = axum::serve(
        listener,
        web::router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(cancel.clone().cancelled_owned());
    let deadline = async {
        cancel.cancelled().await;
        tokio::time::sleep(SERVER_GRACE).await;
    };
    tokio::select! {
        served = server => served.context("web server failed"),
        _ = deadline => {
            tracing::warn!("open connections did not finish within the grace period; closing them");
            Ok(())
        }
    }
}

/// A joined task's name and result, a panic counting as an error.
fn ended(joined: Result<Ended, tokio::task::JoinError>) -> Ended {
    match joined {
        Ok(ended) => ended,
        Err(e) if e.is_panic() => ("a task", Err(anyhow::anyhow!("panicked: {e}"))),
        Err(e) => ("a task", Err(anyhow::anyhow!("was cancelled: {e}"))),
    }
}
