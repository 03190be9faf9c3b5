//! `${VAR}` expansion in every string value of the document, before it is deserialised, so
//! secrets live in the environment and never in the file.

use super::locate::line_of_offset;
use toml_edit::{DocumentMut, Item, Value};

/// A `${VAR}` that could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvProblem {
    /// Key path of the string.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

/// Expands `${NAME}` (and `$${` as a literal `${`) in every string, using `lookup`.
pub fn expand_document(
    doc: &mut DocumentMut,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Vec<EnvProblem> {
    let mut problems = Vec::new();
    for (key, item) in doc.as_table_mut().iter_mut() {
        walk_item(item, key.get(), lookup, &mut problems);
    }
    problems
}

fn walk_item(
    item: &mut Item,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<EnvProblem>,
) {
    match item {
        Item::Value(v) => walk_value(v, path, lookup, out),
        Item::Table(t) => {
            for (k, child) in t.iter_mut() {
                walk_item(child, &format!("{path}.{}", k.get()), lookup, out);
            }
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter_mut().enumerate() {
                for (k, child) in t.iter_mut() {
                    walk_item(child, &format!("{path}[{i}].{}", k.get()), lookup, out);
                }
            }
        }
        Item::None => {}
    }
}

fn walk_value(
    v: &mut Value,
    path: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut Vec<EnvProblem>,
) {
    match v {
        Value::String(s) if s.value().contains('$') => match expand(s.value(), lookup) {
            Ok(new) => {
                let decor = v.decor().clone();
                *v = Value::from(new);
                *v.decor_mut() = decor;
            }
            Err(message) => out.push(EnvProblem {
                path: path.to_owned(),
                message,
            }),
        },
        Value::Array(a) => {
            for (i, item) in a.iter_mut().enumerate() {
                walk_value(item, &format!("{path}[{i}]"), lookup, out);
            }
        }
        Value::InlineTable(t) => {
            for (k, item) in t.iter_mut() {
                walk_value(item, &format!("{path}.{}", k.get()), lookup, out);
            }
        }
        _ => {}
    }
}

/// Expands one string.
pub fn expand(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
            let name = &after[..end];
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!("invalid environment variable name {name:?}"));
            }
            let value =
                lookup(name).ok_or_else(|| format!("environment variable {name} is not set"))?;
            out.push_str(&value);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// 1-based line of a byte offset (re-exported for the loader).
pub fn line(text: &str, offset: usize) -> usize {
    line_of_offset(text, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        (name == "KEY").then(|| "s3cret".to_owned())
    }

    #[test]
    fn expands_known_vars_and_reports_missing_ones() {
        assert_eq!(
            expand("a-${KEY}-$${KEY}-$5", &env).as_deref(),
            Ok("a-s3cret-${KEY}-$5")
        );
        assert!(expand("${NOPE}", &env)
            .unwrap_err()
            .contains("NOPE is not set"));
        let mut doc: DocumentMut = "[t]\nx = \"${KEY}\"\ny = [\"${NOPE}\"]\n"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let problems = expand_document(&mut doc, &env);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, "t.y[0]");
        assert!(doc.to_string().contains("x = \"s3cret\""));
    }
}
