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
/// `storage.retention`
pub const RETENTION: Duration = Duration::from_secs(14 * 24 * 3600);
/// The shortest `every` accepted (tests use short intervals; production rarely goes below 10s).
pub const MIN_INTERVAL: Duration = Duration::from_millis(20);
