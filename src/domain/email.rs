//! A validated email address: parsed by lettre's RFC 5321 rules, no control characters (so no
//! header injection), at most 254 characters, lower-cased domain.

use std::fmt;
use std::str::FromStr;

/// An address mail can be sent to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses and normalises an address, or says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("enter an email address".into());
        }
        if s.chars().any(char::is_control) {
            return Err("an email address cannot contain line breaks or control characters".into());
        }
        if s.len() > 254 {
            return Err("that email address is too long".into());
        }
        let addr = lettre::Address::from_str(s)
            .map_err(|_| format!("{s:?} is not a valid email address"))?;
        Ok(Self(format!(
            "{}@{}",
            addr.user(),
            addr.domain().to_ascii_lowercase()
        )))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_addresses_parse_and_bad_ones_say_why() {
        assert_eq!(
            EmailAddress::parse(" Ana@Example.COM ").map(|a| a.to_string()),
            Ok("Ana@example.com".to_owned())
        );
        assert!(EmailAddress::parse("a@b.c\r\nBcc: x@y.z").is_err());
        assert!(EmailAddress::parse("not an address").is_err());
        assert!(EmailAddress::parse("").is_err());
        assert!(EmailAddress::parse(&format!("{}@x.io", "a".repeat(260))).is_err());
    }
}
