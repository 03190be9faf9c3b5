//! Queues channel deliveries in the transaction of the incident update that causes them: one
//! row per (update, channel), chosen by the channel's events, its `min_impact`, whether it hears
//! internal incidents, and (for PagerDuty) whether the status triggers or resolves.

use crate::config::{Channel, ChannelKind};
use crate::domain::{Incident, IncidentStatus, IncidentUpdate, Timestamp};
use crate::store::channels::{self, NewDelivery};
use sqlx::SqliteConnection;

/// The PagerDuty action for an update of this status, if any: `monitoring` and `postmortem`
/// change nothing on call.
pub fn pagerduty_action(status: IncidentStatus) -> Option<&'static str> {
    match status {
        IncidentStatus::Investigating | IncidentStatus::Identified => Some("trigger"),
        IncidentStatus::Resolved => Some("resolve"),
        IncidentStatus::Monitoring | IncidentStatus::Postmortem => None,
    }
}

/// Queues `update` of `inc` for every channel that wants it.
pub async fn queue_update(
    conn: &mut SqliteConnection,
    list: &[Channel],
    inc: &Incident,
    update: &IncidentUpdate,
    now: Timestamp,
) -> Result<(), crate::store::Error> {
    for c in list {
        if !c.incidents || (!inc.is_public() && !c.kind.hears_internal()) {
            continue;
        }
        let action = match c.kind {
            ChannelKind::PagerDuty => match pagerduty_action(update.status) {
                Some(a) => a,
                None => continue,
            },
            _ => "post",
        };
        // An incident below the channel's bar is not told, unless the channel already heard of
        // it (its impact fell): then its recovery is told too.
        if inc.impact < c.min_impact && !channels::has_heard_of(conn, &c.id, inc.id.0).await? {
            continue;
        }
        channels::insert_delivery(
            conn,
            &NewDelivery {
                channel_id: &c.id,
                dedupe_key: format!("update:{}:{}", update.id, c.id),
                event: "incident",
                incident_id: Some(inc.id.0),
                update_id: Some(update.id),
                maintenance_update_id: None,
                action,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Queues maintenance update `update` for every channel that hears maintenance. PagerDuty does
/// not: planned work pages nobody.
pub async fn queue_maintenance(
    conn: &mut SqliteConnection,
    list: &[Channel],
    update: &crate::domain::MaintenanceUpdate,
    now: Timestamp,
) -> Result<(), crate::store::Error> {
    for c in list {
        if !c.maintenance || c.kind == ChannelKind::PagerDuty {
            continue;
        }
        channels::insert_delivery(
            conn,
            &NewDelivery {
                channel_id: &c.id,
                dedupe_key: format!("maintenance:{}:{}", update.id, c.id),
                event: "maintenance",
                incident_id: None,
                update_id: None,
                maintenance_update_id: Some(update.id),
                action: "post",
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// Queues what the public channels (`webhook`) missed while `inc` was internal: its newest
/// update, which carries the timeline so far.
pub async fn queue_published(
    conn: &mut SqliteConnection,
    list: &[Channel],
    inc: &Incident,
    now: Timestamp,
) -> Result<(), crate::store::Error> {
    let Some(update) = inc.updates.iter().max_by_key(|u| u.id) else {
        return Ok(());
    };
    let public: Vec<Channel> = list
        .iter()
        .filter(|c| !c.kind.hears_internal())
        .cloned()
        .collect();
    queue_update(conn, &public, inc, update, now).await
}

/// Queues a test for channel `c`; returns the ids of the rows (PagerDuty gets a trigger and
/// its resolve).
pub async fn queue_test(
    conn: &mut SqliteConnection,
    c: &Channel,
    now: Timestamp,
) -> Result<Vec<i64>, crate::store::Error> {
    let actions: &[&str] = match c.kind {
        ChannelKind::PagerDuty => &["trigger", "resolve"],
        _ => &["post"],
    };
    let nonce = rand::random::<u64>();
    let mut ids = Vec::new();
    for action in actions {
        let d = NewDelivery {
            channel_id: &c.id,
            dedupe_key: format!("test:{}:{}:{nonce:016x}:{action}", c.id, now.as_millis()),
            event: "test",
            incident_id: None,
            update_id: None,
            maintenance_update_id: None,
            action,
        };
        ids.extend(channels::insert_delivery(conn, &d, now).await?);
    }
    Ok(ids)
}
