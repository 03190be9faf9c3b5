//! The daemon: `App::build` opens the store, binds the listener (port 0 allowed) and renders
//! every job; `App::run` wires scheduler → runs → recorder and the web server until cancelled,
//! then lets in-flight runs finish (within a grace period) and flushes every stored run.

use crate::config::Config;
use crate::domain::Timestamp;
use crate::incident::service::Detector;
use crate::metrics::Metrics;
use crate::notify::sender::Sender;
use crate::schedule::jobs::{build_jobs, run_job, Job};
use crate::schedule::recorder::{spawn_recorder, RecorderOptions};
use crate::schedule::scheduler::Scheduler;
use crate::store::Store;
use crate::web::publish::{export, publish_loop, Published};
use crate::web::{self, AppState};
use anyhow::Context;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long in-flight runs may take to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A built daemon, ready to run.
pub struct App {
    config: Arc<Config>,
    store: Store,
    listener: TcpListener,
    jobs: Vec<Arc<Job>>,
    client: reqwest::Client,
}

impl App {
    /// Opens and migrates the database, binds the listener and prepares every job.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        let store = Store::open(&config.server.database)
            .await
            .with_context(|| format!("opening database {}", config.server.database))?;
        let listener = TcpListener::bind(config.server.listen)
            .await
            .with_context(|| format!("binding {}", config.server.listen))?;
        let jobs = build_jobs(&config)?.into_iter().map(Arc::new).collect();
        let client = crate::probe::runner::http_client().context("building the HTTP client")?;
        Ok(App {
            config: Arc::new(config),
            store,
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

    /// How many probe × region jobs run.
    pub fn job_count(&self) -> usize {
        self.jobs.len()
    }

    /// Runs until `cancel` fires; returns how many runs were stored.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<u64> {
        let App {
            config,
            store,
            listener,
            jobs,
            client,
        } = self;
        let mut detector = Detector::new(&config);
        {
            let mut conn = store.pool().acquire().await?;
            detector
                .load(&mut conn)
                .await
                .context("loading detection state")?;
        }
        let changed = Arc::new(tokio::sync::Notify::new());
        let metrics = Arc::new(Metrics::new());
        let started_at = Timestamp::now();
        let first = Published::build(&store, &config, 0, started_at)
            .await
            .context("building the status page")?;
        export(&metrics, &first.snapshot);
        let (published_tx, published) = tokio::sync::watch::channel(Arc::new(first));
        let (run_tx, recorder) = spawn_recorder(
            store.clone(),
            4096,
            detector,
            RecorderOptions {
                retention: config.storage.retention,
                changed: changed.clone(),
                metrics: metrics.clone(),
            },
        );
        let sender = match &config.smtp {
            Some(smtp) => {
                let mail = crate::notify::MailContext::new(&config);
                let sender = Sender::new(store.clone(), smtp, mail, metrics.clone())
                    .context("setting up the SMTP transport")?;
                Some(tokio::spawn(sender.run(cancel.clone())))
            }
            None => None,
        };
        let publisher = tokio::spawn(publish_loop(
            store.clone(),
            config.clone(),
            started_at,
            changed.clone(),
            metrics.clone(),
            published_tx,
            cancel.clone(),
        ));
        let runs = TaskTracker::new();
        let abort_runs = CancellationToken::new();
        let schedules = jobs.iter().map(|j| j.schedule.clone()).collect();
        let scheduler = Scheduler::new(
            schedules,
            tokio::time::Instant::now(),
            crate::domain::Timestamp::now(),
        );
        let sched_task = {
            let runs = runs.clone();
            let abort = abort_runs.clone();
            let tx = run_tx.clone();
            scheduler.run(cancel.clone(), move |due| {
                let (job, client, tx, abort) = (
                    jobs[due.job].clone(),
                    client.clone(),
                    tx.clone(),
                    abort.clone(),
                );
                runs.spawn(async move {
                    tokio::select! {
                        rec = run_job(&client, &job, due) => { let _ = tx.send(rec).await; }
                        _ = abort.cancelled() => {}
                    }
                });
            })
        };
        let server = axum::serve(
            listener,
            web::router(AppState {
                store: store.clone(),
                config: config.clone(),
                published,
                changed: changed.clone(),
                metrics: metrics.clone(),
                mail: crate::notify::MailContext::from_config(&config),
                limits: Arc::new(web::subscribe::RateLimits::default()),
            })
            .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(cancel.clone().cancelled_owned());
        let (_, served) = tokio::join!(sched_task, server);
        served.context("web server failed")?;
        runs.close();
        if tokio::time::timeout(SHUTDOWN_GRACE, runs.wait())
            .await
            .is_err()
        {
            tracing::warn!("in-flight runs did not finish within the grace period; dropping them");
            abort_runs.cancel();
            runs.wait().await;
        }
        drop(run_tx);
        let stored = recorder.await.context("recorder task")??;
        let _ = publisher.await;
        if let Some(sender) = sender {
            let _ = sender.await;
        }
        store.close().await;
        tracing::info!(stored, "shut down cleanly");
        Ok(stored)
    }
}
