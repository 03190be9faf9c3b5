//! Prometheus metrics (prometheus-client): runs and failures by probe, region and outcome,
//! latency and lateness histograms, scope status and open incidents. Updated by the recorder and
//! the publisher; encoded by `GET /metrics`.

use crate::domain::{ComponentStatus, RunRecord};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    probe: String,
    region: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PairLabels {
    probe: String,
    region: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLabels {
    component: String,
    region: String,
}

type HistogramFamily = Family<PairLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.005, 2.0, 12))
}

/// Every metric mimic exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    failures: Family<PairLabels, Counter>,
    latency: HistogramFamily,
    lateness: Histogram,
    scope_status: Family<ScopeLabels, Gauge>,
    open_incidents: Gauge,
    outbox: Family<OutboxLabels, Gauge>,
    stage_progress: StageGauge,
    runs_dropped: Family<ReasonLabels, Counter>,
    store_retries: Counter,
    heartbeats: Family<HeartbeatLabels, Counter>,
    shed: Counter,
    gate_answers: Family<GateLabels, Counter>,
    channel_deliveries: Family<ChannelOutcomeLabels, Counter>,
    channel_pending: Family<ChannelLabels, Gauge>,
    channel_stopped: Family<ChannelLabels, Gauge>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutboxLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HeartbeatLabels {
    kind: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelOutcomeLabels {
    channel: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChannelLabels {
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GateLabels {
    gate: String,
    caller: String,
    answer: String,
}

type StageGauge = Family<StageLabels, Gauge<f64, std::sync::atomic::AtomicU64>>;

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every metric at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("mimic");
        let runs = Family::<RunLabels, Counter>::default();
        let failures = Family::<PairLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let lateness = Histogram::new(exponential_buckets(0.0005, 2.0, 12));
        let scope_status = Family::<ScopeLabels, Gauge>::default();
        let open_incidents = Gauge::default();
        let outbox = Family::<OutboxLabels, Gauge>::default();
        registry.register(
            "outbox",
            "Mails waiting in the outbox (pending) or given up on (failed)",
            outbox.clone(),
        );
        registry.register("runs", "Probe runs stored, by outcome class", runs.clone());
        registry.register("failures", "Probe runs that failed", failures.clone());
        registry.register(
            "run_latency_seconds",
            "Request to end of body, per probe and region",
            latency.clone(),
        );
        registry.register(
            "scheduler_lateness_seconds",
            "How late runs started after their due time",
            lateness.clone(),
        );
        registry.register(
            "scope_status",
            "Component status per region: 0 operational, 1 degraded performance, 2 partial outage, 3 major outage, 4 under maintenance",
            scope_status.clone(),
        );
        registry.register(
            "open_incidents",
            "Incidents investigating, identified or monitoring",
            open_incidents.clone(),
        );
        let stage_progress = StageGauge::default();
        registry.register(
            "stage_last_progress_timestamp_seconds",
            "When each pipeline stage last made progress (Unix time)",
            stage_progress.clone(),
        );
        let runs_dropped = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "runs_dropped",
            "Finished runs never stored: buffer_full (the database stayed away past storage.buffer_runs) or shutdown",
            runs_dropped.clone(),
        );
        let store_retries = Counter::default();
        registry.register(
            "store_retries",
            "Pipeline store steps retried after a transient error (busy, locked, full)",
            store_retries.clone(),
        );
        let heartbeats = Family::<HeartbeatLabels, Counter>::default();
        registry.register(
            "heartbeats",
            "Heartbeat pings sent, by kind (alive, fail) and result (ok, error)",
            heartbeats.clone(),
        );
        let shed = Counter::default();
        registry.register(
            "http_shed",
            "Public requests refused with 503 because too many were in flight",
            shed.clone(),
        );
        let gate_answers = Family::<GateLabels, Counter>::default();
        registry.register(
            "gate_answers",
            "Rollout gate calls, by gate, caller (argo, flagger, flagger_rollback) and answer \
             (pass, fail, pending, no_data, unauthorized)",
            gate_answers.clone(),
        );
        let channel_deliveries = Family::<ChannelOutcomeLabels, Counter>::default();
        registry.register(
            "channel_deliveries",
            "Alert channel delivery attempts, by channel and outcome (sent, retry, failed, stopped)",
            channel_deliveries.clone(),
        );
        let channel_pending = Family::<ChannelLabels, Gauge>::default();
        registry.register(
            "channel_pending",
            "Alert channel deliveries waiting, by channel",
            channel_pending.clone(),
        );
        let channel_stopped = Family::<ChannelLabels, Gauge>::default();
        registry.register(
            "channel_stopped",
            "1 when an alert channel is stopped (its receiver answered that it is gone)",
            channel_stopped.clone(),
        );
        Metrics {
            channel_deliveries,
            channel_pending,
            channel_stopped,
            gate_answers,
            stage_progress,
            runs_dropped,
            store_retries,
            heartbeats,
            shed,
            registry,
            runs,
            failures,
            latency,
            lateness,
            scope_status,
            open_incidents,
            outbox,
        }
    }

    /// Counts a stored batch of runs.
    pub fn observe_runs(&self, runs: &[RunRecord]) {
        for r in runs {
            self.runs
                .get_or_create(&RunLabels {
                    probe: r.probe.to_string(),
                    region: r.region.to_string(),
                    outcome: r.outcome.as_str().to_owned(),
                })
                .inc();
            let pair = PairLabels {
                probe: r.probe.to_string(),
                region: r.region.to_string(),
            };
            if !r.outcome.passed() {
                self.failures.get_or_create(&pair).inc();
            }
            self.latency
                .get_or_create(&pair)
                .observe(r.latency_us as f64 / 1e6);
            self.lateness.observe(r.lateness_us as f64 / 1e6);
        }
    }

    /// Sets a scope's status gauge.
    pub fn set_scope(&self, component: &str, region: &str, status: ComponentStatus) {
        let v = match status {
            ComponentStatus::Operational => 0,
            ComponentStatus::DegradedPerformance => 1,
            ComponentStatus::PartialOutage => 2,
            ComponentStatus::MajorOutage => 3,
            ComponentStatus::UnderMaintenance => 4,
        };
        self.scope_status
            .get_or_create(&ScopeLabels {
                component: component.to_owned(),
                region: region.to_owned(),
            })
            .set(v);
    }

    /// Sets the open incident count.
    pub fn set_open_incidents(&self, n: usize) {
        self.open_incidents.set(n as i64);
    }

    /// Sets the outbox depth.
    pub fn set_outbox(&self, pending: i64, failed: i64) {
        for (status, n) in [("pending", pending), ("failed", failed)] {
            self.outbox
                .get_or_create(&OutboxLabels {
                    status: status.to_owned(),
                })
                .set(n);
        }
    }

    /// Records a stage's progress time.
    pub fn set_stage_progress(&self, stage: &str, at: crate::domain::Timestamp) {
        self.stage_progress
            .get_or_create(&StageLabels {
                stage: stage.to_owned(),
            })
            .set(at.as_millis() as f64 / 1000.0);
    }

    /// Counts runs dropped for `reason`.
    pub fn runs_dropped(&self, reason: &str, n: u64) {
        self.runs_dropped
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc_by(n);
    }

    /// Counts one retried store step.
    pub fn store_retry(&self) {
        self.store_retries.inc();
    }

    /// Counts a heartbeat ping of `kind` and whether it got through.
    pub fn heartbeat(&self, kind: &str, ok: bool) {
        self.heartbeats
            .get_or_create(&HeartbeatLabels {
                kind: kind.to_owned(),
                result: if ok { "ok" } else { "error" }.to_owned(),
            })
            .inc();
    }

    /// Counts a rollout gate call and what it was answered.
    pub fn gate_answer(&self, gate: &str, caller: &str, answer: &str) {
        self.gate_answers
            .get_or_create(&GateLabels {
                gate: gate.to_owned(),
                caller: caller.to_owned(),
                answer: answer.to_owned(),
            })
            .inc();
    }

    /// Counts a channel delivery attempt and what it ended in.
    pub fn channel_delivery(&self, channel: &str, outcome: &str) {
        self.channel_deliveries
            .get_or_create(&ChannelOutcomeLabels {
                channel: channel.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Sets a channel's pending deliveries and whether it is stopped.
    pub fn set_channel(&self, channel: &str, pending: i64, stopped: bool) {
        let l = ChannelLabels {
            channel: channel.to_owned(),
        };
        self.channel_pending.get_or_create(&l).set(pending);
        self.channel_stopped
            .get_or_create(&l)
            .set(i64::from(stopped));
    }

    /// Counts a public request shed under load.
    pub fn shed(&self) {
        self.shed.inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("encoding metrics failed");
        }
        out
    }
}
