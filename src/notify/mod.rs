//! Telling people. An incident update writes one `mail_event` row per audience in its own
//! transaction ([`messages::queue_latest`]); the sender expands each event into per-recipient
//! outbox rows in transactions of its own ([`fanout`]), renders them from askama templates and
//! delivers the outbox. Sign-up, confirmation and unsubscription live in [`subscription`].

pub mod fanout;
pub mod maintenance;
pub mod messages;
pub mod sender;
pub mod subscription;

pub use messages::MailContext;

/// Why telling people failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] crate::store::Error),
    /// A mail template did not render (a bug in a template, not in the input).
    #[error("rendering a mail failed: {0}")]
    Render(String),
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(crate::store::Error::Sql(e))
    }
}
