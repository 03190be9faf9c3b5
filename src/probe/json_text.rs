//! Writes JSON the way each SDK's serialiser does: separators and string escaping differ, and a
//! byte-exact probe must keep them (Python's `", "`, PHP's `\/`, Go's `\u003c`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt::Write;

/// A JSON serialiser's conventions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonStyle {
    /// No spaces, UTF-8 as is (JavaScript, serde_json, Jackson, System.Text.Json, Jason).
    #[default]
    Compact,
    /// Go's encoding/json: compact, and `<`, `>`, `&`, U+2028, U+2029 escaped.
    Go,
    /// Python's `json.dumps` defaults: `", "` and `": "`, non-ASCII as `\uXXXX`.
    Python,
    /// PHP's `json_encode` defaults: compact, `/` as `\/`, non-ASCII as `\uXXXX`.
    Php,
}

/// Serialises `value` in `style`, keeping object key order.
pub fn to_text(value: &Value, style: JsonStyle) -> String {
    let mut out = String::with_capacity(128);
    write_value(&mut out, value, style);
    out
}

fn write_value(out: &mut String, value: &Value, style: JsonStyle) {
    let (item_sep, key_sep) = match style {
        JsonStyle::Python => (", ", ": "),
        _ => (",", ":"),
    };
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => write_string(out, s, style),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                write_value(out, item, style);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(item_sep);
                }
                write_string(out, k, style);
                out.push_str(key_sep);
                write_value(out, v, style);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, s: &str, style: JsonStyle) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => push_u_escape(out, c as u32),
            '/' if style == JsonStyle::Php => out.push_str("\\/"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style == JsonStyle::Go => {
                push_u_escape(out, c as u32)
            }
            c if !c.is_ascii() && matches!(style, JsonStyle::Python | JsonStyle::Php) => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    push_u_escape(out, u32::from(*unit));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn push_u_escape(out: &mut String, unit: u32) {
    let _ = write!(out, "\\u{unit:04x}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_uses_spaced_separators_and_ascii_escapes() {
        let v = json!({"identifier": "zoë", "traits": [1, 2]});
        assert_eq!(
            to_text(&v, JsonStyle::Python),
            r#"{"identifier": "zo\u00eb", "traits": [1, 2]}"#
        );
    }

    #[test]
    fn php_escapes_slashes_and_non_ascii() {
        let v = json!({"a": "x/y", "b": "😀"});
        assert_eq!(
            to_text(&v, JsonStyle::Php),
            r#"{"a":"x\/y","b":"\ud83d\ude00"}"#
        );
    }

    #[test]
    fn go_escapes_html_characters() {
        let v = json!({"a": "<b>&"});
        assert_eq!(to_text(&v, JsonStyle::Go), r#"{"a":"\u003cb\u003e\u0026"}"#);
    }

    #[test]
    fn compact_matches_serde_json_and_keeps_key_order() {
        let v = json!({"z": "é\n", "a": [true, null, 1.5]});
        assert_eq!(to_text(&v, JsonStyle::Compact), v.to_string());
        assert!(to_text(&v, JsonStyle::Compact).starts_with("{\"z\""));
    }
}
