//! Incidents: the pure lifecycle the detector follows, the words it writes, and the detector that
//! applies a detection step or a person's update to the database in one transaction.

pub mod detector;
pub mod lifecycle;
pub mod people;
pub mod text;
