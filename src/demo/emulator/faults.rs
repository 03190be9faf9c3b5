//! The fault model: which misbehaviour a region shows, its text form, and the
//! parsing of `POST /__faults` requests.
//!
//! A region has two layers, combined in [`RegionFaults`]: a `flaky:<percent>`
//! noise rate (each request independently fails with that probability, a 503
//! for two thirds of failures and a reset for one third) and at most one
//! behaviour fault (`require_traits_key`, `hang`, ...). Setting `flaky:P`
//! changes only the rate, setting a behaviour fault changes only the behaviour,
//! `none` clears both, and `flaky:P+<fault>` sets both at once; `GET /__faults`
//! shows a region in that same text (`flaky:5+require_traits_key`). A flaky
//! draw happens after latency and before the behaviour fault.
//!
//! The CORS faults `cors_drop_header:<name>` and `cors_origin:<origin>` are
//! behaviour faults too (one at a time, combinable with `flaky:P`). They change
//! only the CORS headers, which server SDKs never read.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde_json::{json, Map, Value};

use super::cors::{HeaderToken, Origin};
use super::flaky::{BadPercent, FlakyRate};

/// One way a region can misbehave; `Fault::None` means the region is healthy.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum Fault {
    /// Healthy: answer like the real API.
    #[default]
    None,
    /// Identify calls whose identifier is a JSON number get a 400.
    RejectNumericIdentifier,
    /// `POST identities/` without a `traits` key gets a 400 (the 2024-01-18 regression).
    RequireTraitsKey,
    /// Every API route of the region answers 500.
    Status500,
    /// Add this many milliseconds on top of the region's own latency.
    LatencyMs(u64),
    /// Accept the request and never answer.
    Hang,
    /// Drop the TCP connection with an RST instead of answering.
    Reset,
    /// Answer 200 with a streamed JSON-ish body of exactly this many bytes.
    LargeBody(u64),
    /// Each request independently fails with this probability; a noise layer
    /// that combines with the other faults (see the module doc).
    Flaky(FlakyRate),
    /// Preflight answers no longer list this header in `Access-Control-Allow-Headers`.
    CorsDropHeader(HeaderToken),
    /// Only this origin is allowed: every answer carries it as
    /// `Access-Control-Allow-Origin` (with `Vary: Origin`) instead of `*`.
    CorsOrigin(Origin),
    /// The environment document's later pages (`?page_id=2` on) answer 500; page 1 is fine,
    /// so only the SDKs that follow `Link: rel="next"` see it.
    PagingStatus500,
    /// The environment document's last page links to itself as `rel="next"`.
    PagingLoop,
}

/// Why a fault could not be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    /// The named region is not configured on this emulator.
    #[error("unknown region {0:?}")]
    UnknownRegion(String),
    /// The text names no known fault.
    #[error(
        "unknown fault {0:?} (expected none, reject_numeric_identifier, require_traits_key, \
         status_500, latency_ms:<N>, hang, reset, large_body:<bytes>, cors_drop_header:<name>, \
         cors_origin:<origin>, paging_status_500, paging_loop or flaky:<percent>, optionally as flaky:<percent>+<fault>)"
    )]
    UnknownFault(String),
    /// `flaky:` was given something other than a percent from 0 to 100.
    #[error("fault flaky needs {0}")]
    BadPercent(#[from] BadPercent),
    /// A combination other than one `flaky:<percent>` plus one other fault.
    #[error(
        "cannot combine {0:?}: a region takes one flaky:<percent> plus at most one other \
         fault (not none), e.g. flaky:5+require_traits_key"
    )]
    BadCombination(String),
    /// A parameterised fault was given something other than a whole number.
    #[error("fault {name} needs a whole number after the colon, got {input:?}")]
    BadNumber {
        /// The fault's name, e.g. `latency_ms`.
        name: &'static str,
        /// The full text that failed to parse.
        input: String,
    },
    /// `cors_drop_header:` was given something that is not an HTTP header name.
    #[error(
        "fault cors_drop_header needs an HTTP header name after the colon \
         (e.g. cors_drop_header:flagsmith-sdk-user-agent): {reason}, got {input:?}"
    )]
    BadHeaderName {
        /// Why the name is not a header name.
        reason: String,
        /// The full text that failed to parse.
        input: String,
    },
    /// `cors_origin:` was given something that is not an http(s) origin.
    #[error(
        "fault cors_origin needs an origin after the colon, scheme://host[:port] with \
         http or https and no path (e.g. cors_origin:https://app.example.com): {reason}, \
         got {input:?}"
    )]
    BadOrigin {
        /// Why the text is not an origin.
        reason: String,
        /// The full text that failed to parse.
        input: String,
    },
}

impl FromStr for Fault {
    type Err = FaultError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        // Names are matched case-insensitively because people type them by hand in curl.
        let lower = text.to_ascii_lowercase();
        let (name, arg) = match lower.split_once(':') {
            Some((name, arg)) => (name, Some(arg.trim())),
            None => (lower.as_str(), None),
        };
        let number = |name: &'static str| -> Result<u64, FaultError> {
            arg.and_then(|a| a.parse::<u64>().ok())
                .ok_or_else(|| FaultError::BadNumber {
                    name,
                    input: text.to_string(),
                })
        };
        match (name, arg) {
            ("none", None) => Ok(Fault::None),
            ("reject_numeric_identifier", None) => Ok(Fault::RejectNumericIdentifier),
            ("require_traits_key", None) => Ok(Fault::RequireTraitsKey),
            ("status_500", None) => Ok(Fault::Status500),
            ("hang", None) => Ok(Fault::Hang),
            ("reset", None) => Ok(Fault::Reset),
            ("paging_status_500", None) => Ok(Fault::PagingStatus500),
            ("paging_loop", None) => Ok(Fault::PagingLoop),
            ("latency_ms", _) => number("latency_ms").map(Fault::LatencyMs),
            ("large_body", _) => number("large_body").map(Fault::LargeBody),
            ("flaky", Some(percent)) => Ok(Fault::Flaky(percent.parse()?)),
            ("flaky", None) => Err(BadPercent(String::new()).into()),
            ("cors_drop_header", _) => HeaderToken::parse(arg.unwrap_or_default())
                .map(Fault::CorsDropHeader)
                .map_err(|reason| FaultError::BadHeaderName {
                    reason,
                    input: text.to_string(),
                }),
            ("cors_origin", _) => Origin::parse(arg.unwrap_or_default())
                .map(Fault::CorsOrigin)
                .map_err(|reason| FaultError::BadOrigin {
                    reason,
                    input: text.to_string(),
                }),
            _ => Err(FaultError::UnknownFault(text.to_string())),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::None => f.write_str("none"),
            Fault::RejectNumericIdentifier => f.write_str("reject_numeric_identifier"),
            Fault::RequireTraitsKey => f.write_str("require_traits_key"),
            Fault::Status500 => f.write_str("status_500"),
            Fault::LatencyMs(ms) => write!(f, "latency_ms:{ms}"),
            Fault::Hang => f.write_str("hang"),
            Fault::Reset => f.write_str("reset"),
            Fault::LargeBody(bytes) => write!(f, "large_body:{bytes}"),
            Fault::Flaky(rate) => write!(f, "flaky:{rate}"),
            Fault::CorsDropHeader(name) => write!(f, "cors_drop_header:{name}"),
            Fault::CorsOrigin(origin) => write!(f, "cors_origin:{origin}"),
            Fault::PagingStatus500 => f.write_str("paging_status_500"),
            Fault::PagingLoop => f.write_str("paging_loop"),
        }
    }
}

/// Everything wrong with one region: a flaky rate and one behaviour fault.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct RegionFaults {
    /// The chance that a request fails before the behaviour fault applies.
    pub flaky: FlakyRate,
    /// The behaviour fault; never `Fault::Flaky`.
    pub fault: Fault,
}

impl RegionFaults {
    /// Applies a change to this region's layers.
    pub(crate) fn apply(&mut self, change: &FaultChange) {
        if let Some(flaky) = change.flaky {
            self.flaky = flaky;
        }
        if let Some(fault) = &change.fault {
            self.fault = fault.clone();
        }
    }
}

impl fmt::Display for RegionFaults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.flaky.is_zero(), &self.fault) {
            (true, fault) => write!(f, "{fault}"),
            (false, Fault::None) => write!(f, "flaky:{}", self.flaky),
            (false, fault) => write!(f, "flaky:{}+{fault}", self.flaky),
        }
    }
}

/// Which layers a fault setting changes; `None` leaves that layer as it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct FaultChange {
    pub(crate) flaky: Option<FlakyRate>,
    pub(crate) fault: Option<Fault>,
}

impl From<Fault> for FaultChange {
    /// `flaky:P` sets the rate, `none` clears both layers, any other fault sets the behaviour.
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Flaky(rate) => FaultChange {
                flaky: Some(rate),
                fault: None,
            },
            Fault::None => FaultChange {
                flaky: Some(FlakyRate::ZERO),
                fault: Some(Fault::None),
            },
            other => FaultChange {
                flaky: None,
                fault: Some(other),
            },
        }
    }
}

impl FromStr for FaultChange {
    type Err = FaultError;

    /// One fault, or `flaky:<percent>+<fault>` (either order) setting both layers.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((a, b)) = s.split_once('+') else {
            return Ok(s.parse::<Fault>()?.into());
        };
        // A header name may itself hold a '+', so try the whole text and the last '+' too.
        if let Ok(whole) = s.parse::<Fault>() {
            return Ok(whole.into());
        }
        match combine(s, a, b) {
            Err(first) => match s.rsplit_once('+') {
                Some((a2, b2)) if a2 != a => combine(s, a2, b2).map_err(|_| first),
                _ => Err(first),
            },
            ok => ok,
        }
    }
}

/// `a+b` as one flaky rate plus one behaviour fault; `s` is the whole text, for errors.
fn combine(s: &str, a: &str, b: &str) -> Result<FaultChange, FaultError> {
    let combo = || FaultError::BadCombination(s.trim().to_string());
    match (a.parse::<Fault>()?, b.parse::<Fault>()?) {
        (Fault::Flaky(_), Fault::Flaky(_) | Fault::None) | (Fault::None, Fault::Flaky(_)) => {
            Err(combo())
        }
        (Fault::Flaky(rate), fault) | (fault, Fault::Flaky(rate)) => Ok(FaultChange {
            flaky: Some(rate),
            fault: Some(fault),
        }),
        _ => Err(combo()),
    }
}

/// A parsed `POST /__faults` body: `None` region means every region (`"*"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FaultRequest {
    pub(crate) region: Option<String>,
    pub(crate) change: FaultChange,
}

/// Parses `{"region": "<id>" | "*", "fault": "<text>"}`; the error is a message for a 400.
pub(crate) fn parse_fault_request(body: &[u8]) -> Result<FaultRequest, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err(
            "body must be a JSON object like {\"region\": \"*\", \"fault\": \"hang\"}".into(),
        );
    };
    let region = match obj.get("region") {
        Some(Value::String(r)) if r == "*" => None,
        Some(Value::String(r)) if !r.is_empty() => Some(r.clone()),
        Some(_) => return Err("\"region\" must be a region id or \"*\"".into()),
        None => return Err("\"region\" is required (a region id or \"*\")".into()),
    };
    let change = match obj.get("fault") {
        Some(Value::String(f)) => f.parse::<FaultChange>().map_err(|e| e.to_string())?,
        Some(_) => return Err("\"fault\" must be a string such as \"status_500\"".into()),
        None => return Err("\"fault\" is required".into()),
    };
    Ok(FaultRequest { region, change })
}

/// The `{"faults": {...}}` document served by `GET /__faults`.
pub(crate) fn faults_json(faults: &BTreeMap<String, RegionFaults>) -> Value {
    let map: Map<String, Value> = faults
        .iter()
        .map(|(region, fault)| (region.clone(), Value::String(fault.to_string())))
        .collect();
    json!({ "faults": map })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_round_trips_through_its_text() -> Result<(), FaultError> {
        let all = [
            Fault::None,
            Fault::RejectNumericIdentifier,
            Fault::RequireTraitsKey,
            Fault::Status500,
            Fault::LatencyMs(250),
            Fault::Hang,
            Fault::Reset,
            Fault::LargeBody(52_428_800),
            Fault::Flaky(FlakyRate::from_ppm(5_000).unwrap_or_default()),
            "cors_drop_header:flagsmith-sdk-user-agent".parse()?,
            "cors_origin:http://127.0.0.1:8080".parse()?,
            Fault::PagingStatus500,
            Fault::PagingLoop,
        ];
        for fault in all {
            assert_eq!(fault.to_string().parse::<Fault>()?, fault);
        }
        assert_eq!(" Latency_MS: 7 ".parse::<Fault>()?, Fault::LatencyMs(7));
        Ok(())
    }

    #[test]
    fn cors_faults_parse_their_argument_and_show_it_normalised() -> Result<(), FaultError> {
        let drop: Fault = " CORS_Drop_Header: X-Environment-Key ".parse()?;
        assert!(matches!(&drop, Fault::CorsDropHeader(h) if h.as_str() == "x-environment-key"));
        assert_eq!(drop.to_string(), "cors_drop_header:x-environment-key");
        let origin: Fault = "cors_origin:HTTPS://App.Example.com:443".parse()?;
        assert_eq!(origin.to_string(), "cors_origin:https://app.example.com");
        assert!(matches!(&origin, Fault::CorsOrigin(o) if o.as_str() == "https://app.example.com"));
        // A '+' inside a header name is part of the name, not a combination.
        let plus: Fault = "cors_drop_header:a+b".parse()?;
        assert_eq!(plus.to_string(), "cors_drop_header:a+b");
        for text in ["cors_drop_header:a+b", "flaky:5+cors_drop_header:a+b"] {
            let change: FaultChange = text.parse()?;
            assert_eq!(change.fault, Some(plus.clone()), "{text}");
        }
        let mut region = RegionFaults::default();
        region.apply(&"cors_drop_header:a+b+flaky:5".parse()?);
        assert_eq!(region.to_string(), "flaky:5+cors_drop_header:a+b");
        region.apply(&"cors_origin:http://localhost:3000".parse()?);
        assert_eq!(
            region.to_string(),
            "flaky:5+cors_origin:http://localhost:3000"
        );
        let mut again = RegionFaults::default();
        again.apply(&region.to_string().parse()?);
        assert_eq!(again, region);
        for (text, variant) in [
            ("cors_drop_header:", "header"),
            ("cors_drop_header:a:b", "header"),
            ("cors_origin:", "origin"),
            ("cors_origin:https://a.example/", "origin"),
        ] {
            let got = text.parse::<Fault>();
            let ok = match variant {
                "header" => matches!(got, Err(FaultError::BadHeaderName { .. })),
                _ => matches!(got, Err(FaultError::BadOrigin { .. })),
            };
            assert!(ok, "{text}: {got:?}");
        }
        Ok(())
    }

    #[test]
    fn bad_fault_text_is_rejected() {
        assert!(matches!(
            "explode".parse::<Fault>(),
            Err(FaultError::UnknownFault(_))
        ));
        assert!(matches!(
            "latency_ms".parse::<Fault>(),
            Err(FaultError::BadNumber { .. })
        ));
        assert!(matches!(
            "large_body:-1".parse::<Fault>(),
            Err(FaultError::BadNumber { .. })
        ));
        assert!(matches!(
            "hang:3".parse::<Fault>(),
            Err(FaultError::UnknownFault(_))
        ));
    }

    #[test]
    fn fault_requests_parse_and_reject_garbage() {
        let ok = parse_fault_request(br#"{"region":"*","fault":"hang"}"#);
        assert_eq!(
            ok,
            Ok(FaultRequest {
                region: None,
                change: Fault::Hang.into()
            })
        );
        assert!(parse_fault_request(b"not json").is_err());
        assert!(parse_fault_request(br#"["hang"]"#).is_err());
        assert!(parse_fault_request(br#"{"fault":"hang"}"#).is_err());
        assert!(parse_fault_request(br#"{"region":"eu","fault":"boom"}"#).is_err());
    }
}

#[cfg(test)]
mod flaky_tests {
    use super::*;

    fn rate(percent: &str) -> FlakyRate {
        percent.parse().unwrap_or_default()
    }

    #[test]
    fn flaky_combines_with_one_behaviour_fault() -> Result<(), FaultError> {
        let mut region = RegionFaults::default();
        region.apply(&"flaky:5".parse()?);
        assert_eq!(region.to_string(), "flaky:5");
        region.apply(&"require_traits_key".parse()?);
        assert_eq!(
            region,
            RegionFaults {
                flaky: rate("5"),
                fault: Fault::RequireTraitsKey
            }
        );
        assert_eq!(region.to_string(), "flaky:5+require_traits_key");
        region.apply(&"flaky:0.5".parse()?);
        assert_eq!(region.to_string(), "flaky:0.5+require_traits_key");
        region.apply(&"flaky:0".parse()?);
        assert_eq!(region.to_string(), "require_traits_key");
        region.apply(&"hang+flaky:20".parse()?);
        assert_eq!(region.to_string(), "flaky:20+hang");
        // The shown text sets exactly that state again.
        let mut again = RegionFaults::default();
        again.apply(&region.to_string().parse()?);
        assert_eq!(again, region);
        region.apply(&"none".parse()?);
        assert_eq!(region, RegionFaults::default());
        assert_eq!(region.to_string(), "none");
        Ok(())
    }

    #[test]
    fn bad_flaky_values_and_combinations_are_refused() {
        for text in [
            "flaky",
            "flaky:",
            "flaky:-1",
            "flaky:101",
            "flaky:abc",
            "flaky:1e1",
        ] {
            assert!(
                matches!(text.parse::<FaultChange>(), Err(FaultError::BadPercent(_))),
                "{text}"
            );
        }
        for text in [
            "flaky:5+flaky:3",
            "flaky:5+none",
            "none+flaky:5",
            "hang+reset",
        ] {
            assert!(
                matches!(
                    text.parse::<FaultChange>(),
                    Err(FaultError::BadCombination(_))
                ),
                "{text}"
            );
        }
        let message = parse_fault_request(br#"{"region":"*","fault":"flaky:150"}"#);
        assert!(
            message.as_ref().is_err_and(|m| m.contains("0 to 100")),
            "{message:?}"
        );
    }
}
