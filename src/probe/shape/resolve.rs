//! Resolving shape specs into concrete [`Shape`]s: `extends`, required fields, and the checks.

use super::spec::{BaseJoin, BodySpec, Cond, ExpectSpec, QueryParam, Runtime, ShapeSpec};
use serde::Serialize;
use std::collections::HashMap;

/// One header: name, value template and the conditions under which it is sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeaderSpec {
    /// Name as the SDK spells it.
    pub name: String,
    /// Value template.
    pub value: String,
    /// Conditions that must all hold.
    pub when: Vec<Cond>,
}

/// The request parts a variant can replace.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestParts {
    /// HTTP method, upper case.
    pub method: String,
    /// Path relative to the base URL.
    pub path: String,
    /// Query parameters in order.
    pub query: Vec<QueryParam>,
    /// Headers in wire order.
    pub headers: Vec<HeaderSpec>,
    /// Body, if any.
    pub body: Option<BodySpec>,
}

/// A resolved variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Variant {
    /// Conditions that must all hold.
    pub when: Vec<Cond>,
    /// The full request parts used when it matches.
    pub parts: RequestParts,
}

/// A fully resolved shape, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shape {
    /// Unique id.
    pub id: String,
    /// Human SDK name (`Go`).
    pub sdk: String,
    /// SDK release reproduced.
    pub sdk_version: String,
    /// Operation id (`identify`).
    pub operation: String,
    /// Provenance or remarks.
    pub notes: String,
    /// How paths join the base URL.
    pub base_join: BaseJoin,
    /// Base URL for `shapes show` and the gate.
    pub default_base_url: Option<String>,
    /// The request when no variant matches.
    pub parts: RequestParts,
    /// Conditional alternatives, first match wins.
    pub variants: Vec<Variant>,
    /// Default variables.
    pub defaults: serde_json::Map<String, serde_json::Value>,
    /// Default expectations.
    pub expect: ExpectSpec,
    /// Where the SDK runs.
    pub runtime: Runtime,
    /// A browser shape's preflight headers (empty for server shapes).
    pub preflight_headers: Vec<HeaderSpec>,
}

/// Why a set of shape specs could not be resolved.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("shape {id}: {message}")]
pub struct ShapeError {
    /// The offending shape's id.
    pub id: String,
    /// What is wrong.
    pub message: String,
}

impl ShapeSpec {
    /// Fills every unset field of `self` from `base` (the `extends` rule).
    fn inherit(mut self, base: &ShapeSpec) -> ShapeSpec {
        macro_rules! take {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = base.$f.clone(); } )* };
        }
        take!(
            sdk,
            sdk_version,
            operation,
            notes,
            method,
            path,
            base_join,
            default_base_url,
            query,
            headers,
            body,
            defaults,
            expect,
            variant,
            runtime,
            preflight_headers
        );
        self
    }
}

/// Resolves specs in order: an `extends` may name any shape defined earlier or in `known`.
pub fn resolve_all(
    specs: Vec<ShapeSpec>,
    known: &HashMap<String, ShapeSpec>,
) -> Result<Vec<(ShapeSpec, Shape)>, ShapeError> {
    let mut seen: HashMap<String, ShapeSpec> = HashMap::new();
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let err = |message: String| ShapeError {
            id: spec.id.clone(),
            message,
        };
        if spec.id.trim().is_empty() {
            return Err(err("id must not be empty".into()));
        }
        if seen.contains_key(&spec.id) || known.contains_key(&spec.id) {
            return Err(err("duplicate shape id".into()));
        }
        let flat = match &spec.extends {
            None => spec.clone(),
            Some(base_id) => {
                let base = seen
                    .get(base_id)
                    .or_else(|| known.get(base_id))
                    .ok_or_else(|| err(format!("extends unknown shape {base_id:?}")))?;
                spec.clone().inherit(base)
            }
        };
        let shape = flat.to_shape().map_err(err)?;
        seen.insert(spec.id.clone(), flat.clone());
        out.push((flat, shape));
    }
    Ok(out)
}

impl ShapeSpec {
    /// Checks that every required field is present and turns the spec into a [`Shape`].
    fn to_shape(&self) -> Result<Shape, String> {
        let need = |v: &Option<String>, name: &str| {
            v.clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| format!("{name} is required"))
        };
        let parts = RequestParts {
            method: need(&self.method, "method")?.to_ascii_uppercase(),
            path: self.path.clone().unwrap_or_default(),
            query: self.query.clone().unwrap_or_default(),
            headers: parse_headers(self.headers.as_deref().unwrap_or_default())?,
            body: self.body.clone().filter(|b| !b.none),
        };
        check_method(&parts.method)?;
        if let Some(body) = &parts.body {
            check_body(body)?;
        }
        let mut variants = Vec::new();
        for v in self.variant.iter().flatten() {
            if v.when.is_empty() {
                return Err("a variant needs at least one `when` condition".into());
            }
            let vp = RequestParts {
                method: v
                    .method
                    .clone()
                    .map(|m| m.to_ascii_uppercase())
                    .unwrap_or_else(|| parts.method.clone()),
                path: v.path.clone().unwrap_or_else(|| parts.path.clone()),
                query: v.query.clone().unwrap_or_else(|| parts.query.clone()),
                headers: match &v.headers {
                    Some(h) => parse_headers(h)?,
                    None => parts.headers.clone(),
                },
                body: match &v.body {
                    Some(b) if b.none => None,
                    Some(b) => Some(b.clone()),
                    None => parts.body.clone(),
                },
            };
            check_method(&vp.method)?;
            if let Some(body) = &vp.body {
                check_body(body)?;
            }
            variants.push(Variant {
                when: v.when.clone(),
                parts: vp,
            });
        }
        let runtime = self.runtime.unwrap_or_default();
        let preflight_headers =
            parse_headers(self.preflight_headers.as_deref().unwrap_or_default())?;
        match runtime {
            Runtime::Browser if preflight_headers.is_empty() => {
                return Err("a browser shape needs preflight_headers".into())
            }
            Runtime::Server if !preflight_headers.is_empty() => {
                return Err("preflight_headers need runtime = \"browser\"".into())
            }
            _ => {}
        }
        if runtime == Runtime::Browser
            && !self
                .defaults
                .as_ref()
                .is_some_and(|d| d.contains_key("origin"))
        {
            return Err("a browser shape needs a default `origin` (the page's origin)".into());
        }
        Ok(Shape {
            runtime,
            preflight_headers,
            id: self.id.clone(),
            sdk: self.sdk.clone().unwrap_or_else(|| "custom".into()),
            sdk_version: self.sdk_version.clone().unwrap_or_default(),
            operation: need(&self.operation, "operation")?,
            notes: self.notes.clone().unwrap_or_default(),
            base_join: self.base_join.unwrap_or_default(),
            default_base_url: self.default_base_url.clone(),
            parts,
            variants,
            defaults: self.defaults.clone().unwrap_or_default(),
            expect: self.expect.clone().unwrap_or_default(),
        })
    }
}

fn check_method(method: &str) -> Result<(), String> {
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("method {method:?} is not an HTTP method"));
    }
    Ok(())
}

fn check_body(body: &BodySpec) -> Result<(), String> {
    match (&body.json, &body.template) {
        (Some(_), Some(_)) => Err("body has both `json` and `template`; pick one".into()),
        (None, None) => Err("body needs `json`, `template` or `none = true`".into()),
        _ => Ok(()),
    }
}

fn parse_headers(raw: &[Vec<String>]) -> Result<Vec<HeaderSpec>, String> {
    raw.iter()
        .map(|h| match h.as_slice() {
            [name, value] => Ok(HeaderSpec {
                name: name.clone(),
                value: value.clone(),
                when: Vec::new(),
            }),
            [name, value, conds] => Ok(HeaderSpec {
                name: name.clone(),
                value: value.clone(),
                when: Cond::parse_list(conds)?,
            }),
            _ => Err(format!(
                "header {h:?} must be [name, value] or [name, value, conditions]"
            )),
        })
        .collect()
}
