//! Scheduling: when each probe-region is due (spec, scheduler) and running due jobs (jobs).
//! What the runs saw goes to the pipeline; scheduling knows nothing of storage or incidents.

pub mod jobs;
pub mod scheduler;
pub mod spec;

pub use spec::ScheduleSpec;
