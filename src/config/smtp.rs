//! `[smtp]` as the mailer uses it: where mail goes (a URL lettre's SMTP transport accepts, or a
//! folder for `.eml` files) and a From mailbox parsed by lettre. Parsed here, with the mailer's
//! own parsers, so `mimic config check` refuses what `mimic serve` would; the URL's
//! credentials never show in `Debug` output or in errors.

use crate::domain::EmailAddress;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use secrecy::SecretString;
use std::fmt;
use std::path::PathBuf;

/// `[smtp]`
#[derive(Debug, Clone)]
pub struct Smtp {
    /// Transport URL.
    pub url: SmtpUrl,
    /// From header.
    pub from: Mailbox,
}

/// `smtp.url`, checked the way the sender will use it.
#[derive(Clone)]
pub enum SmtpUrl {
    /// `smtp://` or `smtps://`, accepted by `AsyncSmtpTransport::from_url`; may hold a password.
    Server {
        /// The URL as written, credentials included.
        url: SecretString,
        /// The URL with its password replaced by `***`, for logs and errors.
        shown: String,
    },
    /// `file://DIR`: `.eml` files in a folder (the demo).
    Files(PathBuf),
}

impl SmtpUrl {
    /// Parses `smtp.url`, or says what is wrong without repeating a password.
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(dir) = text.strip_prefix("file://") {
            if dir.trim().is_empty() {
                return Err(
                    "file:// needs a folder for .eml files, e.g. file:///var/mail/mimic".into(),
                );
            }
            return Ok(Self::Files(PathBuf::from(dir)));
        }
        let shown = redacted(text)?;
        if !(text.starts_with("smtp://") || text.starts_with("smtps://")) {
            return Err(format!(
                "{shown:?} must start with smtp://, smtps:// or file:// (a folder for .eml files)"
            ));
        }
        // The sender builds its transport from the same call; only the builder is dropped here.
        AsyncSmtpTransport::<Tokio1Executor>::from_url(text)
            .map_err(|e| format!("{shown:?}: {e}"))?;
        Ok(Self::Server {
            url: SecretString::from(text),
            shown,
        })
    }
}

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Server { shown, .. } => f.debug_tuple("Server").field(shown).finish(),
            Self::Files(dir) => f.debug_tuple("Files").field(dir).finish(),
        }
    }
}

/// The URL with any password replaced by `***`; an unparseable URL is not repeated at all,
/// since it may hold a password that the URL parser could not find.
fn redacted(text: &str) -> Result<String, String> {
    let mut url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if url.password().is_none() {
        return Ok(text.to_owned());
    }
    url.set_password(Some("***"))
        .map_err(|()| "not a URL with a host".to_owned())?;
    Ok(url.to_string())
}

/// Parses `smtp.from` with lettre's mailbox parser (what the sender puts in `From:`), and its
/// address with the same rules as every address mimic mails.
pub fn parse_from(text: &str) -> Result<Mailbox, String> {
    if text.trim().is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain line breaks or control characters".into());
    }
    let mailbox: Mailbox = text.parse().map_err(|e| {
        format!("{text:?} is not a mailbox like \"Status <status@example.com>\" ({e})")
    })?;
    EmailAddress::parse(mailbox.email.as_ref())?;
    Ok(mailbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_the_transport_refuses_are_refused_and_passwords_never_repeated() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.example.com:587?tls=required",
            "smtps://ops:hunter2@mail.example.com",
        ] {
            assert!(SmtpUrl::parse(good).is_ok(), "{good}");
        }
        assert!(matches!(
            SmtpUrl::parse("file:///tmp/mail"),
            Ok(SmtpUrl::Files(d)) if d == std::path::Path::new("/tmp/mail")
        ));
        for bad in [
            "file://",
            "http://mail.example.com",
            "smtp://mail.example.com?tls=sometimes",
            "smtp://",
            "garbage",
            "smtps://ops:hunter2@",
        ] {
            let e = SmtpUrl::parse(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} passed"));
            assert!(!e.contains("hunter2"), "{e}");
        }
        let shown = format!(
            "{:?}",
            SmtpUrl::parse("smtps://ops:hunter2@mail.example.com")
        );
        assert!(
            shown.contains("ops:***@mail.example.com") && !shown.contains("hunter2"),
            "{shown}"
        );
    }

    #[test]
    fn the_from_mailbox_is_what_lettre_parses() {
        let m = parse_from("Example Status <status@example.com>").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.email.to_string(), "status@example.com");
        assert!(parse_from("status@example.com").is_ok());
        for bad in [
            "",
            "  ",
            "Status <ops..team@example.com>",
            "not an address",
            "a@b.c\r\nBcc: x@y.z",
        ] {
            assert!(parse_from(bad).is_err(), "{bad:?} passed");
        }
    }
}
