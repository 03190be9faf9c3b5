//! Validation of identify requests (body and query forms) and traits, with
//! error bodies shaped like the real API's Django REST Framework messages.

use serde_json::{json, Map, Value};

use super::faults::Fault;

/// Flagsmith's limit on identifier length.
const MAX_IDENTIFIER_CHARS: usize = 2000;
/// The `type` values accepted in the typed trait form `{"value": .., "type": ..}`.
const TRAIT_TYPES: &[&str] = &["string", "decimal", "boolean", "semver"];

/// A validated identify request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Identify {
    pub(crate) identifier: String,
    /// Traits in the echo form `{"trait_key", "trait_value"[, "transient"]}`.
    pub(crate) traits: Vec<Value>,
    pub(crate) transient: bool,
}

impl Identify {
    /// The identity response body, with the given flags.
    pub(crate) fn response(&self, flags: Value) -> Value {
        let mut doc = Map::new();
        doc.insert("identifier".into(), Value::String(self.identifier.clone()));
        doc.insert("flags".into(), flags);
        doc.insert("traits".into(), Value::Array(self.traits.clone()));
        if self.transient {
            doc.insert("transient".into(), Value::Bool(true));
        }
        Value::Object(doc)
    }
}

/// The Python type name DRF puts in its messages.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Parses a body that must be a JSON object; the error is a 400 body.
pub(crate) fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Value> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(other) => Err(json!({
            "detail": format!("Invalid data. Expected a dictionary, but got {}.", type_name(&other)),
        })),
        Err(e) => Err(json!({ "detail": format!("JSON parse error - {e}") })),
    }
}

/// DRF `CharField` rules: strings (trimmed) and numbers pass, blank and other types fail.
fn char_field(value: Option<&Value>, max_chars: usize) -> Result<String, &'static str> {
    let text = match value {
        None => return Err("This field is required."),
        Some(Value::Null) => return Err("This field may not be null."),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err("Not a valid string."),
    };
    if text.is_empty() {
        return Err("This field may not be blank.");
    }
    if text.chars().count() > max_chars {
        return Err("Ensure this field has no more than 2000 characters.");
    }
    Ok(text)
}

/// An optional boolean field: absent is false, anything but a bool is an error.
fn bool_field(value: Option<&Value>) -> Result<bool, &'static str> {
    match value {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err("Must be a valid boolean."),
    }
}

/// Checks a trait value and returns the plain value to echo back.
fn trait_value(value: Option<&Value>) -> Result<Value, &'static str> {
    match value {
        None => Err("This field is required."),
        Some(v @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_))) => {
            Ok(v.clone())
        }
        // The Elixir SDK's typed form; the stored value is the inner one.
        Some(Value::Object(typed)) => {
            let kind_ok = typed
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| TRAIT_TYPES.contains(&t));
            match typed.get("value") {
                Some(inner) if kind_ok && !inner.is_array() && !inner.is_object() => {
                    Ok(inner.clone())
                }
                _ => Err("Invalid trait value: expected {\"value\": .., \"type\": \"string\"|\"decimal\"|\"boolean\"|\"semver\"}."),
            }
        }
        Some(Value::Array(_)) => Err("Invalid trait value type."),
    }
}

/// Validates one trait, returning its echo form or a per-field error object.
fn parse_trait(item: &Value) -> Result<Value, Value> {
    let Value::Object(obj) = item else {
        let message = format!(
            "Invalid data. Expected a dictionary, but got {}.",
            type_name(item)
        );
        return Err(json!({ "non_field_errors": [message] }));
    };
    let mut errors = Map::new();
    let key = char_field(obj.get("trait_key"), MAX_IDENTIFIER_CHARS)
        .map_err(|e| errors.insert("trait_key".into(), json!([e])));
    let value = trait_value(obj.get("trait_value"))
        .map_err(|e| errors.insert("trait_value".into(), json!([e])));
    let transient =
        bool_field(obj.get("transient")).map_err(|e| errors.insert("transient".into(), json!([e])));
    match (key, value, transient) {
        (Ok(key), Ok(value), Ok(transient)) => {
            let mut echo = json!({ "trait_key": key, "trait_value": value });
            if transient {
                echo["transient"] = Value::Bool(true);
            }
            Ok(echo)
        }
        _ => Err(Value::Object(errors)),
    }
}

/// Validates a `traits` field: absent, `null` or a list of valid traits.
pub(crate) fn parse_traits(value: Option<&Value>) -> Result<Vec<Value>, Value> {
    let items = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(other) => {
            let message = format!(
                "Expected a list of items but got type \"{}\".",
                type_name(other)
            );
            return Err(json!({ "non_field_errors": [message] }));
        }
    };
    let results: Vec<Result<Value, Value>> = items.iter().map(parse_trait).collect();
    if results.iter().all(Result::is_ok) {
        Ok(results.into_iter().flatten().collect())
    } else {
        // DRF lists one error object per item, empty for the valid ones.
        Err(Value::Array(
            results
                .into_iter()
                .map(|r| r.err().unwrap_or_else(|| json!({})))
                .collect(),
        ))
    }
}

/// Validates a `POST identities/` body, applying the region's validation fault.
pub(crate) fn parse_post(body: &[u8], fault: &Fault) -> Result<Identify, Value> {
    let obj = parse_object(body)?;
    let mut errors = Map::new();
    let raw_identifier = obj.get("identifier");
    let identifier = if *fault == Fault::RejectNumericIdentifier
        && raw_identifier.is_some_and(Value::is_number)
    {
        Err("Not a valid string.")
    } else {
        char_field(raw_identifier, MAX_IDENTIFIER_CHARS)
    }
    .map_err(|e| errors.insert("identifier".into(), json!([e])));
    let traits = if *fault == Fault::RequireTraitsKey && !obj.contains_key("traits") {
        Err(json!(["This field is required."]))
    } else {
        parse_traits(obj.get("traits"))
    }
    .map_err(|e| errors.insert("traits".into(), e));
    let transient =
        bool_field(obj.get("transient")).map_err(|e| errors.insert("transient".into(), json!([e])));
    match (identifier, traits, transient) {
        (Ok(identifier), Ok(traits), Ok(transient)) => Ok(Identify {
            identifier,
            traits,
            transient,
        }),
        _ => Err(Value::Object(errors)),
    }
}

/// Validates a `GET identities/?identifier=..[&transient=true]` query.
pub(crate) fn parse_get(query: &str) -> Result<Identify, Value> {
    let identifier = query_param(query, "identifier").unwrap_or_default();
    if identifier.trim().is_empty() {
        return Err(json!({ "detail": "Missing identifier" }));
    }
    let transient =
        query_param(query, "transient").is_some_and(|t| t.eq_ignore_ascii_case("true") || t == "1");
    Ok(Identify {
        identifier,
        traits: Vec::new(),
        transient,
    })
}

/// The first value of `name` in a URL query, form-decoded (`+` and `%XX`).
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(key) == name).then(|| form_decode(value))
    })
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (other, _) => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
