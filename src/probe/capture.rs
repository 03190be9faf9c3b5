//! Reading values out of an answer for a sequence's later steps: a `Link` header's target
//! (RFC 8288), a JSON path of the body, or a header's value.

use super::assert::JsonPath;
use super::shape::CaptureSource;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// One `Link` header entry: the target as written and its `rel` tokens (lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEntry {
    /// The URI reference between `<` and `>`.
    pub target: String,
    /// The relation types, lower case.
    pub rels: Vec<String>,
}

/// Parses one `Link` field value (`<a>; rel="next", <b>; rel=prev`) into its entries; a
/// malformed entry ends the parse, keeping the entries before it (a browser or SDK would not
/// act on what it cannot read either).
pub fn parse_link(value: &str) -> Vec<LinkEntry> {
    let mut out = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        let Some(after) = rest.strip_prefix('<') else {
            return out;
        };
        let Some(end) = after.find('>') else {
            return out;
        };
        let target = after[..end].trim().to_owned();
        rest = &after[end + 1..];
        let mut rels = Vec::new();
        // Parameters: `; name = value` until the next `,` outside a quoted string.
        loop {
            rest = rest.trim_start();
            let Some(param) = rest.strip_prefix(';') else {
                break;
            };
            let param = param.trim_start();
            let name_end = param
                .find(|c: char| c == '=' || c == ';' || c == ',' || c.is_ascii_whitespace())
                .unwrap_or(param.len());
            let name = param[..name_end].to_ascii_lowercase();
            rest = param[name_end..].trim_start();
            let mut val = String::new();
            if let Some(v) = rest.strip_prefix('=') {
                let v = v.trim_start();
                if let Some(q) = v.strip_prefix('"') {
                    let mut chars = q.char_indices();
                    let mut consumed = q.len();
                    while let Some((i, c)) = chars.next() {
                        match c {
                            '\\' => {
                                if let Some((_, e)) = chars.next() {
                                    val.push(e);
                                }
                            }
                            '"' => {
                                consumed = i + 1;
                                break;
                            }
                            c => val.push(c),
                        }
                    }
                    rest = &q[consumed..];
                } else {
                    let end = v.find([';', ',']).unwrap_or(v.len());
                    val = v[..end].trim().to_owned();
                    rest = &v[end..];
                }
            }
            // RFC 8288 §3.3: only the first `rel` parameter counts.
            if name == "rel" && rels.is_empty() {
                rels = val
                    .split_ascii_whitespace()
                    .map(str::to_ascii_lowercase)
                    .collect();
            }
        }
        out.push(LinkEntry { target, rels });
        if !rest.trim_start().starts_with(',') {
            return out;
        }
    }
}

/// The target of the first `Link` entry (over every `Link` header) whose `rel` has `rel`,
/// resolved against `base` (the URL the answer came from).
pub fn link_target(headers: &HeaderMap, rel: &str, base: &reqwest::Url) -> Option<String> {
    let rel = rel.to_ascii_lowercase();
    headers
        .get_all(reqwest::header::LINK)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(parse_link)
        .find(|e| e.rels.contains(&rel))
        .and_then(|e| base.join(&e.target).ok())
        .map(String::from)
}

/// Reads one captured value: `Ok(None)` when the answer does not have it, an error when it has
/// something that cannot stand in a request (a JSON object or list).
pub fn capture(
    source: &CaptureSource,
    headers: &HeaderMap,
    body: &[u8],
    url: &reqwest::Url,
) -> Result<Option<String>, String> {
    match source {
        CaptureSource::Link(rel) => Ok(link_target(headers, rel, url)),
        CaptureSource::Header(name) => Ok(headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)),
        CaptureSource::Json(path) => {
            let path = JsonPath::parse(path)?;
            let Ok(doc) = serde_json::from_slice::<Value>(body) else {
                return Ok(None);
            };
            match path.lookup(&doc) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(Value::Bool(b)) => Ok(Some(b.to_string())),
                Some(_) => Err(format!("JSON {path} is a list or object, not a value")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: &str, rels: &[&str]) -> LinkEntry {
        LinkEntry {
            target: target.into(),
            rels: rels.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn link_values_parse_into_targets_and_relations() {
        assert_eq!(
            parse_link(r#"<https://a.example/?page_id=2>; rel="next""#),
            [entry("https://a.example/?page_id=2", &["next"])]
        );
        assert_eq!(
            parse_link(r#"</p?x=1,2>; title="a, b; c"; rel="prev first", <?page_id=3>;rel=next"#),
            [
                entry("/p?x=1,2", &["prev", "first"]),
                entry("?page_id=3", &["next"])
            ]
        );
        assert_eq!(
            parse_link(r#"<a>; rel="NEXT"; rel="prev""#),
            [entry("a", &["next"])],
            "relation types are case-insensitive and only the first rel counts"
        );
        assert_eq!(parse_link("garbage"), []);
        assert_eq!(
            parse_link(r#"<a>; rel=next, junk"#),
            [entry("a", &["next"])]
        );
    }

    #[test]
    fn link_targets_resolve_against_the_answer_url_across_headers() {
        let mut h = HeaderMap::new();
        h.append(
            "link",
            "<https://x.example/other>; rel=\"prev\"".parse().unwrap(),
        );
        h.append(
            "link",
            "</eu/api/v1/environment-document/?page_id=2>; rel=\"next\""
                .parse()
                .unwrap(),
        );
        let base = reqwest::Url::parse("http://127.0.0.1:9/eu/api/v1/environment-document/")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            link_target(&h, "next", &base).as_deref(),
            Some("http://127.0.0.1:9/eu/api/v1/environment-document/?page_id=2")
        );
        assert_eq!(link_target(&h, "last", &base), None);
    }

    #[test]
    fn json_captures_give_scalars_as_text_and_refuse_objects() {
        let h = HeaderMap::new();
        let url = reqwest::Url::parse("http://127.0.0.1/").unwrap_or_else(|e| panic!("{e}"));
        let body = br#"{"api_key":"k1","n":3,"on":true,"obj":{"a":1},"none":null}"#;
        let get = |p: &str| capture(&CaptureSource::Json(p.into()), &h, body, &url);
        assert_eq!(get("api_key"), Ok(Some("k1".into())));
        assert_eq!(get("n"), Ok(Some("3".into())));
        assert_eq!(get("on"), Ok(Some("true".into())));
        assert_eq!(get("none"), Ok(None));
        assert_eq!(get("missing"), Ok(None));
        assert!(get("obj").is_err());
    }
}
