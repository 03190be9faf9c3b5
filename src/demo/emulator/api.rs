//! Handlers for the Flagsmith API routes, called by the router once the
//! region, faults and environment key have been dealt with.

use http::{Response, StatusCode};
use serde_json::{json, Value};

use super::body::{self, EmuBody};
use super::faults::Fault;
use super::{fixtures, identity, State};

/// `GET flags/`: the environment's flags.
pub(crate) fn flags() -> Response<EmuBody> {
    body::json(StatusCode::OK, &fixtures::flags())
}

/// `GET identities/?identifier=..`: the query is text, so numeric faults cannot apply.
pub(crate) fn identify_get(query: &str) -> Response<EmuBody> {
    match identity::parse_get(query) {
        Ok(identify) => body::json(StatusCode::OK, &identify.response(fixtures::flags())),
        Err(errors) => body::json(StatusCode::BAD_REQUEST, &errors),
    }
}

/// `POST identities/`: validate the body like the real API and echo the traits.
pub(crate) fn identify_post(body: &[u8], fault: &Fault) -> Response<EmuBody> {
    match identity::parse_post(body, fault) {
        Ok(identify) => body::json(StatusCode::OK, &identify.response(fixtures::flags())),
        Err(errors) => body::json(StatusCode::BAD_REQUEST, &errors),
    }
}

/// `GET environment-document/`: the document local-evaluation SDKs poll.
pub(crate) fn environment_document(state: &State) -> Response<EmuBody> {
    let api_key = state.environment_keys.first().map_or("", String::as_str);
    body::json(StatusCode::OK, &fixtures::environment_document(api_key))
}

/// `POST analytics/flags/`: a JSON object of feature name to evaluation count.
pub(crate) fn analytics(body: &[u8]) -> Response<EmuBody> {
    match identity::parse_object(body) {
        Ok(_) => body::json(StatusCode::OK, &json!({})),
        Err(errors) => body::json(StatusCode::BAD_REQUEST, &errors),
    }
}

/// `POST bulk-identities/`: `{"data": [{"identifier", "traits"?}, ..]}`, answered 202.
pub(crate) fn bulk_identities(body: &[u8]) -> Response<EmuBody> {
    let obj = match identity::parse_object(body) {
        Ok(obj) => obj,
        Err(errors) => return body::json(StatusCode::BAD_REQUEST, &errors),
    };
    let items = match obj.get("data") {
        Some(Value::Array(items)) => items,
        Some(_) => {
            let errors = json!({ "data": ["Expected a list of items."] });
            return body::json(StatusCode::BAD_REQUEST, &errors);
        }
        None => {
            let errors = json!({ "data": ["This field is required."] });
            return body::json(StatusCode::BAD_REQUEST, &errors);
        }
    };
    let item_errors: Vec<Value> = items.iter().map(bulk_item_errors).collect();
    if item_errors.iter().any(|e| e != &json!({})) {
        return body::json(StatusCode::BAD_REQUEST, &json!({ "data": item_errors }));
    }
    body::json(StatusCode::ACCEPTED, &json!({}))
}

/// The DRF-style error object for one bulk item, `{}` when it is valid.
fn bulk_item_errors(item: &Value) -> Value {
    let Value::Object(obj) = item else {
        return json!({ "non_field_errors": ["Invalid data. Expected a dictionary."] });
    };
    let mut errors = serde_json::Map::new();
    match obj.get("identifier") {
        Some(Value::String(s)) if !s.trim().is_empty() => {}
        Some(Value::String(_)) => {
            errors.insert("identifier".into(), json!(["This field may not be blank."]));
        }
        Some(_) => {
            errors.insert("identifier".into(), json!(["Not a valid string."]));
        }
        None => {
            errors.insert("identifier".into(), json!(["This field is required."]));
        }
    }
    if let Err(e) = identity::parse_traits(obj.get("traits")) {
        errors.insert("traits".into(), e);
    }
    Value::Object(errors)
}
