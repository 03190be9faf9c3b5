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

/// `GET environment-document/`: the document local-evaluation SDKs poll, in pages: page 1
/// (no `page_id`) holds the document and the first identity overrides and links to
/// `?page_id=2` with `Link: <…>; rel="next"`; page 2 holds the rest and no link. `path` is the
/// request's path (the link keeps the region prefix).
pub(crate) fn environment_document(
    state: &State,
    path: &str,
    query: &str,
    fault: &Fault,
) -> Response<EmuBody> {
    let api_key = state.environment_keys.first().map_or("", String::as_str);
    let page = match query_param(query, "page_id") {
        None => 1,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=fixtures::DOCUMENT_PAGES).contains(&n) => n,
            _ => return body::detail(StatusCode::NOT_FOUND, "Invalid page."),
        },
    };
    if page > 1 && *fault == Fault::PagingStatus500 {
        return body::json(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({ "detail": "A server error occurred." }),
        );
    }
    let mut resp = body::json(
        StatusCode::OK,
        &fixtures::environment_document_page(api_key, page),
    );
    let next = match (page < fixtures::DOCUMENT_PAGES, fault) {
        (true, _) => Some(page + 1),
        (false, Fault::PagingLoop) => Some(page),
        (false, _) => None,
    };
    if let Some(n) = next {
        let link = format!("<{path}?page_id={n}>; rel=\"next\"");
        if let Ok(value) = http::HeaderValue::from_str(&link) {
            resp.headers_mut().insert(http::header::LINK, value);
        }
    }
    resp
}

/// The first value of a query parameter, as written (the emulator's own links need no
/// decoding).
fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
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
