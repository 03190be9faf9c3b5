//! Alert channels (SPEC §12): Slack, PagerDuty, Discord, Teams and Statuspage-style signed
//! webhooks. An incident update queues one delivery per channel in its own transaction
//! ([`queue`]); the [`sender`] renders each with its vendor's module within that vendor's limits
//! and posts it with the kind's success codes, retries, pacing and stop rules ([`deliver`]).

pub mod deliver;
pub mod discord;
pub mod message;
pub mod pagerduty;
pub mod queue;
pub mod sender;
pub mod slack;
pub mod teams;
pub mod webhook;

pub use sender::ChannelSender;
