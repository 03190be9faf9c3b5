//! An incident as stored: its fields, its timeline and its postmortem.

use super::{Actor, ComponentId, Impact, IncidentId, IncidentStatus, ProbeId, RegionId, Timestamp};

/// One update in an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentUpdate {
    /// Row id.
    pub id: i64,
    /// Status it set.
    pub status: IncidentStatus,
    /// What it says.
    pub body: String,
    /// What the probes saw behind it (on-call and admin only, unless `page.show_evidence`).
    pub evidence: String,
    /// `mimic` or the person's name.
    pub author: String,
    /// When.
    pub created_at: Timestamp,
}

/// A published postmortem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postmortem {
    /// Markdown as written.
    pub body: String,
    /// Who published it.
    pub author: String,
    /// When it was first published.
    pub published_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// An incident with its timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    /// Number.
    pub id: IncidentId,
    /// Title.
    pub title: String,
    /// Current status.
    pub status: IncidentStatus,
    /// Impact.
    pub impact: Impact,
    /// Affected components.
    pub components: Vec<ComponentId>,
    /// Affected regions.
    pub regions: Vec<RegionId>,
    /// When the problem began.
    pub started_at: Timestamp,
    /// When the incident was opened.
    pub created_at: Timestamp,
    /// When it last entered `monitoring`.
    pub monitoring_at: Option<Timestamp>,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// Who opened it.
    pub opened_by: Actor,
    /// Who set the current status.
    pub status_set_by: Actor,
    /// Who set the impact.
    pub impact_set_by: Actor,
    /// Probe@region pairs the detector has named.
    pub announced: Vec<(ProbeId, RegionId)>,
    /// When the detector last announced new failures.
    pub last_growth_at: Option<Timestamp>,
    /// Newest failed run seen while open.
    pub last_failure_at: Option<Timestamp>,
    /// When the public first saw it; `None` while it is internal (`detect.publish_after`).
    pub published_at: Option<Timestamp>,
    /// How often failures came back during `monitoring`.
    pub relapses: u32,
    /// Timeline, oldest first.
    pub updates: Vec<IncidentUpdate>,
    /// Postmortem, once published.
    pub postmortem: Option<Postmortem>,
}

impl Incident {
    /// Whether the page, feeds, Statuspage API and subscribers may see it.
    pub fn is_public(&self) -> bool {
        self.published_at.is_some()
    }

    /// The incident as the public sees it: each update's evidence appended to its text when
    /// `show_evidence`, and dropped otherwise.
    pub fn for_public(mut self, show_evidence: bool) -> Incident {
        for u in &mut self.updates {
            if show_evidence {
                u.body = u.with_evidence();
            }
            u.evidence.clear();
        }
        self
    }
}

impl IncidentUpdate {
    /// The full text for on-call: what it says, then the evidence behind it.
    pub fn with_evidence(&self) -> String {
        if self.evidence.is_empty() {
            self.body.clone()
        } else {
            format!("{}\n\n{}", self.body, self.evidence)
        }
    }
}
