//! Resolving shape specs into concrete [`Shape`]s: `extends`, required fields, and the checks.

use super::spec::{
    BaseJoin, BodySpec, CaptureSource, Cond, ExpectSpec, FieldSpec, QueryParam, RepeatSpec,
    Runtime, ShapeSpec, StepSpec, VariantSpec,
};
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
    /// A sequence's requests in order; empty for a shape of one request (`parts`).
    pub steps: Vec<Step>,
}

/// One resolved request of a sequence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Unique name in the shape.
    pub name: String,
    /// The request when no variant matches (path ignored when `url` is set).
    pub parts: RequestParts,
    /// URL template used instead of base URL and path.
    pub url: Option<String>,
    /// Conditional alternatives, first match wins.
    pub variants: Vec<Variant>,
    /// What this step's answer must be (a probe's `expect` overlays the last step's).
    pub expect: ExpectSpec,
    /// Values read from the answer for later steps.
    pub capture: Vec<Capture>,
    /// Skip unless this capture (`<step>.<name>`) is set.
    pub only_if: Option<String>,
    /// Follow `Link` pages after the step passes.
    pub repeat: Option<RepeatSpec>,
    /// Its templates use earlier answers, so it is rendered when the run gets there.
    pub deferred: bool,
}

/// One value a step reads from its answer: `{<step>.<name>}` for later steps.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Capture {
    /// Variable name after the step's name.
    pub name: String,
    /// Where it comes from.
    pub source: CaptureSource,
}

impl Shape {
    /// Whether the shape is a sequence of requests rather than one.
    pub fn is_sequence(&self) -> bool {
        !self.steps.is_empty()
    }
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
            preflight_headers,
            step
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
        let (parts, variants) = request_parts(
            need(&self.method, "method")?,
            self.path.clone().unwrap_or_default(),
            self.query.clone().unwrap_or_default(),
            self.headers.as_deref().unwrap_or_default(),
            self.body.clone(),
            self.variant.as_deref().unwrap_or_default(),
        )?;
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
        let steps = self.resolve_steps()?;
        Ok(Shape {
            runtime,
            preflight_headers,
            steps,
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

/// The request parts and variants from a shape's (or a step's) request fields.
fn request_parts(
    method: String,
    path: String,
    query: Vec<QueryParam>,
    headers: &[Vec<String>],
    body: Option<BodySpec>,
    variant_specs: &[VariantSpec],
) -> Result<(RequestParts, Vec<Variant>), String> {
    let parts = RequestParts {
        method: method.to_ascii_uppercase(),
        path,
        query,
        headers: parse_headers(headers)?,
        body: body.filter(|b| !b.none),
    };
    check_method(&parts.method)?;
    if let Some(body) = &parts.body {
        check_body(body)?;
    }
    let mut variants = Vec::new();
    for v in variant_specs {
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
    Ok((parts, variants))
}

impl ShapeSpec {
    /// Resolves `[[shape.step]]`: each step inherits the request fields it leaves unset, and
    /// every `{<step>.<name>}` it uses must be captured by an earlier step.
    fn resolve_steps(&self) -> Result<Vec<Step>, String> {
        let mut steps: Vec<Step> = Vec::new();
        for spec in self.step.iter().flatten() {
            let step = self
                .resolve_step(spec, &steps)
                .map_err(|e| format!("step {:?}: {e}", spec.name))?;
            steps.push(step);
        }
        Ok(steps)
    }

    fn resolve_step(&self, spec: &StepSpec, earlier: &[Step]) -> Result<Step, String> {
        let name = &spec.name;
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err("a step name is lower-case letters, digits and `_`".into());
        }
        if earlier.iter().any(|s| &s.name == name) {
            return Err("another step has this name".into());
        }
        if spec.url.is_some() && spec.path.is_some() {
            return Err("a step has `url` or `path`, not both".into());
        }
        let method = spec
            .method
            .clone()
            .or_else(|| self.method.clone())
            .filter(|m| !m.trim().is_empty())
            .ok_or("method is required")?;
        let (parts, variants) = request_parts(
            method,
            spec.path
                .clone()
                .or_else(|| self.path.clone())
                .unwrap_or_default(),
            spec.query
                .clone()
                .or_else(|| self.query.clone())
                .unwrap_or_default(),
            spec.headers
                .as_deref()
                .or(self.headers.as_deref())
                .unwrap_or_default(),
            spec.body.clone().or_else(|| self.body.clone()),
            spec.variant
                .as_deref()
                .or(self.variant.as_deref())
                .unwrap_or_default(),
        )?;
        let mut capture = Vec::new();
        for (var, source) in spec.capture.iter().flatten() {
            if var.is_empty() || var.contains(['.', '{', '}']) {
                return Err(format!("capture name {var:?} must be a plain word"));
            }
            match source {
                CaptureSource::Json(path) => {
                    crate::probe::assert::JsonPath::parse(path)
                        .map_err(|e| format!("capture {var}: {e}"))?;
                }
                CaptureSource::Link(rel) | CaptureSource::Header(rel) if rel.trim().is_empty() => {
                    return Err(format!(
                        "capture {var} needs a link relation or header name"
                    ));
                }
                _ => {}
            }
            capture.push(Capture {
                name: var.clone(),
                source: source.clone(),
            });
        }
        let captured = |reference: &str| {
            reference.split_once('.').is_some_and(|(step, var)| {
                earlier
                    .iter()
                    .any(|s| s.name == step && s.capture.iter().any(|c| c.name == var))
            })
        };
        if let Some(cond) = &spec.only_if {
            if !captured(cond) {
                return Err(format!(
                    "only_if = {cond:?} names no capture of an earlier step (write <step>.<name>)"
                ));
            }
        }
        if let Some(repeat) = &spec.repeat {
            if repeat.link.trim().is_empty() {
                return Err("repeat.link needs a link relation such as \"next\"".into());
            }
            if !(1..=100).contains(&repeat.max) {
                return Err(format!("repeat.max is {}, must be 1 to 100", repeat.max));
            }
        }
        let mut deferred = false;
        for reference in step_templates(spec.url.as_deref(), &parts, &variants)
            .iter()
            .flat_map(|t| template_names(t))
            .filter(|n| n.contains('.'))
        {
            if !captured(&reference) {
                return Err(format!(
                    "{{{reference}}} names no capture of an earlier step"
                ));
            }
            deferred = true;
        }
        Ok(Step {
            name: name.clone(),
            parts,
            url: spec.url.clone(),
            variants,
            expect: spec
                .expect
                .clone()
                .or_else(|| self.expect.clone())
                .unwrap_or_default(),
            capture,
            only_if: spec.only_if.clone(),
            repeat: spec.repeat.clone(),
            deferred,
        })
    }
}

/// Every template a step's request can render: URL, path, query values, headers, bodies.
fn step_templates(url: Option<&str>, parts: &RequestParts, variants: &[Variant]) -> Vec<String> {
    let mut out: Vec<String> = url.map(str::to_owned).into_iter().collect();
    for p in std::iter::once(parts).chain(variants.iter().map(|v| &v.parts)) {
        out.push(p.path.clone());
        out.extend(p.query.iter().map(|q| q.value.clone()));
        out.extend(p.headers.iter().map(|h| h.value.clone()));
        if let Some(body) = &p.body {
            out.extend(body.template.clone());
            body_templates(body.json.iter().flatten(), &mut out);
            body_templates(body.trait_fields.iter().flatten(), &mut out);
        }
    }
    out
}

fn body_templates<'a>(fields: impl Iterator<Item = &'a FieldSpec>, out: &mut Vec<String>) {
    for f in fields {
        out.extend(f.template.clone());
        if let Some(var) = &f.var {
            out.push(format!("{{{var}}}"));
        }
        body_templates(f.fields.iter().flatten(), out);
    }
}

/// The variable names a template refers to (`{name}`; `{{` and `}}` are literal braces).
pub(crate) fn template_names(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{").or_else(|| tail.strip_prefix("}}")) {
            rest = after;
        } else if let Some(after) = tail.strip_prefix('{') {
            let Some(end) = after.find('}') else { break };
            names.push(after[..end].to_owned());
            rest = &after[end + 1..];
        } else {
            rest = &tail[1..];
        }
    }
    names
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
