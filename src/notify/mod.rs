//! Telling people: mails composed from askama templates and queued in the outbox inside the
//! transaction of the event that causes them, and the sender that delivers the outbox.

pub mod messages;
pub mod sender;

pub use messages::MailContext;
