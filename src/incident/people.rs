//! What people do to incidents through the admin API: open one, post an update, edit it, publish
//! a postmortem. Each action is one transaction; a person's status always stands, because the
//! detector reads `status_set_by` before it moves anything.

use crate::domain::{
    Actor, ComponentId, Impact, Incident, IncidentId, IncidentStatus, RegionId, Timestamp,
};
use crate::notify::MailContext;
use crate::store::incidents::{self, NewIncident};
use crate::store::{Error as StoreError, Store};

/// Why a person's action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// No such incident.
    #[error("incident {0} does not exist")]
    NotFound(IncidentId),
    /// The action does not fit the incident's state.
    #[error("{0}")]
    Conflict(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ActionError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Sql(e))
    }
}

/// A person's new incident.
#[derive(Debug, Clone)]
pub struct Opening {
    /// Title.
    pub title: String,
    /// Impact.
    pub impact: Impact,
    /// First status.
    pub status: IncidentStatus,
    /// First update's text.
    pub body: String,
    /// Affected components.
    pub components: Vec<ComponentId>,
    /// Affected regions.
    pub regions: Vec<RegionId>,
    /// The person's name.
    pub author: String,
}

/// A person's edit; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct Edit {
    /// New title.
    pub title: Option<String>,
    /// New impact.
    pub impact: Option<Impact>,
    /// New affected components.
    pub components: Option<Vec<ComponentId>>,
    /// New affected regions.
    pub regions: Option<Vec<RegionId>>,
}

/// Opens an incident with its first update; returns it.
pub async fn open(
    store: &Store,
    mail: Option<&MailContext>,
    o: &Opening,
    now: Timestamp,
) -> Result<Incident, ActionError> {
    let mut tx = store.begin_write().await?;
    let id = incidents::insert_incident(
        &mut tx,
        &NewIncident {
            title: &o.title,
            impact: o.impact,
            status: o.status,
            components: &o.components,
            regions: &o.regions,
            started_at: now,
            opened_by: Actor::Person,
            announced: &[],
            public: true,
        },
        now,
    )
    .await?;
    incidents::insert_update(
        &mut tx,
        id,
        o.status,
        incidents::Words::plain(&o.body),
        &o.author,
        Actor::Person,
        now,
    )
    .await?;
    queue(&mut tx, mail, id, now).await?;
    finish(tx, id).await
}

/// Posts an update with any status except `postmortem`; the person now owns the status.
pub async fn post_update(
    store: &Store,
    mail: Option<&MailContext>,
    id: IncidentId,
    status: IncidentStatus,
    body: &str,
    author: &str,
    now: Timestamp,
) -> Result<Incident, ActionError> {
    let mut tx = store.begin_write().await?;
    require(&mut tx, id).await?;
    // A person speaking makes an internal incident public (SPEC §10, publish policy).
    incidents::publish(&mut tx, id, now).await?;
    incidents::insert_update(
        &mut tx,
        id,
        status,
        incidents::Words::plain(body),
        author,
        Actor::Person,
        now,
    )
    .await?;
    queue(&mut tx, mail, id, now).await?;
    finish(tx, id).await
}

/// Edits title, impact and affected components or regions.
pub async fn edit(
    store: &Store,
    id: IncidentId,
    e: &Edit,
    now: Timestamp,
) -> Result<Incident, ActionError> {
    let mut tx = store.begin_write().await?;
    require(&mut tx, id).await?;
    incidents::edit_incident(
        &mut tx,
        id,
        e.title.as_deref(),
        e.impact.map(|i| (i, Actor::Person)),
        e.components.as_deref(),
        e.regions.as_deref(),
        now,
    )
    .await?;
    finish(tx, id).await
}

/// Publishes the postmortem of a resolved incident (or replaces it).
pub async fn publish_postmortem(
    store: &Store,
    id: IncidentId,
    body: &str,
    author: &str,
    now: Timestamp,
) -> Result<Incident, ActionError> {
    let mut tx = store.begin_write().await?;
    let inc = require(&mut tx, id).await?;
    if inc.status.is_open() {
        return Err(ActionError::Conflict(format!(
            "incident {id} is still {}: resolve it before publishing a postmortem",
            inc.status
        )));
    }
    incidents::publish(&mut tx, id, now).await?;
    incidents::upsert_postmortem(&mut tx, id, body, author, now).await?;
    finish(tx, id).await
}

type Tx = sqlx::Transaction<'static, sqlx::Sqlite>;

/// Queues the mail for the incident's newest update, in the same transaction.
async fn queue(
    tx: &mut Tx,
    mail: Option<&MailContext>,
    id: IncidentId,
    now: Timestamp,
) -> Result<(), ActionError> {
    if let Some(ctx) = mail {
        crate::notify::messages::queue_latest(tx, ctx, id, now).await?;
    }
    Ok(())
}

/// The incident, or `NotFound`.
async fn require(tx: &mut Tx, id: IncidentId) -> Result<Incident, ActionError> {
    incidents::get_incident(tx, id)
        .await?
        .ok_or(ActionError::NotFound(id))
}

/// Reads the incident as changed, then commits.
async fn finish(mut tx: Tx, id: IncidentId) -> Result<Incident, ActionError> {
    let inc = require(&mut tx, id).await?;
    tx.commit().await?;
    Ok(inc)
}
