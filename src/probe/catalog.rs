//! The builtin shape catalog (one data file per SDK under `shapes/`, compiled in) plus the
//! user's `[[shape]]` entries from the config, which may extend builtin ones.

use super::shape::{resolve_all, Shape, ShapeError, ShapeSpec};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The builtin shape files, in load order (a file may extend shapes of earlier files).
const BUILTIN_FILES: &[(&str, &str)] = &[
    ("go.toml", include_str!("../../shapes/go.toml")),
    ("python.toml", include_str!("../../shapes/python.toml")),
    ("nodejs.toml", include_str!("../../shapes/nodejs.toml")),
    ("js.toml", include_str!("../../shapes/js.toml")),
    (
        "js-browser.toml",
        include_str!("../../shapes/js-browser.toml"),
    ),
    ("rust.toml", include_str!("../../shapes/rust.toml")),
    ("java.toml", include_str!("../../shapes/java.toml")),
    ("dotnet.toml", include_str!("../../shapes/dotnet.toml")),
    ("ruby.toml", include_str!("../../shapes/ruby.toml")),
    ("php.toml", include_str!("../../shapes/php.toml")),
    ("elixir.toml", include_str!("../../shapes/elixir.toml")),
    ("flutter.toml", include_str!("../../shapes/flutter.toml")),
    ("ios.toml", include_str!("../../shapes/ios.toml")),
    ("kotlin.toml", include_str!("../../shapes/kotlin.toml")),
];

/// One shapes file: a list of `[[shape]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ShapeFile {
    #[serde(default)]
    shape: Vec<ShapeSpec>,
}

/// A set of resolved shapes, looked up by id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    shapes: Vec<Shape>,
    index: HashMap<String, usize>,
    specs: HashMap<String, ShapeSpec>,
}

impl Catalog {
    /// The builtin Flagsmith catalog, parsed once.
    pub fn builtin() -> &'static Catalog {
        static BUILTIN: OnceLock<Catalog> = OnceLock::new();
        BUILTIN.get_or_init(|| match load_builtin() {
            Ok(c) => c,
            // The builtin files are tested data; a broken one is a bug caught by the catalog test.
            Err(e) => {
                tracing::error!(error = %e, "builtin shape catalog is broken");
                Catalog::default()
            }
        })
    }

    /// This catalog plus user shapes (which may extend any shape already here).
    pub fn with(&self, specs: Vec<ShapeSpec>) -> Result<Catalog, ShapeError> {
        let mut out = self.clone();
        for (spec, shape) in resolve_all(specs, &self.specs)? {
            out.index.insert(shape.id.clone(), out.shapes.len());
            out.specs.insert(spec.id.clone(), spec);
            out.shapes.push(shape);
        }
        Ok(out)
    }

    /// The shape with this id.
    pub fn get(&self, id: &str) -> Option<&Shape> {
        self.index.get(id).map(|&i| &self.shapes[i])
    }

    /// Every shape in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Shape> {
        self.shapes.iter()
    }

    /// How many shapes there are.
    pub fn len(&self) -> usize {
        self.shapes.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.shapes.is_empty()
    }
}

/// Parses and resolves every builtin file.
pub fn load_builtin() -> Result<Catalog, ShapeError> {
    let mut catalog = Catalog::default();
    for (name, text) in BUILTIN_FILES {
        let file: ShapeFile = toml::from_str(text).map_err(|e| ShapeError {
            id: (*name).to_owned(),
            message: e.to_string(),
        })?;
        catalog = catalog.with(file.shape)?;
    }
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_loads_with_unique_ids() {
        let catalog = load_builtin().map_err(|e| e.to_string());
        let catalog = catalog.as_ref().map_err(String::as_str);
        assert!(catalog.is_ok(), "{catalog:?}");
    }
}
