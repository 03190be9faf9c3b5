//! Scheduling: when each probe-region is due (spec, scheduler), running due jobs (jobs), and
//! storing what they saw (recorder). Orchestrates; owns no SQL.

pub mod jobs;
pub mod recorder;
pub mod scheduler;
pub mod spec;

pub use spec::ScheduleSpec;
