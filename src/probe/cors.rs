//! The browser's CORS verdict (WHATWG Fetch "CORS-preflight fetch" and "CORS check"), pure: what
//! a page's request would preflight and whether a browser would accept the answers. No I/O.

use reqwest::header::HeaderMap;

/// What the page's request asks of the server, as the browser knows it.
pub struct BrowserRequest<'a> {
    /// The page's serialized origin (`https://app.example.com`, or `null` for an opaque one).
    pub origin: &'a str,
    /// The request's method, as the page gave it (normalised here as Fetch does).
    pub method: &'a str,
    /// lower-case, sorted, deduplicated CORS-unsafe header names (what Access-Control-Request-Headers lists)
    pub unsafe_headers: &'a [String],
    /// Credentials mode `include` (cookies, `withCredentials`); false for `omit` and `same-origin`.
    pub credentials: bool,
}

/// Lower-case, byte-sorted, deduplicated names of the headers that are not CORS-safelisted (Fetch "CORS-unsafe request-header names"), given the author request headers in order.
///
/// Names a page can never set (Fetch "forbidden request-header", e.g. `Origin`, `Referer`,
/// `Accept-Encoding`, every `Sec-*`, and `User-Agent`, which Chromium keeps for itself) are the
/// browser's own and are skipped, so a request's whole header list may be passed.
pub fn unsafe_header_names(headers: &[(String, String)]) -> Vec<String> {
    let mut unsafe_names = Vec::new();
    let mut potentially_unsafe = Vec::new();
    let mut safelisted_size = 0usize;
    for (name, value) in headers {
        if is_forbidden(name, value) {
            continue;
        }
        if is_safelisted(name, value) {
            potentially_unsafe.push(name);
            safelisted_size += value.len();
        } else {
            unsafe_names.push(name);
        }
    }
    if safelisted_size > 1024 {
        unsafe_names.extend(potentially_unsafe);
    }
    let mut names: Vec<String> = unsafe_names
        .into_iter()
        .map(|n| n.to_ascii_lowercase())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The Access-Control-Request-Headers value: names joined with "," (no space); None when empty.
pub fn request_headers_value(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| names.join(","))
}

/// Whether a request needs a preflight (non-safelisted method or any unsafe header).
pub fn needs_preflight(method: &str, unsafe_headers: &[String]) -> bool {
    !is_safelisted_method(&normalize_method(method)) || !unsafe_headers.is_empty()
}

/// Judges a preflight answer: Ok(()) if a browser would go on to send the request, else Err(message) naming exactly what it would refuse, e.g. "preflight does not allow header flagsmith-sdk-user-agent", "preflight allows origin https://other.example, not https://app.example.com", "preflight answer has no Access-Control-Allow-Origin", "preflight does not allow method PUT".
///
/// A `status` outside 200-299 (Fetch "ok status"; a 3xx too, since a browser never follows a
/// preflight redirect) always gives `preflight answered HTTP <status>; a browser needs 200-299`,
/// before any header is looked at. That one is not a CORS policy: the caller, which knows the
/// status, classes it `http_status` (design B.2) so a region failing everything groups with the
/// server SDKs. Every Err for a 2xx status is a CORS refusal, class `cors`.
/// `Access-Control-Max-Age` is ignored: every judgement is a cold preflight cache.
pub fn judge_preflight(
    req: &BrowserRequest<'_>,
    status: u16,
    headers: &HeaderMap,
) -> Result<(), String> {
    if !(200..=299).contains(&status) {
        return Err(format!(
            "preflight answered HTTP {status}; a browser needs 200-299"
        ));
    }
    cors_check(req, headers, "preflight answer", "preflight")?;
    let methods = allow_list(headers, "access-control-allow-methods")?;
    let header_names = allow_list(headers, "access-control-allow-headers")?;
    let wildcard_ok = !req.credentials;
    let method = normalize_method(req.method);
    let method_allowed = methods.contains(&method)
        || is_safelisted_method(&method)
        || (wildcard_ok && methods.iter().any(|m| m == "*"));
    if !method_allowed {
        return Err(format!("preflight does not allow method {method}"));
    }
    let any_header = wildcard_ok && header_names.iter().any(|h| h == "*");
    let missing: Vec<&str> = req
        .unsafe_headers
        .iter()
        .map(String::as_str)
        .filter(|name| !header_names.iter().any(|h| h.eq_ignore_ascii_case(name)))
        // `*` never covers Authorization (Fetch "CORS non-wildcard request-header name").
        .filter(|name| !any_header || name.eq_ignore_ascii_case("authorization"))
        .collect();
    match missing.as_slice() {
        [] => Ok(()),
        [one] => Err(format!("preflight does not allow header {one}")),
        several => Err(format!(
            "preflight does not allow headers {}",
            several.join(", ")
        )),
    }
}

/// Judges the real answer's CORS headers (Access-Control-Allow-Origin must be `*` — only without credentials — or exactly the origin; credentials rules): Ok or the refusal message, e.g. "response has no Access-Control-Allow-Origin".
///
/// Judged before status and body expectations: a refused answer reaches the page as a network
/// error whatever its status.
pub fn judge_response(req: &BrowserRequest<'_>, headers: &HeaderMap) -> Result<(), String> {
    cors_check(req, headers, "response", "response")
}

/// Fetch "CORS check". `has` names the answer in "has no …", `who` in "… allows origin".
fn cors_check(
    req: &BrowserRequest<'_>,
    headers: &HeaderMap,
    has: &str,
    who: &str,
) -> Result<(), String> {
    let values: Vec<String> = headers
        .get_all("access-control-allow-origin")
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    let allowed = match values.as_slice() {
        [] => return Err(format!("{has} has no Access-Control-Allow-Origin")),
        [one] => one.as_str(),
        several => {
            // Fetch "get" joins them with ", ", which never equals `*` or an origin.
            return Err(format!(
                "{has} has {} Access-Control-Allow-Origin values ({}); a browser needs exactly one",
                several.len(),
                several.join(", ")
            ));
        }
    };
    if !req.credentials && allowed == "*" {
        return Ok(());
    }
    if req.credentials && allowed == "*" {
        return Err(format!(
            "{who} allows origin *, which a browser refuses with credentials"
        ));
    }
    if allowed != req.origin {
        return Err(format!("{who} allows origin {allowed}, not {}", req.origin));
    }
    if !req.credentials {
        return Ok(());
    }
    let credentials: Vec<&[u8]> = headers
        .get_all("access-control-allow-credentials")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    if credentials.as_slice() == [b"true".as_slice()] {
        Ok(())
    } else {
        Err(format!(
            "{who} does not allow credentials (Access-Control-Allow-Credentials is not \"true\")"
        ))
    }
}

/// The tokens of Access-Control-Allow-Methods or -Headers (`#token`: every field, split on
/// commas, optional whitespace trimmed, empty elements skipped); absent means none.
fn allow_list(headers: &HeaderMap, name: &str) -> Result<Vec<String>, String> {
    let mut tokens = Vec::new();
    for value in headers.get_all(name) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for item in text.split(',') {
            let item = item.trim_matches([' ', '\t']);
            if item.is_empty() {
                continue;
            }
            if !item.bytes().all(is_tchar) {
                let shown = if name == "access-control-allow-methods" {
                    "Methods"
                } else {
                    "Headers"
                };
                return Err(format!(
                    "preflight's Access-Control-Allow-{shown} does not parse ({text:?})"
                ));
            }
            tokens.push(item.to_owned());
        }
    }
    Ok(tokens)
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Fetch "normalize": the six well-known methods in upper case, anything else untouched.
fn normalize_method(method: &str) -> String {
    const KNOWN: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    KNOWN
        .iter()
        .find(|k| k.eq_ignore_ascii_case(method))
        .map_or_else(|| method.to_owned(), |k| (*k).to_owned())
}

/// Fetch "CORS-safelisted method" (byte-case-sensitive, after normalising).
fn is_safelisted_method(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "POST")
}

/// Fetch "forbidden request-header", plus `user-agent` (Chromium never lets a page set it).
fn is_forbidden(name: &str, value: &str) -> bool {
    const FORBIDDEN: [&str; 22] = [
        "accept-charset",
        "accept-encoding",
        "access-control-request-headers",
        "access-control-request-method",
        "connection",
        "content-length",
        "cookie",
        "cookie2",
        "date",
        "dnt",
        "expect",
        "host",
        "keep-alive",
        "origin",
        "referer",
        "set-cookie",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "via",
        "user-agent",
    ];
    let lower = name.to_ascii_lowercase();
    if FORBIDDEN.contains(&lower.as_str())
        || lower.starts_with("proxy-")
        || lower.starts_with("sec-")
    {
        return true;
    }
    matches!(
        lower.as_str(),
        "x-http-method" | "x-http-method-override" | "x-method-override"
    ) && value.split(',').any(|m| {
        let m = m.trim_matches([' ', '\t']);
        ["connect", "trace", "track"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(m))
    })
}

/// Fetch "CORS-safelisted request-header".
fn is_safelisted(name: &str, value: &str) -> bool {
    if value.len() > 128 {
        return false;
    }
    match name.to_ascii_lowercase().as_str() {
        "accept" => !value.bytes().any(is_unsafe_byte),
        "accept-language" | "content-language" => value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" *,-.;=".contains(&b)),
        "content-type" => {
            !value.bytes().any(is_unsafe_byte)
                && mime_essence(value).is_some_and(|e| {
                    matches!(
                        e.as_str(),
                        "application/x-www-form-urlencoded" | "multipart/form-data" | "text/plain"
                    )
                })
        }
        "range" => is_simple_range(value),
        _ => false,
    }
}

/// Fetch "CORS-unsafe request-header byte".
fn is_unsafe_byte(b: u8) -> bool {
    (b < 0x20 && b != 0x09) || b"\"():<>?@[\\]{}\x7f".contains(&b)
}

/// The lower-case `type/subtype` of a MIME type (MIME Sniffing "parse a MIME type"; parameters
/// never make it fail), or None when it does not parse.
fn mime_essence(value: &str) -> Option<String> {
    let ws = |c: char| matches!(c, ' ' | '\t' | '\n' | '\r');
    let text = value.trim_matches(ws);
    let (kind, rest) = text.split_once('/')?;
    let subtype = rest.split(';').next().unwrap_or("").trim_end_matches(ws);
    let token = |s: &str| !s.is_empty() && s.bytes().all(is_tchar);
    (token(kind) && token(subtype)).then(|| format!("{kind}/{subtype}").to_ascii_lowercase())
}

/// Fetch "parse a single range header value" without whitespace, with a start: `bytes=N-` or
/// `bytes=N-M` with N ≤ M.
fn is_simple_range(value: &str) -> bool {
    let Some(spec) = value.strip_prefix("bytes=") else {
        return false;
    };
    let Some((start, end)) = spec.split_once('-') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(start) || !(end.is_empty() || digits(end)) {
        return false;
    }
    if end.is_empty() {
        return true;
    }
    match (start.parse::<u128>(), end.parse::<u128>()) {
        (Ok(s), Ok(e)) => s <= e,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
