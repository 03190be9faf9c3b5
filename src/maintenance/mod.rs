//! Planned maintenance (SPEC §12): windows people schedule through the admin API or `mimic
//! maintenance`, and occurrences of `[[maintenance]]` recurring windows; a clock that starts and
//! completes them on time ([`task`]); and the [`Calendar`] of what is under maintenance now,
//! which the probe hand-over and the detector consult per run.

pub mod actions;
pub mod calendar;
pub mod task;

pub use calendar::Calendar;

/// Why a maintenance action failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such maintenance.
    #[error("maintenance {0} does not exist")]
    NotFound(i64),
    /// The action does not fit the maintenance's state.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(crate::store::Error::Sql(e))
    }
}
