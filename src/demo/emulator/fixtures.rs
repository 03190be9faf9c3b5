//! The emulated environment's content: a few plausible features, rendered as
//! Flagsmith's flags list and as its environment document.

use serde_json::{json, Value};

/// The numeric id of the one emulated environment.
const ENVIRONMENT_ID: u64 = 101;

/// One emulated feature and its environment-level state.
struct Feature {
    id: u64,
    state_id: u64,
    name: &'static str,
    created_date: &'static str,
    description: Option<&'static str>,
    kind: &'static str,
    enabled: bool,
    value: Value,
    uuid: &'static str,
}

fn features() -> Vec<Feature> {
    vec![
        Feature {
            id: 3101,
            state_id: 58201,
            name: "show_banner",
            created_date: "2023-03-14T09:26:53.589740Z",
            description: Some("Show the promotional banner on the home page"),
            kind: "STANDARD",
            enabled: true,
            value: Value::Null,
            uuid: "0f2a6c8e-6b61-4d7c-9a53-2f4b8d1c7e01",
        },
        Feature {
            id: 3102,
            state_id: 58202,
            name: "checkout_flow",
            created_date: "2023-05-02T14:03:11.120334Z",
            description: Some("Which checkout implementation to serve"),
            kind: "MULTIVARIATE",
            enabled: true,
            value: json!("v2"),
            uuid: "5c9d1e77-0a34-4f0e-8b2d-6e3a9c4f1b02",
        },
        Feature {
            id: 3103,
            state_id: 58203,
            name: "max_cart_items",
            created_date: "2023-06-20T08:45:00.000000Z",
            description: None,
            kind: "STANDARD",
            enabled: true,
            value: json!(25),
            uuid: "a7e3b2c1-9d84-4a6f-b1c0-3d5e7f9a2b03",
        },
        Feature {
            id: 3104,
            state_id: 58204,
            name: "dark_mode",
            created_date: "2024-01-09T17:30:42.771052Z",
            description: Some("Dark theme for the web app"),
            kind: "STANDARD",
            enabled: false,
            value: Value::Null,
            uuid: "c3b1f0d9-2e57-4c8a-a6d4-8f1b2c3d4e04",
        },
        Feature {
            id: 3105,
            state_id: 58205,
            name: "api_client_config",
            created_date: "2024-02-27T11:12:13.456789Z",
            description: Some("Remote configuration for API clients"),
            kind: "STANDARD",
            enabled: true,
            value: json!("{\"timeout_ms\": 3000, \"retries\": 2}"),
            uuid: "e9d8c7b6-a5f4-4e3d-9c2b-1a0f9e8d7c05",
        },
    ]
}

/// The `GET flags/` array (also the `flags` of an identity response).
pub(crate) fn flags() -> Value {
    let flags: Vec<Value> = features()
        .into_iter()
        .map(|f| {
            json!({
                "id": f.state_id,
                "feature": {
                    "id": f.id,
                    "name": f.name,
                    "created_date": f.created_date,
                    "description": f.description,
                    "initial_value": f.value,
                    "default_enabled": f.enabled,
                    "type": f.kind,
                },
                "feature_state_value": f.value,
                "environment": ENVIRONMENT_ID,
                "identity": null,
                "feature_segment": null,
                "enabled": f.enabled,
            })
        })
        .collect();
    Value::Array(flags)
}

/// How many pages `GET environment-document/` answers in.
pub(crate) const DOCUMENT_PAGES: usize = 2;

/// Page `page` (1-based) of the environment document: every page is the whole document with
/// its share of the identity overrides, as a paging SDK merges them.
pub(crate) fn environment_document_page(api_key: &str, page: usize) -> Value {
    let mut doc = environment_document(api_key);
    let overrides: Vec<Value> = identity_overrides()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % DOCUMENT_PAGES + 1 == page)
        .map(|(_, o)| o)
        .collect();
    doc["identity_overrides"] = Value::Array(overrides);
    doc
}

/// The identity overrides the document's pages share out.
fn identity_overrides() -> Vec<Value> {
    [
        "override-alice",
        "override-bob",
        "override-carol",
        "override-dave",
    ]
    .into_iter()
    .enumerate()
    .map(|(i, identifier)| {
        json!({
            "identifier": identifier,
            "identity_uuid": format!("5b1c7f1e-0000-4000-8000-00000000000{i}"),
            "environment_api_key": "",
            "identity_features": [],
        })
    })
    .collect()
}

/// The `GET environment-document/` body; `api_key` is the client-side key.
pub(crate) fn environment_document(api_key: &str) -> Value {
    let feature_states: Vec<Value> = features()
        .into_iter()
        .map(|f| {
            json!({
                "feature": { "id": f.id, "name": f.name, "type": f.kind },
                "enabled": f.enabled,
                "django_id": f.state_id,
                "feature_segment": null,
                "featurestate_uuid": f.uuid,
                "feature_state_value": f.value,
                "multivariate_feature_state_values": [],
            })
        })
        .collect();
    json!({
        "id": ENVIRONMENT_ID,
        "api_key": api_key,
        "name": "Production",
        "project": {
            "id": 42,
            "name": "Mimic Demo",
            "organisation": {
                "id": 7,
                "name": "Mimic Org",
                "feature_analytics": false,
                "stop_serving_flags": false,
                "persist_trait_data": true,
            },
            "hide_disabled_flags": false,
            "segments": [],
            "enable_realtime_updates": false,
            "server_key_only_feature_ids": [],
        },
        "feature_states": feature_states,
        "identity_overrides": [],
        "allow_client_traits": true,
        "hide_sensitive_data": false,
        "hide_disabled_flags": null,
        "use_identity_composite_key_for_hashing": true,
        "updated_at": "2024-03-01T12:00:00.000000+00:00",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_have_the_flagsmith_shape() {
        let flags = flags();
        let list = flags.as_array().map(Vec::as_slice).unwrap_or_default();
        assert!(list.len() >= 3);
        for flag in list {
            for key in [
                "id",
                "feature",
                "feature_state_value",
                "environment",
                "enabled",
            ] {
                assert!(flag.get(key).is_some(), "missing {key}");
            }
            assert!(flag["identity"].is_null() && flag["feature_segment"].is_null());
            assert!(flag["feature"]["name"].is_string());
            assert!(flag["feature"]["type"].is_string());
        }
    }

    #[test]
    fn environment_document_names_its_key() {
        let doc = environment_document("abc");
        assert_eq!(doc["api_key"], "abc");
        assert!(doc["project"]["organisation"].is_object());
        assert_eq!(doc["identity_overrides"], json!([]));
        assert_eq!(doc["project"]["segments"], json!([]));
    }
}
