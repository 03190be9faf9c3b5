//! Renders a shape with a probe's variables into the exact request bytes: method, URL, headers
//! in order, and the body text. Pure: no I/O, so `mimic shapes show` and the runner agree.

use super::body::render_body;
use super::shape::{Cond, HeaderSpec, QueryParam, RequestParts, Runtime, Shape, Step, Variant};
use super::url::{encode_query, join_url};
use serde::Serialize;
use serde_json::{Map, Value};

/// Variables a probe hands to a shape (`environment_key`, `identifier`, `traits`, ...).
pub type Vars = Map<String, Value>;

/// The exact request a shape sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenderedRequest {
    /// HTTP method.
    pub method: String,
    /// Absolute URL including the query.
    pub url: String,
    /// Headers in wire order, names as the SDK spells them.
    pub headers: Vec<(String, String)>,
    /// Body text byte for byte, if any.
    pub body: Option<String>,
    /// For a browser shape: the CORS preflight sent first (when the Fetch standard needs one).
    #[serde(skip)]
    pub preflight: Option<Box<RenderedRequest>>,
    /// For a browser shape: what the browser judges the answers by.
    #[serde(skip)]
    pub browser: Option<BrowserFacts>,
}

/// What a browser knows about a page's cross-origin request when it judges the answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserFacts {
    /// The page's origin, e.g. `https://app.example.com`.
    pub origin: String,
    /// The real request's method.
    pub method: String,
    /// Its CORS-unsafe header names: lower case, sorted, once each.
    pub unsafe_headers: Vec<String>,
}

/// Why a shape could not be rendered with the given variables.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A template or field needs a variable nobody set.
    #[error("missing variable {0:?}")]
    MissingVar(String),
    /// A variable has the wrong JSON type.
    #[error("variable {name:?} {problem}")]
    BadVar {
        /// The variable.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The shape itself is inconsistent (e.g. `traits` used without a `trait` spec).
    #[error("shape problem: {0}")]
    Shape(String),
}

/// Facts about the variables that conditions test.
struct Facts {
    traits: Option<usize>,
    transient: bool,
    numeric_identifier: bool,
    cors_unsafe: bool,
}

impl Facts {
    fn of(vars: &Vars) -> Result<Self, RenderError> {
        let traits = match vars.get("traits") {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m.len()),
            Some(_) => {
                return Err(RenderError::BadVar {
                    name: "traits".into(),
                    problem: "must be a table/object of trait key to value".into(),
                })
            }
        };
        let transient = match vars.get("transient") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(RenderError::BadVar {
                    name: "transient".into(),
                    problem: "must be true or false".into(),
                })
            }
        };
        let numeric_identifier = matches!(vars.get("identifier"), Some(Value::Number(_)));
        Ok(Self {
            traits,
            transient,
            numeric_identifier,
            cors_unsafe: false,
        })
    }

    fn holds(&self, cond: Cond, has_body: bool) -> bool {
        match cond {
            Cond::Body => has_body,
            Cond::NoBody => !has_body,
            Cond::TraitsAbsent => self.traits.is_none(),
            Cond::TraitsGiven => self.traits.is_some(),
            Cond::TraitsEmpty => self.traits.unwrap_or(0) == 0,
            Cond::TraitsNonempty => self.traits.unwrap_or(0) > 0,
            Cond::Transient => self.transient,
            Cond::NotTransient => !self.transient,
            Cond::NumericIdentifier => self.numeric_identifier,
            Cond::CorsUnsafeHeaders => self.cors_unsafe,
        }
    }

    fn all(&self, conds: &[Cond], has_body: bool) -> bool {
        conds.iter().all(|c| self.holds(*c, has_body))
    }
}

/// The shape's defaults overlaid with `vars`; nulls count as unset.
pub fn effective_vars(shape: &Shape, vars: &Vars) -> Vars {
    let mut merged = shape.defaults.clone();
    for (k, v) in vars {
        merged.insert(k.clone(), v.clone());
    }
    merged.retain(|_, v| !v.is_null());
    merged
        .entry("sdk_version")
        .or_insert_with(|| Value::String(shape.sdk_version.clone()));
    merged
}

/// Which request parts apply for these variables: the first matching variant, else the default.
fn select_parts<'a>(
    parts: &'a RequestParts,
    variants: &'a [Variant],
    facts: &Facts,
) -> &'a RequestParts {
    let default_has_body = parts.body.is_some();
    variants
        .iter()
        .find(|v| facts.all(&v.when, default_has_body))
        .map(|v| &v.parts)
        .unwrap_or(parts)
}

/// Renders the request `shape` sends against `base_url` with `vars` (merged with the shape's
/// defaults here). For a sequence this is its first step; [`render_sequence`] gives every step.
pub fn render(shape: &Shape, vars: &Vars, base_url: &str) -> Result<RenderedRequest, RenderError> {
    match shape.steps.first() {
        None => {
            let vars = effective_vars(shape, vars);
            render_parts(shape, &shape.parts, &shape.variants, None, &vars, base_url)
        }
        Some(_) => render_step(shape, 0, &with_placeholders(shape, vars), base_url),
    }
}

/// Renders step `index` of a sequence; `vars` holds the probe's variables and, for a step that
/// reads earlier answers, the captured `<step>.<name>` values.
pub fn render_step(
    shape: &Shape,
    index: usize,
    vars: &Vars,
    base_url: &str,
) -> Result<RenderedRequest, RenderError> {
    let step: &Step = shape
        .steps
        .get(index)
        .ok_or_else(|| RenderError::Shape(format!("no step {index}")))?;
    let vars = effective_vars(shape, vars);
    render_parts(
        shape,
        &step.parts,
        &step.variants,
        step.url.as_deref(),
        &vars,
        base_url,
    )
}

/// Every request a shape sends, in order, as `mimic shapes show` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// One entry for a one-request shape, one per step for a sequence.
    pub steps: Vec<RenderedStep>,
    /// Whether the shape is a sequence (printed with a heading per step).
    pub sequence: bool,
}

/// One step of a [`Rendered`] shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedStep {
    /// The step's name (the operation for a one-request shape).
    pub name: String,
    /// When it is skipped or repeated, e.g. `only if document.next; repeats while Link
    /// rel="next", at most 20`.
    pub note: Option<String>,
    /// The request; values from earlier answers stay as their placeholders (`{document.next}`).
    pub request: RenderedRequest,
}

/// Renders every request of `shape`; a later step's use of an earlier answer is shown as the
/// placeholder it is written with, since no answer exists yet.
pub fn render_sequence(
    shape: &Shape,
    vars: &Vars,
    base_url: &str,
) -> Result<Rendered, RenderError> {
    if shape.steps.is_empty() {
        return Ok(Rendered {
            steps: vec![RenderedStep {
                name: shape.operation.clone(),
                note: None,
                request: render(shape, vars, base_url)?,
            }],
            sequence: false,
        });
    }
    let vars = with_placeholders(shape, vars);
    let mut steps = Vec::with_capacity(shape.steps.len());
    for (i, step) in shape.steps.iter().enumerate() {
        steps.push(RenderedStep {
            name: step.name.clone(),
            note: step_note(step),
            request: render_step(shape, i, &vars, base_url)?,
        });
    }
    Ok(Rendered {
        steps,
        sequence: true,
    })
}

/// `vars` with every capture of every step bound to its own placeholder text.
fn with_placeholders(shape: &Shape, vars: &Vars) -> Vars {
    let mut out = vars.clone();
    for step in &shape.steps {
        for c in &step.capture {
            let name = format!("{}.{}", step.name, c.name);
            out.insert(name.clone(), Value::String(format!("{{{name}}}")));
        }
    }
    out
}

/// How a step is skipped or repeated, in words.
fn step_note(step: &Step) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(cond) = &step.only_if {
        parts.push(format!("only if {cond}"));
    }
    if let Some(r) = &step.repeat {
        parts.push(format!(
            "repeats while Link rel=\"{}\", at most {}",
            r.link, r.max
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Renders one request from its parts; `url` (a template) replaces base URL and path.
fn render_parts(
    shape: &Shape,
    default: &RequestParts,
    variants: &[Variant],
    url_template: Option<&str>,
    vars: &Vars,
    base_url: &str,
) -> Result<RenderedRequest, RenderError> {
    let facts = Facts::of(vars)?;
    let parts = select_parts(default, variants, &facts);
    let body = match &parts.body {
        Some(spec) => Some(render_body(spec, vars)?),
        None => None,
    };
    let has_body = body.is_some();
    let mut url = match url_template {
        None => join_url(base_url, &parts.path, shape.base_join),
        Some(t) => step_url(&fill_template(t, vars)?, base_url),
    };
    let query = render_query(&parts.query, vars, &facts, has_body)?;
    if !query.is_empty() {
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&query);
    }
    let headers = render_headers(&parts.headers, vars, &facts, has_body)?;
    let mut req = RenderedRequest {
        method: parts.method.clone(),
        url,
        headers,
        body,
        preflight: None,
        browser: None,
    };
    if shape.runtime == Runtime::Browser {
        with_preflight(shape, vars, facts, &mut req)?;
    }
    Ok(req)
}

/// A step's URL: absolute as is, a relative reference resolved against the base URL, and an
/// unfilled placeholder (`{document.next}` in `shapes show`) left as written.
fn step_url(text: &str, base_url: &str) -> String {
    if text.starts_with('{') || reqwest::Url::parse(text).is_ok() {
        return text.to_owned();
    }
    reqwest::Url::parse(base_url)
        .and_then(|b| b.join(text))
        .map(String::from)
        .unwrap_or_else(|_| text.to_owned())
}

fn render_headers(
    specs: &[HeaderSpec],
    vars: &Vars,
    facts: &Facts,
    has_body: bool,
) -> Result<Vec<(String, String)>, RenderError> {
    let mut headers = Vec::with_capacity(specs.len());
    for h in specs {
        if facts.all(&h.when, has_body) {
            headers.push((h.name.clone(), fill_template(&h.value, vars)?));
        }
    }
    Ok(headers)
}

/// Adds what a browser does around a page's request: the facts it judges answers by and, when
/// the Fetch standard needs one, the preflight (`OPTIONS` on the same URL, no body).
fn with_preflight(
    shape: &Shape,
    vars: &Vars,
    mut facts: Facts,
    req: &mut RenderedRequest,
) -> Result<(), RenderError> {
    let origin = match vars.get("origin") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(_) => {
            return Err(RenderError::BadVar {
                name: "origin".into(),
                problem: "must be the page's origin, e.g. \"https://app.example.com\"".into(),
            })
        }
        None => return Err(RenderError::MissingVar("origin".into())),
    };
    // The browser's own headers (Origin, Sec-*, User-Agent, ...) are skipped there.
    let unsafe_headers = super::cors::unsafe_header_names(&req.headers);
    if super::cors::needs_preflight(&req.method, &unsafe_headers) {
        let mut pre_vars = vars.clone();
        pre_vars.insert(
            "cors_request_method".into(),
            Value::String(req.method.clone()),
        );
        pre_vars.insert(
            "cors_request_headers".into(),
            Value::String(super::cors::request_headers_value(&unsafe_headers).unwrap_or_default()),
        );
        facts.cors_unsafe = !unsafe_headers.is_empty();
        req.preflight = Some(Box::new(RenderedRequest {
            method: "OPTIONS".into(),
            url: req.url.clone(),
            headers: render_headers(&shape.preflight_headers, &pre_vars, &facts, false)?,
            body: None,
            preflight: None,
            browser: None,
        }));
    }
    req.browser = Some(BrowserFacts {
        origin,
        method: req.method.clone(),
        unsafe_headers,
    });
    Ok(())
}

/// Every request `req` stands for, in the order they go out: the preflight (if any), then it.
pub fn steps(req: &RenderedRequest) -> Vec<&RenderedRequest> {
    let mut out: Vec<&RenderedRequest> = req.preflight.iter().map(|p| p.as_ref()).collect();
    out.push(req);
    out
}

/// Every request on the wire, in order: each step's preflight (if any), then the step.
pub fn wire_requests(r: &Rendered) -> Vec<&RenderedRequest> {
    r.steps.iter().flat_map(|s| steps(&s.request)).collect()
}

/// `mimic shapes show`'s text: each request as method and URL, headers, and body, a browser
/// shape's preflight first, a blank line between requests; a sequence gives each step a
/// heading (`# step 1 of 2: document`).
pub fn show_text(r: &Rendered) -> String {
    let mut out = String::new();
    let total = r.steps.len();
    for (i, step) in r.steps.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if r.sequence {
            out.push_str(&format!("# step {} of {total}: {}", i + 1, step.name));
            if let Some(note) = &step.note {
                out.push_str(&format!(" ({note})"));
            }
            out.push('\n');
        }
        out.push_str(&show_request(&step.request));
    }
    out
}

/// One request (and its preflight) as text.
fn show_request(req: &RenderedRequest) -> String {
    let mut out = String::new();
    for (i, r) in steps(req).into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{} {}\n", r.method, r.url));
        for (n, v) in &r.headers {
            out.push_str(&format!("{n}: {v}\n"));
        }
        if let Some(body) = &r.body {
            out.push('\n');
            out.push_str(body);
            out.push('\n');
        }
    }
    out
}

/// `mimic shapes show --format json`: the flat request of a one-request shape, or
/// `{"steps": [...]}` with every request on the wire when there is more than one (a sequence,
/// or a browser's preflight first).
pub fn show_json(r: &Rendered) -> Value {
    let one = |r: &RenderedRequest| serde_json::json!({"method": r.method, "url": r.url, "headers": r.headers, "body": r.body});
    let wire = wire_requests(r);
    match wire.as_slice() {
        [only] => one(only),
        all => serde_json::json!({ "steps": all.iter().map(|r| one(r)).collect::<Vec<_>>() }),
    }
}

fn render_query(
    params: &[QueryParam],
    vars: &Vars,
    facts: &Facts,
    has_body: bool,
) -> Result<String, RenderError> {
    let mut out = String::new();
    for p in params {
        if !facts.all(&p.when, has_body) {
            continue;
        }
        let value = fill_template(&p.value, vars)?;
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&encode_query(&p.name, p.encode));
        out.push('=');
        out.push_str(&encode_query(&value, p.encode));
    }
    Ok(out)
}

/// Replaces `{name}` with the variable's text; `{{` and `}}` are literal braces.
pub fn fill_template(template: &str, vars: &Vars) -> Result<String, RenderError> {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{{") {
            out.push('{');
            rest = after;
        } else if let Some(after) = tail.strip_prefix("}}") {
            out.push('}');
            rest = after;
        } else if let Some(after) = tail.strip_prefix('{') {
            let end = after
                .find('}')
                .ok_or_else(|| RenderError::Shape(format!("unclosed {{ in {template:?}")))?;
            let name = &after[..end];
            out.push_str(&var_text(name, vars.get(name))?);
            rest = &after[end + 1..];
        } else {
            return Err(RenderError::Shape(format!("lone }} in {template:?}")));
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn var_text(name: &str, value: Option<&Value>) -> Result<String, RenderError> {
    match value {
        None | Some(Value::Null) => Err(RenderError::MissingVar(name.to_owned())),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(_) => Err(RenderError::BadVar {
            name: name.to_owned(),
            problem: "is a list or table and cannot stand in text".into(),
        }),
    }
}

/// A reader's name for what a probe does, e.g. `Go SDK identify without traits`.
pub fn describe(shape: &Shape, vars: &Vars) -> String {
    let vars = effective_vars(shape, vars);
    let mut label = match shape.runtime {
        Runtime::Browser => display_sdk(shape),
        Runtime::Server => format!("{} SDK", shape.sdk),
    };
    if shape.id.contains('@') && !shape.sdk_version.is_empty() {
        label.push_str(&format!(" {}", shape.sdk_version));
    }
    let op = match shape.operation.as_str() {
        "flags" => "environment flags".to_owned(),
        other => other.replace('_', " "),
    };
    label.push(' ');
    label.push_str(&op);
    if shape.operation.contains("identify") {
        if let Ok(facts) = Facts::of(&vars) {
            label.push_str(match facts.traits {
                Some(n) if n > 0 => " with traits",
                _ => " without traits",
            });
            if facts.numeric_identifier {
                label.push_str(", numeric identifier");
            }
            if facts.transient {
                label.push_str(", transient identity");
            }
        }
    }
    label
}

/// What a probe's request does, for a public sentence that names the SDKs separately: e.g.
/// `identify with a numeric identifier and without traits`, `environment flags`.
pub fn operation_phrase(shape: &Shape, vars: &Vars) -> String {
    let vars = effective_vars(shape, vars);
    let mut op = match shape.operation.as_str() {
        "flags" => "environment flags".to_owned(),
        other => other.replace('_', " "),
    };
    if shape.operation.contains("identify") {
        if let Ok(facts) = Facts::of(&vars) {
            let mut parts = Vec::new();
            if facts.numeric_identifier {
                parts.push("with a numeric identifier");
            }
            if facts.transient {
                parts.push("for a transient identity");
            }
            parts.push(match facts.traits {
                Some(n) if n > 0 => "with traits",
                _ => "without traits",
            });
            op.push(' ');
            op.push_str(&parts.join(" and "));
        }
    }
    op
}

/// The SDK as a reader names it: `Go`, or `JavaScript SDK in browsers` for a browser shape.
pub fn display_sdk(shape: &Shape) -> String {
    match shape.runtime {
        Runtime::Browser => format!("{} SDK in browsers", shape.sdk),
        Runtime::Server => shape.sdk.clone(),
    }
}

/// The SDK release a shape reproduces as a reader writes it: `5.1.0` for `v5.1.0`.
pub fn display_version(shape: &Shape) -> String {
    shape.sdk_version.trim_start_matches('v').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_vars_and_keep_escaped_braces() {
        let mut v = Vars::new();
        v.insert("a".into(), Value::from(12345));
        assert_eq!(fill_template("x{a}y{{z}}", &v).as_deref(), Ok("x12345y{z}"));
        assert_eq!(
            fill_template("{b}", &v),
            Err(RenderError::MissingVar("b".into()))
        );
    }
}
