//! Incidents: the pure lifecycle the detector follows, the words it writes, and the service that
//! applies a detection step or a person's update to the database in one transaction.

pub mod lifecycle;
pub mod people;
pub mod service;
pub mod text;
