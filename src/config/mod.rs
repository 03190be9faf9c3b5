//! The configuration: one TOML file, `${VAR}` expanded from the environment, validated before
//! anything starts. Every error names its key path and line.

pub mod channels;
pub mod defaults;
pub mod env;
pub mod gate;
pub mod locate;
pub mod maintenance;
pub mod raw;
pub mod self_watch;
pub mod smtp;
pub mod validate;

pub use channels::{Channel, ChannelKind};
pub use gate::{Gate, GateProbe, GateRegion};
pub use maintenance::Recurring;
pub use self_watch::Heartbeat;
pub use smtp::{Smtp, SmtpUrl};

use crate::domain::{ComponentId, EmailAddress, ProbeId, RegionId};
use crate::probe::assert::Expectation;
use crate::probe::{Catalog, Vars};
use crate::schedule::ScheduleSpec;
use secrecy::SecretString;
use std::fmt;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use toml_edit::{DocumentMut, ImDocument};

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[server]`
    pub server: Server,
    /// `[page]`
    pub page: Page,
    /// `[[component]]` in file order.
    pub components: Vec<Component>,
    /// `[[region]]` in file order.
    pub regions: Vec<Region>,
    /// `[[target]]`
    pub targets: Vec<Target>,
    /// `[[probe]]`
    pub probes: Vec<Probe>,
    /// Builtin shapes plus `[[shape]]`.
    pub catalog: Catalog,
    /// `[detect]`
    pub detect: Detect,
    /// `[alerts]`
    pub alerts: Alerts,
    /// `[smtp]`
    pub smtp: Option<Smtp>,
    /// `[storage]`
    pub storage: Storage,
    /// `[heartbeat]`: the dead man's switch, when configured.
    pub heartbeat: Option<Heartbeat>,
    /// `[[gate]]`: rollout gates, in file order.
    pub gates: Vec<Gate>,
    /// `[[maintenance]]`: recurring maintenance windows, in file order.
    pub maintenance: Vec<Recurring>,
}

/// `[server]`
#[derive(Debug, Clone)]
pub struct Server {
    /// Listen address.
    pub listen: SocketAddr,
    /// Public base URL, without trailing slash.
    pub public_url: String,
    /// SQLite URL.
    pub database: String,
    /// Admin bearer token, if the admin API is enabled (redacted in `Debug`).
    pub admin_token: Option<SecretString>,
    /// Bearer token of the rollout gate API (redacted in `Debug`).
    pub gate_token: Option<SecretString>,
}

/// `[page]`
#[derive(Debug, Clone)]
pub struct Page {
    /// Title.
    pub title: String,
    /// Whether public updates quote the probes' evidence (default: only on-call sees it).
    pub show_evidence: bool,
}

/// A user-visible part of the service.
#[derive(Debug, Clone)]
pub struct Component {
    /// Id.
    pub id: ComponentId,
    /// Display name.
    pub name: String,
    /// Optional description.
    pub description: Option<String>,
}

/// A deployment of the service.
#[derive(Debug, Clone)]
pub struct Region {
    /// Id.
    pub id: RegionId,
    /// Display name.
    pub name: String,
}

/// Where a component is reached in a region.
#[derive(Debug, Clone)]
pub struct Target {
    /// Component.
    pub component: ComponentId,
    /// Region.
    pub region: RegionId,
    /// Base URL.
    pub base_url: String,
    /// Variables for this component in this region.
    pub vars: Vars,
}

/// A shape × component × regions × schedule × expectations.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Id.
    pub id: ProbeId,
    /// Reader's name, e.g. `Go SDK identify without traits`.
    pub label: String,
    /// The SDK's name, e.g. `Go`.
    pub sdk: String,
    /// The SDK release the shape reproduces, e.g. `5.1.0`.
    pub sdk_version: String,
    /// What the request does, e.g. `identify without traits` (public text groups by it).
    pub operation: String,
    /// Component probed.
    pub component: ComponentId,
    /// Shape id.
    pub shape: String,
    /// Probe variables (target and shape defaults are merged in per region).
    pub vars: Vars,
    /// When it runs.
    pub schedule: ScheduleSpec,
    /// Per-run timeout.
    pub timeout: Duration,
    /// What passing means.
    pub expect: Expectation,
    /// Regions it runs in, in config order.
    pub regions: Vec<RegionId>,
    /// Body size cap.
    pub body_cap: usize,
    /// A sequence's expectations for every step but the last (whose is `expect`); empty for a
    /// shape of one request.
    pub expect_before_last: Vec<Expectation>,
}

impl Probe {
    /// One expectation per step of the probe's shape, in order (one for a single request).
    pub fn step_expectations(&self) -> Vec<Expectation> {
        let mut all = self.expect_before_last.clone();
        all.push(self.expect.clone());
        all
    }
}

/// `[detect]`
#[derive(Debug, Clone)]
pub struct Detect {
    /// Consecutive failures to turn failing.
    pub failures_to_open: u32,
    /// Consecutive successes to turn healthy.
    pub successes_to_recover: u32,
    /// Quiet period before resolving; zero means never.
    pub resolve_after_quiet: Duration,
    /// Retries of a failed run before it counts (0 = none).
    pub confirm_retries: u32,
    /// Wait before each confirmation retry.
    pub confirm_delay: Duration,
    /// How long a detected failure lasts before its incident is public (zero: at once).
    pub publish_after: Duration,
    /// After the first relapse, how long everything must pass before `monitoring`; doubles
    /// with each further relapse up to an hour (zero: at once).
    pub relapse_calm: Duration,
}

/// `[alerts]`
#[derive(Debug, Clone, Default)]
pub struct Alerts {
    /// On-call addresses, parsed as every address mimic mails.
    pub on_call: Vec<EmailAddress>,
    /// `[[alerts.channel]]`, in file order.
    pub channels: Vec<Channel>,
}

/// `[storage]`
#[derive(Debug, Clone)]
pub struct Storage {
    /// Raw run retention.
    pub retention: Duration,
    /// Most finished runs held in memory while the database is unavailable.
    pub buffer_runs: usize,
}

/// One problem in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Key path, e.g. `probe[2].every` (indexes count from 0).
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "{}: {}", self.path, self.message)?;
        }
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

/// Why a config could not be loaded: the file, or every problem found in it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file has problems; all are listed.
    #[error("{}", list(.0))]
    Invalid(Vec<Problem>),
}

fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl Config {
    /// Reads, expands and validates a config file.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &|name| std::env::var(name).ok())
    }

    /// Parses config text with an environment lookup (tests pass their own).
    pub fn parse(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config, Error> {
        let located = ImDocument::parse(text).map_err(|e| {
            Error::Invalid(vec![Problem {
                path: String::new(),
                message: format!("TOML syntax: {}", e.message().trim()),
                line: e.span().map(|s| env::line(text, s.start)),
            }])
        })?;
        let mut doc: DocumentMut = located.clone().into_mut();
        let env_problems = env::expand_document(&mut doc, lookup);
        if !env_problems.is_empty() {
            return Err(Error::Invalid(
                env_problems
                    .into_iter()
                    .map(|p| Problem {
                        line: locate::line_of_path(&located, &p.path),
                        path: p.path,
                        message: p.message,
                    })
                    .collect(),
            ));
        }
        let expanded = doc.to_string();
        let raw: raw::RawConfig = toml::from_str(&expanded).map_err(|e| {
            let span = e.span();
            let path = match (&span, ImDocument::parse(expanded.as_str())) {
                (Some(s), Ok(d)) => locate::path_at(&d, s.start),
                _ => String::new(),
            };
            Error::Invalid(vec![Problem {
                path,
                message: e.message().trim().to_owned(),
                line: span.map(|s| env::line(&expanded, s.start)),
            }])
        })?;
        validate::validate(raw).map_err(|problems| {
            Error::Invalid(
                problems
                    .into_iter()
                    .map(|(path, message)| Problem {
                        line: locate::line_of_path(&located, &path),
                        path,
                        message,
                    })
                    .collect(),
            )
        })
    }

    /// The target of a component in a region.
    pub fn target(&self, component: &ComponentId, region: &RegionId) -> Option<&Target> {
        self.targets
            .iter()
            .find(|t| &t.component == component && &t.region == region)
    }

    /// A rollout gate by id.
    pub fn gate(&self, id: &str) -> Option<&Gate> {
        self.gates.iter().find(|g| g.id == id)
    }

    /// A component by id.
    pub fn component(&self, id: &ComponentId) -> Option<&Component> {
        self.components.iter().find(|c| &c.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_shows_no_secret() {
        let text = "[server]\nadmin_token = \"tok-0123456789-SECRET\"\n\n\
                    [smtp]\nurl = \"smtps://ops:pw-HUNTER2@mail.example.com\"\n\
                    from = \"Status <status@example.com>\"\n";
        let config = Config::parse(text, &|_| None).unwrap_or_else(|e| panic!("{e}"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("SECRET"), "admin token in Debug");
        assert!(!shown.contains("HUNTER2"), "SMTP password in Debug");
        assert!(shown.contains("mail.example.com"), "{shown}");
    }
}
