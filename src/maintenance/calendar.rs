//! Which scopes are under maintenance, and since and until when: the in-progress and verifying
//! windows and those completed in the last [`KEEP_COMPLETED`], held in memory so the probe
//! hand-over and the detector can ask per run without a query. A run is in maintenance when it
//! *started* inside a window. Reloaded from the database after every change, and at start.

use crate::domain::{ComponentId, RegionId, Timestamp, Window};
use crate::store::maintenances;
use sqlx::SqliteConnection;
use std::sync::{Arc, RwLock};

/// How long a completed window is remembered (longer than any run's timeout).
pub const KEEP_COMPLETED: std::time::Duration = std::time::Duration::from_secs(3600);

/// The windows.
#[derive(Debug, Default)]
pub struct Calendar {
    windows: RwLock<Arc<Vec<Window>>>,
}

impl Calendar {
    /// An empty calendar (nothing under maintenance).
    pub fn new() -> Calendar {
        Calendar::default()
    }

    /// Whether `component` in `region` was under maintenance at `at`.
    pub fn covers(&self, component: &ComponentId, region: &RegionId, at: Timestamp) -> bool {
        let w = self
            .windows
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        w.iter().any(|w| w.covers(component, region, at))
    }

    /// Whether no window is known (the common case, one read).
    pub fn is_empty(&self) -> bool {
        self.windows
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty()
    }

    /// The active windows.
    pub fn windows(&self) -> Arc<Vec<Window>> {
        self.windows
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Replaces the windows.
    pub fn set(&self, windows: Vec<Window>) {
        *self.windows.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(windows);
    }

    /// Reloads the windows from the database; returns whether they changed.
    pub async fn reload(&self, conn: &mut SqliteConnection) -> Result<bool, crate::store::Error> {
        let since = Timestamp::from_millis(
            Timestamp::now().as_millis() - KEEP_COMPLETED.as_millis() as i64,
        );
        let windows = maintenances::windows(conn, since).await?;
        let changed = *self.windows() != windows;
        if changed {
            self.set(windows);
        }
        Ok(changed)
    }
}
