//! Every incident status, impact and actor is accepted by the schema's CHECKs and reads back as
//! itself, and a detector state survives a reopen of the database unchanged.

use mimic::detect::state::{ProbeState, RunSummary};
use mimic::detect::{Health, ProbeHealth};
use mimic::domain::{
    Actor, ComponentId, Impact, IncidentStatus, ProbeId, RegionId, RunOutcome, Timestamp,
};
use mimic::store::incidents::{self, NewIncident};
use mimic::store::probe_states::{self, StoredProbeState};
use mimic::store::Store;

#[tokio::test]
async fn every_status_impact_and_actor_is_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(&dir.path().join("m.db").to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let now = Timestamp::from_millis(1_705_588_800_000);
    for (i, status) in IncidentStatus::ALL.into_iter().enumerate() {
        let impact = Impact::ALL[i % Impact::ALL.len()];
        let by = if i % 2 == 0 {
            Actor::Detector
        } else {
            Actor::Person
        };
        let id = incidents::insert_incident(
            &mut conn,
            &NewIncident {
                title: "t",
                impact,
                status,
                components: &[ComponentId::from("edge-api")],
                regions: &[RegionId::from("eu-west-2")],
                started_at: now,
                opened_by: by,
                announced: &[(ProbeId::from("go"), RegionId::from("eu-west-2"))],
                public: true,
            },
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("{status}: {e}"));
        incidents::insert_update(
            &mut conn,
            id,
            status,
            incidents::Words::plain("body"),
            "mimic",
            by,
            now,
        )
        .await
        .unwrap_or_else(|e| panic!("{status}: {e}"));
        let back = incidents::get_incident(&mut conn, id)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
            .unwrap_or_else(|| panic!("incident {id} missing"));
        assert_eq!(back.status, status);
        assert_eq!(back.impact, impact);
        assert_eq!(back.opened_by, by);
        assert_eq!(back.updates[0].status, status);
        assert_eq!(back.announced.len(), 1);
        assert_eq!(back.resolved_at.is_some(), !status.is_open());
    }

    let state = StoredProbeState {
        probe: ProbeId::from("go"),
        region: RegionId::from("eu-west-2"),
        component: ComponentId::from("edge-api"),
        state: ProbeState {
            health: ProbeHealth {
                health: Health::Failing,
                consecutive_failures: 7,
                consecutive_successes: 0,
                consecutive_degraded: 0,
                degraded: false,
                failing_since: Some(now),
            },
            last_run: Some(RunSummary {
                at: now,
                outcome: RunOutcome::HttpStatus,
                status: Some(400),
                message: "HTTP 400, expected 200".into(),
                excerpt: String::new(),
            }),
            last_failure: Some(RunSummary {
                at: now,
                outcome: RunOutcome::HttpStatus,
                status: Some(400),
                message: "HTTP 400, expected 200".into(),
                excerpt: "{\"traits\":[\"This field is required.\"]}".into(),
            }),
        },
    };
    probe_states::upsert_probe_states(&mut conn, std::slice::from_ref(&state), now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    drop(conn);
    store.close().await;
    let store = Store::open(&dir.path().join("m.db").to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let back = probe_states::load_probe_states(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, vec![state]);
}
