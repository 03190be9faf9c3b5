//! The `incident`, `incident_update` and `postmortem` tables.

use super::Error;
use crate::domain::{
    Actor, ComponentId, Impact, Incident, IncidentId, IncidentStatus, IncidentUpdate, Postmortem,
    ProbeId, RegionId, Timestamp,
};
use sqlx::SqliteConnection;

/// A new incident's fields.
#[derive(Debug, Clone)]
pub struct NewIncident<'a> {
    /// Title.
    pub title: &'a str,
    /// Impact.
    pub impact: Impact,
    /// First status.
    pub status: IncidentStatus,
    /// Affected components.
    pub components: &'a [ComponentId],
    /// Affected regions.
    pub regions: &'a [RegionId],
    /// When the problem began.
    pub started_at: Timestamp,
    /// Who opens it.
    pub opened_by: Actor,
    /// Pairs the first update names.
    pub announced: &'a [(ProbeId, RegionId)],
    /// Whether the public sees it from the start (else it waits for `publish`).
    pub public: bool,
}

fn to_json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, Error> {
    serde_json::to_string(v).map_err(|e| Error::Encode(e.to_string()))
}

/// Inserts an incident (without updates); returns its id.
pub async fn insert_incident(
    conn: &mut SqliteConnection,
    new: &NewIncident<'_>,
    now: Timestamp,
) -> Result<IncidentId, Error> {
    let components = to_json(new.components)?;
    let regions = to_json(new.regions)?;
    let announced = to_json(new.announced)?;
    let (started, now) = (new.started_at.as_millis(), now.as_millis());
    let growth = (new.opened_by == Actor::Detector).then_some(now);
    let monitoring = (new.status == IncidentStatus::Monitoring).then_some(now);
    let resolved = (!new.status.is_open()).then_some(now);
    let published = new.public.then_some(now);
    let id = sqlx::query_scalar!(
        "insert into incident (title, impact, status, components, regions, started_at, created_at,
             monitoring_at, resolved_at, opened_by, status_set_by, impact_set_by, announced,
             last_growth_at, updated_at, published_at)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) returning incident_id",
        new.title,
        new.impact,
        new.status,
        components,
        regions,
        started,
        now,
        monitoring,
        resolved,
        new.opened_by,
        new.opened_by,
        new.opened_by,
        announced,
        growth,
        now,
        published
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(IncidentId(id))
}

/// An update's words: the public text and the evidence behind it (may be empty).
#[derive(Debug, Clone, Copy)]
pub struct Words<'a> {
    /// What the public reads.
    pub body: &'a str,
    /// What the probes saw (on-call and the admin API; public only with `page.show_evidence`).
    pub evidence: &'a str,
}

impl<'a> Words<'a> {
    /// Words with no evidence (a person's update).
    pub fn plain(body: &'a str) -> Words<'a> {
        Words { body, evidence: "" }
    }
}

/// Appends an update to the timeline and moves the incident to its status.
pub async fn insert_update(
    conn: &mut SqliteConnection,
    id: IncidentId,
    status: IncidentStatus,
    words: Words<'_>,
    author: &str,
    by: Actor,
    now: Timestamp,
) -> Result<(), Error> {
    let now = now.as_millis();
    sqlx::query!(
        "insert into incident_update (incident_id, status, body, evidence, author, created_at)
         values (?, ?, ?, ?, ?, ?)",
        id,
        status,
        words.body,
        words.evidence,
        author,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update incident set
             monitoring_at = case when ?1 = 'monitoring' and status != 'monitoring' then ?2
                                  else monitoring_at end,
             resolved_at = case when ?1 in ('resolved', 'postmortem') then coalesce(resolved_at, ?2)
                                else null end,
             status = ?1, status_set_by = ?3, updated_at = ?2
         where incident_id = ?4",
        status,
        now,
        by,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the detector's bookkeeping on an open incident.
pub async fn set_detector_notes(
    conn: &mut SqliteConnection,
    id: IncidentId,
    announced: &[(ProbeId, RegionId)],
    last_growth_at: Option<Timestamp>,
    last_failure_at: Option<Timestamp>,
    regions: &[RegionId],
) -> Result<(), Error> {
    let announced = to_json(announced)?;
    let regions = to_json(regions)?;
    let growth = last_growth_at.map(Timestamp::as_millis);
    let failure = last_failure_at.map(Timestamp::as_millis);
    sqlx::query!(
        "update incident set announced = ?, last_growth_at = ?, last_failure_at = ?, regions = ?
         where incident_id = ?",
        announced,
        growth,
        failure,
        regions,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Makes the incident public, if it is not yet; true when this call did it.
pub async fn publish(
    conn: &mut SqliteConnection,
    id: IncidentId,
    now: Timestamp,
) -> Result<bool, Error> {
    let now = now.as_millis();
    let done = sqlx::query!(
        "update incident set published_at = ?, updated_at = ?
         where incident_id = ? and published_at is null",
        now,
        now,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one more relapse (failures back during `monitoring`).
pub async fn count_relapse(conn: &mut SqliteConnection, id: IncidentId) -> Result<(), Error> {
    sqlx::query!(
        "update incident set relapses = relapses + 1 where incident_id = ?",
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Changes title, impact and affected components/regions; `None` keeps a field.
pub async fn edit_incident(
    conn: &mut SqliteConnection,
    id: IncidentId,
    title: Option<&str>,
    impact: Option<(Impact, Actor)>,
    components: Option<&[ComponentId]>,
    regions: Option<&[RegionId]>,
    now: Timestamp,
) -> Result<(), Error> {
    let components = components.map(to_json).transpose()?;
    let regions = regions.map(to_json).transpose()?;
    let (impact, impact_by) = impact.unzip();
    let now = now.as_millis();
    sqlx::query!(
        "update incident set title = coalesce(?, title), impact = coalesce(?, impact),
             impact_set_by = coalesce(?, impact_set_by), components = coalesce(?, components),
             regions = coalesce(?, regions), updated_at = ?
         where incident_id = ?",
        title,
        impact,
        impact_by,
        components,
        regions,
        now,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Publishes (or replaces) the postmortem and marks a resolved incident `postmortem`.
pub async fn upsert_postmortem(
    conn: &mut SqliteConnection,
    id: IncidentId,
    body: &str,
    author: &str,
    now: Timestamp,
) -> Result<(), Error> {
    let now = now.as_millis();
    sqlx::query!(
        "insert into postmortem (incident_id, body, author, published_at, updated_at)
         values (?1, ?2, ?3, ?4, ?4)
         on conflict (incident_id) do update set body = ?2, author = ?3, updated_at = ?4",
        id,
        body,
        author,
        now
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update incident set status = 'postmortem', updated_at = ? where incident_id = ?",
        now,
        id
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The newest open incident that lists `component`.
pub async fn open_incident_for(
    conn: &mut SqliteConnection,
    component: &ComponentId,
) -> Result<Option<Incident>, Error> {
    let id = sqlx::query_scalar!(
        r#"select incident_id as "id!: IncidentId" from incident
           where status in ('investigating', 'identified', 'monitoring')
             and exists (select 1 from json_each(components) where value = ?)
           order by created_at desc, incident_id desc limit 1"#,
        component
    )
    .fetch_optional(&mut *conn)
    .await?;
    match id {
        Some(id) => get_incident(conn, id).await,
        None => Ok(None),
    }
}

/// Incident ids, newest first.
pub async fn list_incident_ids(
    conn: &mut SqliteConnection,
    limit: i64,
) -> Result<Vec<IncidentId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"select incident_id as "id!: IncidentId" from incident
           order by created_at desc, incident_id desc limit ?"#,
        limit
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// Public incident ids (see [`publish`]), newest first, skipping `offset`.
pub async fn list_public_incident_ids(
    conn: &mut SqliteConnection,
    limit: i64,
    offset: i64,
) -> Result<Vec<IncidentId>, Error> {
    Ok(sqlx::query_scalar!(
        r#"select incident_id as "id!: IncidentId" from incident
           where published_at is not null
           order by created_at desc, incident_id desc limit ? offset ?"#,
        limit,
        offset
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// One incident with its timeline and postmortem.
pub async fn get_incident(
    conn: &mut SqliteConnection,
    id: IncidentId,
) -> Result<Option<Incident>, Error> {
    let Some(r) = sqlx::query!(
        r#"select incident_id as "id: IncidentId", title, impact as "impact: Impact",
                  status as "status: IncidentStatus", components, regions, started_at, created_at,
                  monitoring_at, resolved_at, opened_by as "opened_by: Actor",
                  status_set_by as "status_set_by: Actor", impact_set_by as "impact_set_by: Actor",
                  announced, last_growth_at, last_failure_at, published_at, relapses
           from incident where incident_id = ?"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    let updates = sqlx::query!(
        r#"select update_id as "update_id!", status as "status: IncidentStatus", body, evidence,
                  author, created_at
           from incident_update where incident_id = ? order by created_at, update_id"#,
        id
    )
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|u| IncidentUpdate {
        id: u.update_id,
        status: u.status,
        body: u.body,
        evidence: u.evidence,
        author: u.author,
        created_at: Timestamp::from_millis(u.created_at),
    })
    .collect();
    let postmortem = sqlx::query!(
        "select body, author, published_at, updated_at from postmortem where incident_id = ?",
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .map(|p| Postmortem {
        body: p.body,
        author: p.author,
        published_at: Timestamp::from_millis(p.published_at),
        updated_at: Timestamp::from_millis(p.updated_at),
    });
    Ok(Some(Incident {
        id: r.id,
        title: r.title,
        status: r.status,
        impact: r.impact,
        components: decode(id, "components", &r.components)?,
        regions: decode(id, "regions", &r.regions)?,
        started_at: Timestamp::from_millis(r.started_at),
        created_at: Timestamp::from_millis(r.created_at),
        monitoring_at: r.monitoring_at.map(Timestamp::from_millis),
        resolved_at: r.resolved_at.map(Timestamp::from_millis),
        opened_by: r.opened_by,
        status_set_by: r.status_set_by,
        impact_set_by: r.impact_set_by,
        announced: decode(id, "announced", &r.announced)?,
        last_growth_at: r.last_growth_at.map(Timestamp::from_millis),
        last_failure_at: r.last_failure_at.map(Timestamp::from_millis),
        published_at: r.published_at.map(Timestamp::from_millis),
        relapses: u32::try_from(r.relapses).unwrap_or(u32::MAX),
        updates,
        postmortem,
    }))
}

fn decode<T: serde::de::DeserializeOwned>(
    id: IncidentId,
    what: &str,
    text: &str,
) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| Error::Encode(format!("incident {id} {what}: {e}")))
}

/// How many incidents and updates exist (for tests asserting that nothing changed).
pub async fn count_incident_rows(conn: &mut SqliteConnection) -> Result<(i64, i64), Error> {
    let incidents = sqlx::query_scalar!("select count(*) from incident")
        .fetch_one(&mut *conn)
        .await?;
    let updates = sqlx::query_scalar!("select count(*) from incident_update")
        .fetch_one(&mut *conn)
        .await?;
    Ok((incidents, updates))
}
