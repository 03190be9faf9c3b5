//! Domain values shared by every stage: ids, statuses and time. No I/O here.

pub mod ids;
pub mod run;
pub mod status;
pub mod time;

pub use ids::{ComponentId, ProbeId, RegionId, ShapeId};
pub use run::RunRecord;
pub use status::{ComponentStatus, RunOutcome};
pub use time::Timestamp;
