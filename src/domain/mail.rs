//! Mail and subscription enums stored as TEXT with a CHECK constraint (migrations 0005, 0006);
//! `as_str` is the one spelling, `ALL` lists every variant for the round-trip tests.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
        #[serde(rename_all = "snake_case")]
        #[sqlx(type_name = "TEXT", rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every variant, for exhaustive tests.
            pub const ALL: &'static [$name] = &[$(Self::$variant,)+];

            /// The snake_case name used in SQL and JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What a queued mail is (`outbox.kind`).
    MailKind {
        /// An on-call alert about an incident update.
        Alert => "alert",
        /// A subscriber's copy of an incident update.
        Update => "update",
        /// The double opt-in link of a sign-up.
        Confirmation => "confirmation",
    }
);

text_enum!(
    /// Where a queued mail stands (`outbox.status`).
    MailStatus {
        /// Not yet accepted by the mail server; retried while attempts remain.
        Pending => "pending",
        /// Accepted by the mail server.
        Sent => "sent",
        /// Given up on: a permanent refusal or too many attempts.
        Failed => "failed",
    }
);

text_enum!(
    /// Who hears about an incident update (`mail_event.audience`).
    Audience {
        /// The addresses in `alerts.on_call`, as they are when the sender expands the event.
        OnCall => "on_call",
        /// Confirmed subscribers whose component filter matches, as they are at expansion.
        Subscribers => "subscribers",
    }
);

text_enum!(
    /// Where a subscriber stands (`subscriber.status`).
    SubscriberStatus {
        /// Signed up, confirmation link not yet followed.
        Pending => "pending",
        /// Gets incident mail.
        Confirmed => "confirmed",
        /// Left with the one-click link.
        Unsubscribed => "unsubscribed",
    }
);
