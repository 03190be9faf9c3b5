//! Shared helpers: the standard cases of the facts doc §3, rendering, and the golden-file check.

use mimic::probe::render::{render, render_sequence, Rendered, RenderedRequest};
use mimic::probe::{Catalog, Shape, Vars};
use serde_json::{json, Value};
use std::path::PathBuf;

/// The recording server's base URL used for every capture in the facts doc.
pub const BASE_URL: &str = "http://127.0.0.1:18080/api/v1/";
/// The client-side environment key of the captures.
pub const CLIENT_KEY: &str = "test-env-key";
/// The server-side key the captures used for the environment document.
pub const SERVER_KEY: &str = "ser.test-server-key";

/// One standard case of the facts doc §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// a: environment flags.
    A,
    /// b: identify `user-123`, the caller gives no traits.
    B,
    /// b2: identify `user-123` with an explicitly empty trait list.
    B2,
    /// c: identify `user-123` with plan=pro and age=42.
    C,
    /// d2: identify the number 12345.
    D2,
    /// e: a transient identity with one transient trait.
    E,
    /// f: the environment document, with the server-side key.
    F,
}

impl Case {
    /// The case's name in golden file names.
    pub fn name(self) -> &'static str {
        match self {
            Case::A => "a",
            Case::B => "b",
            Case::B2 => "b2",
            Case::C => "c",
            Case::D2 => "d2",
            Case::E => "e",
            Case::F => "f",
        }
    }

    /// The variables a probe hands the shape for this case.
    pub fn vars(self) -> Vars {
        let value = match self {
            Case::A => json!({"environment_key": CLIENT_KEY}),
            Case::F => json!({"environment_key": SERVER_KEY}),
            Case::B => json!({"environment_key": CLIENT_KEY, "identifier": "user-123"}),
            Case::B2 => {
                json!({"environment_key": CLIENT_KEY, "identifier": "user-123", "traits": {}})
            }
            Case::C => json!({
                "environment_key": CLIENT_KEY,
                "identifier": "user-123",
                "traits": {"plan": "pro", "age": 42}
            }),
            Case::D2 => json!({"environment_key": CLIENT_KEY, "identifier": 12345}),
            Case::E => json!({
                "environment_key": CLIENT_KEY,
                "identifier": "user-123",
                "transient": true,
                "traits": {"plan": {"value": "pro", "transient": true}}
            }),
        };
        vars(value)
    }
}

/// A JSON object literal as shape variables.
pub fn vars(value: Value) -> Vars {
    match value {
        Value::Object(map) => map,
        other => panic!("variables must be an object, got {other}"),
    }
}

/// Whether a shape is an identify-style operation (identify, bulk_identify).
pub fn is_identify(shape: &Shape) -> bool {
    shape.operation.contains("identify")
}

/// Whether the shape reproduces the release current on 2024-01-18 (`flagsmith.<sdk>@<ver>.…`).
pub fn is_jan_2024(shape: &Shape) -> bool {
    shape.id.contains('@')
}

/// The standard cases that apply to a shape: a for flags, f for the environment document, and
/// b, b2, c, d2 (+ e for releases that know `transient`) for identify operations.
pub fn cases_for(shape: &Shape) -> Vec<Case> {
    match shape.operation.as_str() {
        "flags" => vec![Case::A],
        "environment_document" => vec![Case::F],
        _ if is_identify(shape) && is_jan_2024(shape) => {
            vec![Case::B, Case::B2, Case::C, Case::D2]
        }
        _ if is_identify(shape) => vec![Case::B, Case::B2, Case::C, Case::D2, Case::E],
        other => panic!(
            "shape {} has an operation {other:?} with no cases",
            shape.id
        ),
    }
}

/// The SDK id inside a shape id: `flagsmith.go@3.3.0.identify` → `go`.
pub fn sdk_id(shape_id: &str) -> &str {
    let rest = shape_id.strip_prefix("flagsmith.").unwrap_or(shape_id);
    let end = rest.find(['.', '@']).unwrap_or(rest.len());
    &rest[..end]
}

/// The builtin catalog's shape with this id.
pub fn shape(id: &str) -> &'static Shape {
    Catalog::builtin()
        .get(id)
        .unwrap_or_else(|| panic!("no builtin shape {id:?}"))
}

/// Renders a builtin shape against the captures' base URL.
pub fn render_vars(id: &str, vars: &Vars) -> RenderedRequest {
    render(shape(id), vars, BASE_URL).unwrap_or_else(|e| panic!("{id} does not render: {e}"))
}

/// Renders a builtin shape for one standard case.
pub fn rendered(id: &str, case: Case) -> RenderedRequest {
    render_vars(id, &case.vars())
}

/// The value of the header spelt exactly `name`.
pub fn header<'a>(r: &'a RenderedRequest, name: &str) -> Option<&'a str> {
    r.headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// The body parsed as JSON (preserving key order).
pub fn body_json(r: &RenderedRequest) -> Value {
    let body = r
        .body
        .as_deref()
        .unwrap_or_else(|| panic!("{} {} has no body", r.method, r.url));
    serde_json::from_str(body).unwrap_or_else(|e| panic!("body {body:?} is not JSON: {e}"))
}

/// The top-level keys of a JSON object body, in order.
pub fn body_keys(r: &RenderedRequest) -> Vec<String> {
    match body_json(r) {
        Value::Object(map) => map.keys().cloned().collect(),
        other => panic!("body is not an object: {other}"),
    }
}

/// Every request of a builtin shape for one set of variables, as `mimic shapes show` sees them.
pub fn rendered_all(id: &str, vars: &Vars) -> Rendered {
    render_sequence(shape(id), vars, BASE_URL)
        .unwrap_or_else(|e| panic!("{id} does not render: {e}"))
}

/// A builtin shape's requests for one standard case in `mimic shapes show` text format (a
/// browser's preflight first, every step of a sequence).
pub fn show(id: &str, case: Case) -> String {
    mimic::probe::render::show_text(&rendered_all(id, &case.vars()))
}

/// Where the golden file of one shape and case lives.
pub fn golden_path(shape_id: &str, case: Case) -> PathBuf {
    golden_dir().join(format!("{shape_id}.{}.txt", case.name()))
}

/// The directory of golden files.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares every builtin shape of `sdk` with its golden files; with `UPDATE_GOLDEN=1` rewrites them.
pub fn assert_goldens(sdk: &str) {
    let update = std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1");
    let shapes: Vec<&Shape> = Catalog::builtin()
        .iter()
        .filter(|s| sdk_id(&s.id) == sdk)
        .collect();
    assert!(!shapes.is_empty(), "no builtin shapes for SDK {sdk:?}");
    let mut failures = Vec::new();
    for shape in shapes {
        for case in cases_for(shape) {
            let actual = show(&shape.id, case);
            let path = golden_path(&shape.id, case);
            if update {
                std::fs::create_dir_all(golden_dir())
                    .unwrap_or_else(|e| panic!("cannot create {}: {e}", golden_dir().display()));
                std::fs::write(&path, &actual)
                    .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
                continue;
            }
            match std::fs::read_to_string(&path) {
                Ok(expected) if expected == actual => {}
                Ok(expected) => failures.push(format!(
                    "{} differs\n--- golden\n{expected}--- rendered\n{actual}",
                    path.display()
                )),
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatch(es) (UPDATE_GOLDEN=1 rewrites them; review every change against the facts doc):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}
