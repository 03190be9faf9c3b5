//! JSON request bodies: fields from the probe's variables, trait lists, and the SDK's scalar
//! encodings, written with the SDK's own JSON text style.

use super::json_text;
use super::render::{fill_template, RenderError, Vars};
use super::shape::{BodySpec, FieldSpec, Fill, Keep, ValueEncode};
use serde_json::{Map, Value};

/// The body text for `spec` with these variables.
pub(super) fn render_body(spec: &BodySpec, vars: &Vars) -> Result<String, RenderError> {
    if let Some(template) = &spec.template {
        return fill_template(template, vars);
    }
    let fields = spec
        .json
        .as_deref()
        .ok_or_else(|| RenderError::Shape("body has no json fields".into()))?;
    let scope = Scope {
        vars,
        trait_part: None,
        spec,
    };
    let object = build_object(fields, &scope)?;
    Ok(json_text::to_text(&Value::Object(object), spec.style))
}

/// Where field variables are looked up: trait parts first (inside `trait`), then the probe vars.
struct Scope<'a> {
    vars: &'a Vars,
    trait_part: Option<&'a Map<String, Value>>,
    spec: &'a BodySpec,
}

impl Scope<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        match self.trait_part {
            Some(t) => t.get(name),
            None => self.vars.get(name),
        }
    }
}

fn build_object(
    fields: &[FieldSpec],
    scope: &Scope<'_>,
) -> Result<Map<String, Value>, RenderError> {
    let mut object = Map::new();
    for f in fields {
        if let Some(v) = field_value(f, scope)? {
            object.insert(f.key.clone(), v);
        }
    }
    Ok(object)
}

fn field_value(f: &FieldSpec, scope: &Scope<'_>) -> Result<Option<Value>, RenderError> {
    let raw = if let Some(lit) = &f.literal {
        Some(lit.clone())
    } else if let Some(t) = &f.template {
        Some(Value::String(fill_template(t, scope.vars)?))
    } else if let Some(nested) = &f.fields {
        Some(Value::Object(build_object(nested, scope)?))
    } else if let Some(name) = &f.var {
        match scope.get(name) {
            None => None,
            Some(v) if name == "traits" && scope.trait_part.is_none() => {
                Some(trait_list(v, scope)?)
            }
            Some(v) => Some(encode(v, f.encode)),
        }
    } else {
        return Err(RenderError::Shape(format!(
            "field {:?} needs var, literal, template or fields",
            f.key
        )));
    };
    let value = match raw {
        None => match f.absent {
            None => {
                return Err(RenderError::MissingVar(
                    f.var.clone().unwrap_or_else(|| f.key.clone()),
                ))
            }
            Some(Fill::Omit) => return Ok(None),
            Some(Fill::Null) => Value::Null,
            Some(Fill::Empty) => Value::Array(Vec::new()),
            Some(Fill::False) => Value::Bool(false),
        },
        Some(v) => {
            let rule = match &v {
                Value::Array(a) if a.is_empty() => f.empty,
                Value::Object(o) if o.is_empty() => f.empty,
                Value::Bool(false) => f.if_false,
                _ => Keep::Keep,
            };
            match rule {
                Keep::Keep => v,
                Keep::Omit => return Ok(None),
                Keep::Null => Value::Null,
            }
        }
    };
    Ok(Some(if f.array {
        Value::Array(vec![value])
    } else {
        value
    }))
}

/// Turns the `traits` variable (key → value or `{value, transient}`) into the SDK's trait list.
fn trait_list(traits: &Value, scope: &Scope<'_>) -> Result<Value, RenderError> {
    let Value::Object(map) = traits else {
        return Err(RenderError::BadVar {
            name: "traits".into(),
            problem: "must be a table/object of trait key to value".into(),
        });
    };
    let fields = scope.spec.trait_fields.as_deref().ok_or_else(|| {
        RenderError::Shape("the body uses `traits` but has no `trait` fields".into())
    })?;
    let mut list = Vec::with_capacity(map.len());
    for (key, given) in map {
        let mut part = Map::new();
        part.insert("key".into(), Value::String(key.clone()));
        match given {
            Value::Object(cfg) if cfg.contains_key("value") => {
                part.insert(
                    "value".into(),
                    cfg.get("value").cloned().unwrap_or_default(),
                );
                match cfg.get("transient") {
                    Some(Value::Bool(b)) => {
                        part.insert("transient".into(), Value::Bool(*b));
                    }
                    None => {}
                    Some(_) => {
                        return Err(RenderError::BadVar {
                            name: format!("traits.{key}.transient"),
                            problem: "must be true or false".into(),
                        })
                    }
                }
            }
            Value::Object(_) | Value::Array(_) => {
                return Err(RenderError::BadVar {
                    name: format!("traits.{key}"),
                    problem: "must be a string, number, bool, null or {value, transient}".into(),
                })
            }
            scalar => {
                part.insert("value".into(), scalar.clone());
            }
        }
        let inner = Scope {
            vars: scope.vars,
            trait_part: Some(&part),
            spec: scope.spec,
        };
        list.push(Value::Object(build_object(fields, &inner)?));
    }
    Ok(Value::Array(list))
}

/// Applies a scalar encoding.
fn encode(v: &Value, how: ValueEncode) -> Value {
    match (how, v) {
        (ValueEncode::Native, _) | (_, Value::Null) => v.clone(),
        (ValueEncode::String, Value::String(_)) => v.clone(),
        (ValueEncode::String, Value::Number(n)) => Value::String(n.to_string()),
        (ValueEncode::String, Value::Bool(b)) => Value::String(b.to_string()),
        (ValueEncode::String, other) => other.clone(),
        (ValueEncode::Typed, Value::String(s)) => typed(Value::String(s.clone()), "string"),
        (ValueEncode::Typed, Value::Number(n)) => typed(Value::String(n.to_string()), "decimal"),
        (ValueEncode::Typed, Value::Bool(b)) => typed(Value::Bool(*b), "boolean"),
        (ValueEncode::Typed, other) => other.clone(),
    }
}

fn typed(value: Value, kind: &str) -> Value {
    let mut m = Map::new();
    m.insert("value".into(), value);
    m.insert("type".into(), Value::String(kind.into()));
    Value::Object(m)
}
