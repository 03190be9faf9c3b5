//! mimic: synthetic probes that send exactly what each SDK sends, in every region, with
//! incident detection and a status page. Data flows one way:
//! schedule → probe → pipeline (store → detect → incident → notify); `web` reads the store.

/// The daemon's wiring: build, run, shut down.
pub mod app;
/// Alert channels: Slack, PagerDuty, Discord, Teams, signed webhooks.
pub mod channels;
/// Command-line parsing and dispatch.
pub mod cli;
/// The TOML configuration: load, expand, validate.
pub mod config;
/// The emulated Edge API and the demo.
pub mod demo;
/// Pure detection: probe health with hysteresis, scope status.
pub mod detect;
/// Ids, statuses, runs and time.
pub mod domain;
/// `mimic check`: run once, or compare two deployments.
pub mod gate;
/// Incidents: lifecycle, texts, the detector service and people's actions.
pub mod incident;
/// Planned maintenance windows and their clock.
pub mod maintenance;
/// Prometheus metrics.
pub mod metrics;
/// Mail: composing, queueing, delivering.
pub mod notify;
/// After the probes: the run buffer, the writer and the stages it drives, self-watch.
pub mod pipeline;
/// Shapes, rendering, sending, judging.
pub mod probe;
/// Rollout gates: verdicts on a candidate deployment for Argo Rollouts, Flagger and pipelines.
pub mod rollout;
/// Hourly and daily rollups of runs and scope status time, pure.
pub mod rollup;
/// When probes run, and running them.
pub mod schedule;
/// SQLite, the only place with SQL.
pub mod store;
/// Logging setup.
pub mod telemetry;
/// The HTTP surface.
pub mod web;
