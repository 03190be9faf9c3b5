//! Domain values shared by every stage: ids, statuses and time. No I/O here.

pub mod email;
pub mod ids;
pub mod incident;
pub mod mail;
pub mod maintenance;
pub mod probe_state;
pub mod run;
pub mod stable_id;
pub mod status;
pub mod time;

pub use email::EmailAddress;
pub use ids::{ComponentId, IncidentId, ProbeId, RegionId, ShapeId};
pub use incident::{Incident, IncidentUpdate, Postmortem};
pub use mail::{Audience, MailKind, MailStatus, SubscriberStatus};
pub use maintenance::{Maintenance, MaintenanceStatus, MaintenanceUpdate, Window};
pub use probe_state::{Health, ProbeHealth, ProbeState, RunSummary};
pub use run::{GateRun, RunRecord, StepResult};
pub use stable_id::stable_id;
pub use status::{Actor, ComponentStatus, Impact, IncidentStatus, RunOutcome};
pub use time::Timestamp;
