//! The whole builtin catalog: every shape has pinned goldens, and the fleet-wide facts hold.

use super::golden::{
    body_json, cases_for, golden_dir, golden_path, is_identify, is_jan_2024, rendered,
    rendered_all, sdk_id, show, Case, BASE_URL,
};
use mimic::probe::catalog::load_builtin;
use mimic::probe::Catalog;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const SDKS: [&str; 14] = [
    "go",
    "python",
    "nodejs",
    "js",
    "js-browser",
    "rust",
    "java",
    "dotnet",
    "ruby",
    "php",
    "elixir",
    "flutter",
    "ios",
    "kotlin",
];
const SERVER_SDKS: [&str; 9] = [
    "go", "python", "nodejs", "rust", "java", "dotnet", "ruby", "php", "elixir",
];

#[test]
fn the_builtin_catalog_loads() {
    let loaded = load_builtin().map(|c| c.len());
    assert!(matches!(loaded, Ok(n) if n > 0), "{loaded:?}");
    assert_eq!(Catalog::builtin().len(), loaded.unwrap_or_default());
}

#[test]
fn every_builtin_shape_has_its_golden_requests() {
    let mut missing = Vec::new();
    let mut expected = BTreeSet::new();
    for shape in Catalog::builtin().iter() {
        for case in cases_for(shape) {
            let path = golden_path(&shape.id, case);
            if !path.is_file() {
                missing.push(path.display().to_string());
            }
            expected.insert(path);
        }
    }
    assert!(
        missing.is_empty(),
        "shapes without a pinned request: {missing:#?}"
    );
    let entries = std::fs::read_dir(golden_dir())
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", golden_dir().display()));
    let orphans: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| !expected.contains(p))
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        orphans.is_empty(),
        "golden files of no builtin shape: {orphans:#?}"
    );
}

#[test]
fn every_sdk_has_flags_and_identify_and_the_server_sdks_the_environment_document() {
    let ids: BTreeSet<&str> = Catalog::builtin().iter().map(|s| s.id.as_str()).collect();
    for sdk in SDKS {
        for op in ["flags", "identify"] {
            let id = format!("flagsmith.{sdk}.{op}");
            assert!(ids.contains(id.as_str()), "missing {id}");
        }
        let doc = format!("flagsmith.{sdk}.environment_document");
        assert_eq!(
            ids.contains(doc.as_str()),
            SERVER_SDKS.contains(&sdk),
            "{doc}: only server-side SDKs fetch the environment document"
        );
    }
    let unknown: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| !SDKS.contains(&sdk_id(id)))
        .collect();
    assert!(unknown.is_empty(), "shapes of unknown SDKs: {unknown:?}");
}

#[test]
fn every_shape_defaults_to_the_edge_api_and_the_standard_expectations() {
    for shape in Catalog::builtin().iter() {
        let base = shape.default_base_url.as_deref();
        let want = if sdk_id(&shape.id) == "php" {
            "https://edge.api.flagsmith.com/api/v1"
        } else {
            "https://edge.api.flagsmith.com/api/v1/"
        };
        assert_eq!(base, Some(want), "{}", shape.id);
        let status = shape.expect.status.clone().unwrap_or_default();
        let json_has = shape.expect.json_has.clone().unwrap_or_default();
        match shape.operation.as_str() {
            "flags" => assert_eq!((status, json_has), (vec![200], vec![]), "{}", shape.id),
            "identify" => {
                assert_eq!(
                    (status, json_has),
                    (vec![200], vec!["flags".to_owned()]),
                    "{}",
                    shape.id
                );
                assert_eq!(
                    shape.defaults.get("identifier"),
                    Some(&json!("mimic-probe")),
                    "{}",
                    shape.id
                );
            }
            "environment_document" => assert_eq!(
                (status, json_has),
                (vec![200], vec!["api_key".to_owned()]),
                "{}",
                shape.id
            ),
            _ => {}
        }
    }
}

#[test]
fn jan_2024_releases_never_send_transient() {
    let transient_caller = Case::E.vars();
    let mut checked = 0;
    for shape in Catalog::builtin().iter().filter(|s| is_jan_2024(s)) {
        let mut cases: Vec<_> = cases_for(shape).iter().map(|c| c.vars()).collect();
        if is_identify(shape) {
            cases.push(transient_caller.clone());
        }
        for vars in cases {
            let text = mimic::probe::render::show_text(&rendered_all(&shape.id, &vars));
            assert!(
                !text.contains("transient"),
                "{} sends transient:\n{text}",
                shape.id
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
}

/// Doc §4.1: a caller with no traits gets an identify body without a `traits` key from Go (every
/// version), Elixir (every version) and Flutter ≥ 6.0, and from no other SDK. SDKs that identify
/// by GET send no body at all and are not in the list.
#[test]
fn only_go_elixir_and_flutter_6_omit_the_traits_key_for_a_caller_without_traits() {
    let omitting: BTreeSet<String> = Catalog::builtin()
        .iter()
        .filter(|s| s.operation == "identify")
        .filter(|s| {
            let r = rendered(&s.id, Case::B);
            r.body.is_some()
                && matches!(body_json(&r), Value::Object(m) if !m.contains_key("traits"))
        })
        .map(|s| s.id.clone())
        .collect();
    let expected: BTreeSet<String> = [
        "flagsmith.go.identify",
        "flagsmith.go@3.3.0.identify",
        "flagsmith.elixir.identify",
        "flagsmith.elixir@2.0.0.identify",
        "flagsmith.flutter.identify",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    assert_eq!(omitting, expected);
}

#[test]
fn every_newest_identify_shape_renders_a_transient_caller() {
    for shape in Catalog::builtin()
        .iter()
        .filter(|s| is_identify(s) && !is_jan_2024(s))
    {
        let text = show(&shape.id, Case::E);
        assert!(
            text.contains("transient"),
            "{} drops transient:\n{text}",
            shape.id
        );
    }
}

#[test]
fn golden_files_are_exactly_what_mimic_shapes_show_prints() {
    for (id, case) in [
        ("flagsmith.elixir.identify", Case::C),
        ("flagsmith.js.identify", Case::B),
        ("flagsmith.js-browser.identify", Case::C),
        ("flagsmith.dotnet@5.2.2.identify", Case::D2),
        ("flagsmith.rust.environment_document", Case::F),
        ("flagsmith.go.environment_document", Case::F),
        ("flagsmith.nodejs@3.2.0.environment_document", Case::F),
    ] {
        let vars = Value::Object(case.vars()).to_string();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_mimic"))
            .args([
                "shapes",
                "show",
                id,
                "--vars",
                &vars,
                "--base-url",
                BASE_URL,
            ])
            .output()
            .unwrap_or_else(|e| panic!("cannot run mimic: {e}"));
        assert!(
            out.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let golden =
            std::fs::read_to_string(golden_path(id, case)).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            golden,
            "{id} {case:?}"
        );
    }
}
