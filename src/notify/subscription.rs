//! Subscriptions: double opt-in sign-up (the confirmation mail is queued in the sign-up's
//! transaction), confirmation, and one-click unsubscription (RFC 8058). The web handlers call
//! these; this module owns the tokens and the transactions.

use super::messages::{queue_confirmation, MailContext};
use super::Error;
use crate::domain::{ComponentId, EmailAddress, SubscriberStatus, Timestamp};
use crate::store::subscribers::{self, SignUp};
use crate::store::Store;
use rand::RngCore;
use std::time::Duration;

/// How long a confirmation link works.
pub const CONFIRM_FOR: Duration = Duration::from_secs(24 * 3600);

/// A fresh random token: 24 bytes as 48 lowercase hex characters.
pub fn token() -> String {
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Whether `t` looks like a token this module made (checked before any query).
pub fn valid_token(t: &str) -> bool {
    t.len() == 48 && t.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Signs `address` up for `components` (empty: all) and queues its confirmation mail; an
/// address that is already confirmed gets nothing (the page says the same either way).
pub async fn sign_up(
    store: &Store,
    mail: &MailContext,
    address: &EmailAddress,
    components: &[ComponentId],
    now: Timestamp,
) -> Result<(), Error> {
    let mut tx = store.begin_write().await?;
    let result = subscribers::sign_up(
        &mut tx,
        address,
        components,
        &token(),
        &token(),
        now.plus(CONFIRM_FOR),
        now,
    )
    .await?;
    if let SignUp::Confirm { token, .. } = &result {
        queue_confirmation(&mut tx, mail, address, token, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Confirms the holder of an unexpired confirmation `token`; false when none matches.
pub async fn confirm(store: &Store, token: &str, now: Timestamp) -> Result<bool, Error> {
    let mut tx = store.begin_write().await?;
    let confirmed = subscribers::confirm(&mut tx, token, now).await?.is_some();
    tx.commit().await?;
    Ok(confirmed)
}

/// Where the holder of an unsubscribe `token` stands; `None` for an unknown token.
pub async fn status_of(store: &Store, token: &str) -> Result<Option<SubscriberStatus>, Error> {
    let mut conn = store.pool().acquire().await?;
    Ok(subscribers::select_status_by_unsubscribe_token(&mut conn, token).await?)
}

/// Unsubscribes the holder of `token`; false when no subscriber matches.
pub async fn unsubscribe(store: &Store, token: &str, now: Timestamp) -> Result<bool, Error> {
    let mut tx = store.begin_write().await?;
    let matched = subscribers::unsubscribe(&mut tx, token, now).await?;
    tx.commit().await?;
    Ok(matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_48_hex_characters_and_differ() {
        let (a, b) = (token(), token());
        assert!(valid_token(&a) && valid_token(&b));
        assert_ne!(a, b);
        assert!(!valid_token("../../etc/passwd"));
    }
}
