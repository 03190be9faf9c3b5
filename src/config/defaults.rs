//! Every default value in one place, so the example config and the code cannot disagree.

use std::time::Duration;

/// `server.listen`
pub const LISTEN: &str = "127.0.0.1:8080";
/// `server.public_url`
pub const PUBLIC_URL: &str = "http://127.0.0.1:8080";
/// `server.database`
pub const DATABASE: &str = "sqlite://mimic.db";
/// `page.title`
pub const PAGE_TITLE: &str = "Status";
/// `probe.timeout`
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// `probe.body_cap`
pub const BODY_CAP: u64 = 1024 * 1024;
/// `detect.failures_to_open`
pub const FAILURES_TO_OPEN: u32 = 3;
/// `detect.successes_to_recover`
pub const SUCCESSES_TO_RECOVER: u32 = 3;
/// `detect.resolve_after_quiet`
pub const RESOLVE_AFTER_QUIET: Duration = Duration::from_secs(600);
/// `detect.confirm_retries`
pub const CONFIRM_RETRIES: u32 = 1;
/// `detect.confirm_retries`: the most accepted (each retry holds a probe slot for a delay).
pub const CONFIRM_RETRIES_MAX: u32 = 5;
/// `detect.confirm_delay`
pub const CONFIRM_DELAY: Duration = Duration::from_millis(250);
/// `detect.publish_after`: 0 s publishes a detector's incident as it opens.
pub const PUBLISH_AFTER: Duration = Duration::ZERO;
/// `detect.relapse_calm`
pub const RELAPSE_CALM: Duration = Duration::from_secs(5 * 60);
/// `storage.retention`
pub const RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);

/// A bound on a duration key, with the spelling errors and the README use.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// The bound.
    pub value: Duration,
    /// How it is written, e.g. `7d`.
    pub text: &'static str,
}

/// The smallest and largest value a duration key accepts.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// Smallest accepted value.
    pub min: Limit,
    /// Largest accepted value.
    pub max: Limit,
}

const fn limit(value: Duration, text: &'static str) -> Limit {
    Limit { value, text }
}

const DAY: u64 = 24 * 3600;
const ZERO: Limit = limit(Duration::ZERO, "0s");

/// `probe.every`, and the longest wait between two runs of a `probe.cron`: tests use short
/// intervals (production rarely goes below 10s); a probe that runs less than weekly does not
/// watch anything, and the bound keeps the scheduler's time arithmetic far from overflow.
pub const EVERY_RANGE: Range = Range {
    min: limit(Duration::from_millis(20), "20ms"),
    max: limit(Duration::from_secs(7 * DAY), "7d"),
};
/// `probe.timeout`: more than zero, and no single request is waited on for longer than 5 minutes.
pub const TIMEOUT_RANGE: Range = Range {
    min: limit(Duration::from_millis(1), "1ms"),
    max: limit(Duration::from_secs(300), "5m"),
};
/// `probe.expect.degraded_after`: slower than the longest timeout cannot be told apart.
pub const DEGRADED_AFTER_RANGE: Range = Range {
    min: ZERO,
    max: limit(Duration::from_secs(300), "5m"),
};
/// `detect.resolve_after_quiet` (`0s` = never).
pub const RESOLVE_AFTER_QUIET_RANGE: Range = Range {
    min: ZERO,
    max: limit(Duration::from_secs(30 * DAY), "30d"),
};
/// `detect.confirm_delay`: a retry later than 10 s is the next run, not a confirmation.
pub const CONFIRM_DELAY_RANGE: Range = Range {
    min: ZERO,
    max: limit(Duration::from_secs(10), "10s"),
};
/// `alerts.channel.timeout`: a receiver slower than 30 s is down (Statuspage's own limit).
pub const CHANNEL_TIMEOUT_RANGE: Range = Range {
    min: limit(Duration::from_millis(100), "100ms"),
    max: limit(Duration::from_secs(30), "30s"),
};
/// `detect.publish_after`: a failure an hour long is public whatever the policy says.
pub const PUBLISH_AFTER_RANGE: Range = Range {
    min: ZERO,
    max: limit(Duration::from_secs(3600), "1h"),
};
/// `detect.relapse_calm`: doubled per relapse up to an hour, so more than an hour means nothing.
pub const RELAPSE_CALM_RANGE: Range = Range {
    min: ZERO,
    max: limit(Duration::from_secs(3600), "1h"),
};
/// `storage.retention`: at least an hour of raw runs for detection and the admin API, at most
/// ten years (times are millisecond integers; the bound keeps cutoffs far from wrapping).
pub const RETENTION_RANGE: Range = Range {
    min: limit(Duration::from_secs(3600), "1h"),
    max: limit(Duration::from_secs(3650 * DAY), "3650d"),
};

/// `gate.every`
pub const GATE_EVERY: Duration = Duration::from_secs(5);
/// `gate.every`: a gate answers controllers that poll every minute or so, so a gate probing
/// less often than every 10 minutes could not say anything within one rollout step.
pub const GATE_EVERY_RANGE: Range = Range {
    min: limit(Duration::from_millis(20), "20ms"),
    max: limit(Duration::from_secs(600), "10m"),
};
/// `gate.min_samples`
pub const GATE_MIN_SAMPLES: u32 = 3;
/// `gate.min_samples`: the most accepted.
pub const GATE_MIN_SAMPLES_MAX: u32 = 1000;
/// `gate.max_failures`
pub const GATE_MAX_FAILURES: u32 = 0;
