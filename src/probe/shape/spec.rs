//! The shape schema as written in TOML: every field optional so `extends` can fill the gaps.

use crate::probe::json_text::JsonStyle;
use serde::{Deserialize, Serialize};

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
    /// Where the SDK runs: `server` (default: the request goes out as written) or `browser` (a
    /// page's cross-origin request: a CORS preflight first when the Fetch standard needs one,
    /// and the answers judged as a browser would).
    pub runtime: Option<Runtime>,
    /// A browser shape's preflight headers in wire order, like `headers`. Templates may use
    /// `{cors_request_method}` and `{cors_request_headers}` (the CORS-unsafe header names of
    /// the real request); condition `cors_unsafe_headers` holds when there are any.
    pub preflight_headers: Option<Vec<Vec<String>>>,
    /// The requests of a sequence, in order (absent: the shape is one request). Each step
    /// inherits every request field it leaves unset from the shape's top level.
    pub step: Option<Vec<StepSpec>>,
}

/// One request of a sequence as written: `[[shape.step]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// Unique in the shape, `[a-z0-9_]+`; messages and `shapes show` name the step by it.
    pub name: String,
    /// HTTP method.
    pub method: Option<String>,
    /// Path relative to the base URL.
    pub path: Option<String>,
    /// A URL template used instead of base URL and path, e.g. `{document.next}`; a relative
    /// reference is resolved against the base URL.
    pub url: Option<String>,
    /// Query parameters in order.
    pub query: Option<Vec<QueryParam>>,
    /// Headers in wire order.
    pub headers: Option<Vec<Vec<String>>>,
    /// The request body.
    pub body: Option<BodySpec>,
    /// Conditional overrides, as at top level.
    pub variant: Option<Vec<VariantSpec>>,
    /// What this step's answer must be.
    pub expect: Option<ExpectSpec>,
    /// Values read from this step's answer, usable by later steps as `{<step>.<name>}`.
    pub capture: Option<std::collections::BTreeMap<String, CaptureSource>>,
    /// Skip this step (not a failure) unless this capture (`<step>.<name>`) is set.
    pub only_if: Option<String>,
    /// Send the step again while its answer links to a next page.
    pub repeat: Option<RepeatSpec>,
}

/// Where a captured value comes from in a step's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum CaptureSource {
    /// The target of the first `Link` header entry with this `rel` (RFC 8288), resolved
    /// against the request's URL.
    Link(String),
    /// The value at this JSON path of the body (a string as is, a number or bool as text).
    Json(String),
    /// The first value of this response header.
    Header(String),
}

/// Paging: after a step passes, follow its answer's `Link` of this `rel`, at most `max` times.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RepeatSpec {
    /// The link relation to follow, e.g. `next`.
    pub link: String,
    /// Most further pages fetched (1 to 100).
    pub max: u32,
}

/// Where an SDK's requests come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    /// A server or app process: the request is sent as written.
    #[default]
    Server,
    /// A web page on another origin: CORS applies.
    Browser,
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
    /// The real request of a browser shape has CORS-unsafe headers (preflight headers only).
    CorsUnsafeHeaders,
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
