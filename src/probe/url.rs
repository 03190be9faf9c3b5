//! URLs the way each SDK builds them: joining a base URL and a path, and percent-encoding
//! query names and values (`encodeURIComponent`, form encoding, or raw).

use super::shape::{BaseJoin, QueryEncode};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// encodeURIComponent leaves `A-Z a-z 0-9 - _ . ! ~ * ' ( )` alone.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'!')
    .remove(b'~')
    .remove(b'*')
    .remove(b'\'')
    .remove(b'(')
    .remove(b')');
/// application/x-www-form-urlencoded leaves `A-Z a-z 0-9 * - . _` alone (space becomes `+`).
const FORM: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'*')
    .remove(b'-')
    .remove(b'.')
    .remove(b'_');

/// Joins a base URL and a relative path the way the SDK does.
pub fn join_url(base: &str, path: &str, join: BaseJoin) -> String {
    match join {
        BaseJoin::Concat => format!("{base}{path}"),
        BaseJoin::EnsureSlash if base.ends_with('/') => format!("{base}{path}"),
        BaseJoin::EnsureSlash => format!("{base}/{path}"),
        BaseJoin::Relative => {
            let authority_end = base
                .find("://")
                .map(|i| i + 3)
                .and_then(|start| base[start..].find('/').map(|j| start + j))
                .unwrap_or(base.len());
            if let Some(stripped) = path.strip_prefix('/') {
                format!("{}/{stripped}", &base[..authority_end])
            } else if authority_end == base.len() {
                format!("{base}/{path}")
            } else {
                let cut = base.rfind('/').map_or(base.len(), |i| i + 1);
                format!("{}{path}", &base[..cut])
            }
        }
    }
}

/// Encodes a query name or value as the parameter says.
pub(super) fn encode_query(text: &str, encode: QueryEncode) -> String {
    match encode {
        QueryEncode::Raw => text.to_owned(),
        QueryEncode::Component => utf8_percent_encode(text, COMPONENT).to_string(),
        QueryEncode::Form => utf8_percent_encode(text, FORM)
            .to_string()
            .replace("%20", "+"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_follows_each_sdk_rule() {
        let b = "https://h/api/v1";
        assert_eq!(
            join_url(b, "flags/", BaseJoin::Concat),
            "https://h/api/v1flags/"
        );
        assert_eq!(
            join_url(b, "flags/", BaseJoin::EnsureSlash),
            "https://h/api/v1/flags/"
        );
        assert_eq!(
            join_url(b, "flags/", BaseJoin::Relative),
            "https://h/api/flags/"
        );
        assert_eq!(
            join_url("https://h", "flags/", BaseJoin::Relative),
            "https://h/flags/"
        );
        assert_eq!(
            join_url("https://h/api/v1/", "flags/", BaseJoin::Relative),
            "https://h/api/v1/flags/"
        );
    }

    #[test]
    fn component_encoding_matches_encode_uri_component() {
        assert_eq!(
            encode_query("a b/c?d&e=f!*'()~", QueryEncode::Component),
            "a%20b%2Fc%3Fd%26e%3Df!*'()~"
        );
        assert_eq!(encode_query("a b", QueryEncode::Form), "a+b");
        assert_eq!(encode_query("a b", QueryEncode::Raw), "a b");
    }
}
