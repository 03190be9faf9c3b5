//! When a probe is due: a fixed-rate interval or a cron expression. Pure time arithmetic.

use crate::domain::Timestamp;
use std::str::FromStr;
use std::time::Duration;

/// A probe's schedule.
#[derive(Debug, Clone)]
pub enum ScheduleSpec {
    /// Fixed rate: due times are `first + k × interval`, never drifting with run time.
    Every(Duration),
    /// Cron with a seconds field, in UTC.
    Cron(Box<cron::Schedule>),
}

impl ScheduleSpec {
    /// Parses a cron expression (6 or 7 fields, seconds first).
    pub fn parse_cron(expr: &str) -> Result<Self, String> {
        cron::Schedule::from_str(expr)
            .map(|s| Self::Cron(Box::new(s)))
            .map_err(|e| format!("invalid cron expression {expr:?}: {e}"))
    }

    /// The next due time strictly after `prev_due`.
    pub fn next_after(&self, prev_due: Timestamp) -> Option<Timestamp> {
        match self {
            Self::Every(d) => Some(prev_due.plus(*d)),
            Self::Cron(s) => s
                .after(&prev_due.to_chrono())
                .next()
                .map(Timestamp::from_chrono),
        }
    }

    /// The interval for fixed-rate schedules, used to spread probes sharing one.
    pub fn interval(&self) -> Option<Duration> {
        match self {
            Self::Every(d) => Some(*d),
            Self::Cron(_) => None,
        }
    }

    /// A short description for tables and logs.
    pub fn describe(&self) -> String {
        match self {
            Self::Every(d) => format!("every {}", humantime::format_duration(*d)),
            Self::Cron(s) => format!("cron {s}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_is_fixed_rate_and_cron_follows_the_expression() {
        let every = ScheduleSpec::Every(Duration::from_secs(10));
        let t = Timestamp::from_millis(1_000);
        assert_eq!(every.next_after(t), Some(Timestamp::from_millis(11_000)));
        let cron = ScheduleSpec::parse_cron("*/30 * * * * *").unwrap_or_else(|e| panic!("{e}"));
        let next = cron.next_after(Timestamp::from_millis(1_705_588_805_000));
        assert_eq!(next, Some(Timestamp::from_millis(1_705_588_830_000)));
        assert!(ScheduleSpec::parse_cron("every minute").is_err());
    }
}
