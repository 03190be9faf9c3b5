//! Status enums stored as TEXT with a CHECK constraint; `as_str` is the one spelling.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How one run ended: `ok` and `degraded` pass, every other class fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum RunOutcome {
    /// Every expectation met within `degraded_after`.
    Ok,
    /// Every expectation met, but slower than `degraded_after`.
    Degraded,
    /// The status code was not one of the expected ones.
    HttpStatus,
    /// A JSON path was missing or had another value.
    Assertion,
    /// No complete answer within the probe's timeout.
    Timeout,
    /// The TCP connection could not be made (refused, unreachable).
    Connect,
    /// The host name did not resolve.
    Dns,
    /// The TLS handshake failed (certificate, protocol).
    Tls,
    /// The peer reset or closed the connection mid-exchange.
    Reset,
    /// The body exceeded the probe's size cap.
    BodyTooLarge,
    /// A JSON expectation was set but the body is not JSON.
    InvalidJson,
    /// A browser would refuse the answer (CORS): the page's script would see a network error.
    Cors,
}

impl RunOutcome {
    /// Every variant, for exhaustive tests and metrics.
    pub const ALL: [RunOutcome; 12] = [
        Self::Ok,
        Self::Degraded,
        Self::HttpStatus,
        Self::Assertion,
        Self::Timeout,
        Self::Connect,
        Self::Dns,
        Self::Tls,
        Self::Reset,
        Self::BodyTooLarge,
        Self::InvalidJson,
        Self::Cors,
    ];

    /// The snake_case name used in SQL, JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Degraded => "degraded",
            Self::HttpStatus => "http_status",
            Self::Assertion => "assertion",
            Self::Timeout => "timeout",
            Self::Connect => "connect",
            Self::Dns => "dns",
            Self::Tls => "tls",
            Self::Reset => "reset",
            Self::BodyTooLarge => "body_too_large",
            Self::InvalidJson => "invalid_json",
            Self::Cors => "cors",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// True for `ok` and `degraded`: the run counts as a success.
    pub fn passed(self) -> bool {
        matches!(self, Self::Ok | Self::Degraded)
    }
}

impl fmt::Display for RunOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A component's status in one region (Statuspage's component status).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Every probe healthy.
    Operational,
    /// Healthy, but some probe slower than its `degraded_after`.
    DegradedPerformance,
    /// Some probes failing.
    PartialOutage,
    /// Every probe failing.
    MajorOutage,
    /// A person declared maintenance.
    UnderMaintenance,
}

impl ComponentStatus {
    /// The snake_case name used in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Operational => "operational",
            Self::DegradedPerformance => "degraded_performance",
            Self::PartialOutage => "partial_outage",
            Self::MajorOutage => "major_outage",
            Self::UnderMaintenance => "under_maintenance",
        }
    }
}

impl fmt::Display for ComponentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an incident stands (Statuspage's incident status).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum IncidentStatus {
    /// Something is wrong and the cause is not known yet.
    Investigating,
    /// The cause is known and a fix is under way.
    Identified,
    /// A fix is out; watching that it holds.
    Monitoring,
    /// Over.
    Resolved,
    /// Over, and a postmortem is published.
    Postmortem,
}

impl IncidentStatus {
    /// Every variant, for exhaustive tests.
    pub const ALL: [IncidentStatus; 5] = [
        Self::Investigating,
        Self::Identified,
        Self::Monitoring,
        Self::Resolved,
        Self::Postmortem,
    ];

    /// The snake_case name used in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Investigating => "investigating",
            Self::Identified => "identified",
            Self::Monitoring => "monitoring",
            Self::Resolved => "resolved",
            Self::Postmortem => "postmortem",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Still open (not resolved and not closed by a postmortem).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            Self::Investigating | Self::Identified | Self::Monitoring
        )
    }

    /// The word a reader sees, e.g. `Investigating`.
    pub fn title(self) -> &'static str {
        match self {
            Self::Investigating => "Investigating",
            Self::Identified => "Identified",
            Self::Monitoring => "Monitoring",
            Self::Resolved => "Resolved",
            Self::Postmortem => "Postmortem",
        }
    }
}

impl fmt::Display for IncidentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad an incident is (Statuspage's impact), ordered from least to worst.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    sqlx::Type,
)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum Impact {
    /// No user impact.
    #[default]
    None,
    /// Some SDKs, operations or regions fail.
    Minor,
    /// Every probe of a component fails in at least one region.
    Major,
    /// Everything fails everywhere.
    Critical,
}

impl Impact {
    /// Every variant, for exhaustive tests.
    pub const ALL: [Impact; 4] = [Self::None, Self::Minor, Self::Major, Self::Critical];

    /// The snake_case name used in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    /// Parses the snake_case name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Impact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who did something to an incident: the detector or a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum Actor {
    /// mimic's detector.
    Detector,
    /// A person, through the admin API.
    Person,
}

impl Actor {
    /// The snake_case name used in SQL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Detector => "detector",
            Self::Person => "person",
        }
    }
}
