//! The shape schema: how one SDK phrases one request, as data (builtin files or `[[shape]]`).
//!
//! A shape is loaded from TOML into [`ShapeSpec`] (every field optional, so `extends` can
//! inherit), then resolved into a [`Shape`] whose fields are all concrete. Rendering a shape
//! with variables lives in `render.rs`; this file only owns the schema and its resolution.

use super::json_text::JsonStyle;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A shape as written in a file: every field optional so `extends` can fill the gaps.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapeSpec {
    /// Unique id, e.g. `flagsmith.go.identify` or `flagsmith.go@3.3.0.identify`.
    pub id: String,
    /// Another shape's id whose fields this one starts from.
    pub extends: Option<String>,
    /// Human SDK name, e.g. `Go`.
    pub sdk: Option<String>,
    /// The SDK release whose bytes this shape reproduces; `{sdk_version}` in templates.
    pub sdk_version: Option<String>,
    /// Operation id, e.g. `identify`, `flags`, `environment_document`.
    pub operation: Option<String>,
    /// One sentence on where the facts come from or what is special.
    pub notes: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// Path relative to the base URL, e.g. `identities/`.
    pub path: Option<String>,
    /// How the path is joined to the base URL.
    pub base_join: Option<BaseJoin>,
    /// Base URL used by `mimic shapes show` and the deploy gate when none is given.
    pub default_base_url: Option<String>,
    /// Query parameters in order.
    pub query: Option<Vec<QueryParam>>,
    /// Headers in wire order: `[name, value]` or `[name, value, "cond,cond"]`.
    pub headers: Option<Vec<Vec<String>>>,
    /// The request body; absent means none.
    pub body: Option<BodySpec>,
    /// Default variables, overridden by the probe's.
    pub defaults: Option<serde_json::Map<String, serde_json::Value>>,
    /// Default expectations, overridden field by field by the probe's.
    pub expect: Option<ExpectSpec>,
    /// Conditional overrides: the first whose `when` holds replaces the fields it sets.
    pub variant: Option<Vec<VariantSpec>>,
}

/// A conditional override of a shape's request parts.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Conditions that must all hold, e.g. `["traits_empty"]`.
    pub when: Vec<Cond>,
    /// Replacement method.
    pub method: Option<String>,
    /// Replacement path.
    pub path: Option<String>,
    /// Replacement query.
    pub query: Option<Vec<QueryParam>>,
    /// Replacement headers.
    pub headers: Option<Vec<Vec<String>>>,
    /// Replacement body (`{ none = true }` removes it).
    pub body: Option<BodySpec>,
}

/// How a path is joined to the base URL, as each SDK does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BaseJoin {
    /// Add a `/` to the base if missing, then append (Python, Node, JS, PHP).
    #[default]
    EnsureSlash,
    /// Append verbatim, no slash added (Go, Rust).
    Concat,
    /// Resolve as a relative URL reference: a base without `/` loses its last segment (Java, .NET).
    Relative,
}

/// One query parameter.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueryParam {
    /// Parameter name, sent as written.
    pub name: String,
    /// Value template, e.g. `{identifier}`.
    pub value: String,
    /// How the value is percent-encoded.
    #[serde(default)]
    pub encode: QueryEncode,
    /// Conditions under which the parameter is sent.
    #[serde(default)]
    pub when: Vec<Cond>,
}

/// Percent-encoding rules for query values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryEncode {
    /// JavaScript's `encodeURIComponent`.
    #[default]
    Component,
    /// HTML form encoding: space as `+` (Python requests, OkHttp forms).
    Form,
    /// Sent as is, not encoded (.NET 5.x identifier).
    Raw,
}

/// A request body.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BodySpec {
    /// Explicitly no body (used by variants to drop an inherited one).
    #[serde(default)]
    pub none: bool,
    /// A JSON object built field by field, in this order.
    pub json: Option<Vec<FieldSpec>>,
    /// How each entry of a `traits` variable is written, in this order.
    #[serde(rename = "trait")]
    pub trait_fields: Option<Vec<FieldSpec>>,
    /// A text body template with `{var}` placeholders (for non-JSON or hand-written bodies).
    pub template: Option<String>,
    /// The SDK's JSON serialiser conventions.
    #[serde(default)]
    pub style: JsonStyle,
}

/// One key of a JSON object body (or of a trait object).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The JSON key.
    pub key: String,
    /// Variable (or, inside `trait`, trait part `key`/`value`/`transient`) the value comes from.
    pub var: Option<String>,
    /// A constant JSON value.
    pub literal: Option<serde_json::Value>,
    /// A string template with `{var}` placeholders.
    pub template: Option<String>,
    /// A nested object built from these fields.
    pub fields: Option<Vec<FieldSpec>>,
    /// Wrap the value in a one-element array.
    #[serde(default)]
    pub array: bool,
    /// How scalars are encoded.
    #[serde(default)]
    pub encode: ValueEncode,
    /// What to write when the variable is missing or null (unset: the variable is required).
    pub absent: Option<Fill>,
    /// What to write when the value is an empty list or map.
    #[serde(default)]
    pub empty: Keep,
    /// What to write when the value is `false`.
    #[serde(default, rename = "false")]
    pub if_false: Keep,
}

/// Scalar encodings seen across SDKs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueEncode {
    /// As given: a number stays a JSON number.
    #[default]
    Native,
    /// Every scalar as a JSON string (`42` → `"42"`): typed SDKs, PHP coercion, Kotlin traits.
    String,
    /// Elixir's `{"value": v, "type": "string"|"decimal"|"boolean"}`, decimals as strings.
    Typed,
}

/// The value written for a missing variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fill {
    /// Leave the key out.
    Omit,
    /// Write `null`.
    Null,
    /// Write an empty list `[]`.
    Empty,
    /// Write `false`.
    False,
}

/// Whether an empty or false value is written or its key dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Keep {
    /// Write it as it is.
    #[default]
    Keep,
    /// Leave the key out.
    Omit,
    /// Write `null` instead.
    Null,
}

/// A condition on the variables or the request, used by variants, query params and headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cond {
    /// The request has a body.
    Body,
    /// The request has no body.
    NoBody,
    /// No `traits` variable (or null).
    TraitsAbsent,
    /// A `traits` variable is given, even an empty one.
    TraitsGiven,
    /// `traits` absent or empty.
    TraitsEmpty,
    /// `traits` has at least one entry.
    TraitsNonempty,
    /// `transient` is true.
    Transient,
    /// `transient` is absent or false.
    NotTransient,
    /// `identifier` is a JSON number.
    NumericIdentifier,
}

impl Cond {
    /// Parses the comma-separated condition list of a header's third element.
    pub fn parse_list(text: &str) -> Result<Vec<Cond>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                serde_json::from_value(serde_json::Value::String(s.to_owned()))
                    .map_err(|_| format!("unknown condition {s:?}"))
            })
            .collect()
    }
}

/// Expectations on a run's answer; every field optional so a probe can override one.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// Acceptable status codes.
    pub status: Option<Vec<u16>>,
    /// JSON paths that must exist, e.g. `flags` or `flags[0].feature.name`.
    pub json_has: Option<Vec<String>>,
    /// JSON paths that must equal a value.
    pub json_equals: Option<serde_json::Map<String, serde_json::Value>>,
    /// Slower than this (humantime) passes as `degraded`.
    pub degraded_after: Option<String>,
}

impl ExpectSpec {
    /// `self` with every field `over` sets replaced.
    pub fn overlay(&self, over: &ExpectSpec) -> ExpectSpec {
        ExpectSpec {
            status: over.status.clone().or_else(|| self.status.clone()),
            json_has: over.json_has.clone().or_else(|| self.json_has.clone()),
            json_equals: over
                .json_equals
                .clone()
                .or_else(|| self.json_equals.clone()),
            degraded_after: over
                .degraded_after
                .clone()
                .or_else(|| self.degraded_after.clone()),
        }
    }
}

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
            variant
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
        Ok(Shape {
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
