//! The `subscriber` table: sign-up, confirmation, unsubscription, and the confirmed list.

use super::Error;
use crate::domain::{ComponentId, EmailAddress, SubscriberStatus, Timestamp};
use sqlx::SqliteConnection;

/// A confirmed subscriber, as the mailer needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    /// Row id.
    pub id: i64,
    /// Address.
    pub email: String,
    /// Components to hear about; empty means all.
    pub components: Vec<ComponentId>,
    /// Token in the unsubscribe link.
    pub unsubscribe_token: String,
}

/// What a sign-up did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignUp {
    /// New or still pending: a confirmation mail is due, with this token.
    Confirm {
        /// Row id.
        id: i64,
        /// Fresh confirmation token.
        token: String,
    },
    /// Already confirmed: nothing to send (the page says the same either way).
    AlreadyConfirmed,
}

/// Creates a pending subscriber, or refreshes the token of a pending or unsubscribed one.
pub async fn sign_up(
    conn: &mut SqliteConnection,
    email: &EmailAddress,
    components: &[ComponentId],
    confirm_token: &str,
    unsubscribe_token: &str,
    expires_at: Timestamp,
    now: Timestamp,
) -> Result<SignUp, Error> {
    let email = email.as_str();
    let existing = sqlx::query!(
        r#"select subscriber_id as "id!", status as "status: SubscriberStatus"
           from subscriber where email = ?"#,
        email
    )
    .fetch_optional(&mut *conn)
    .await?;
    let components = serde_json::to_string(components).map_err(|e| Error::Encode(e.to_string()))?;
    let (expires, now) = (expires_at.as_millis(), now.as_millis());
    match existing {
        Some(r) if r.status == SubscriberStatus::Confirmed => Ok(SignUp::AlreadyConfirmed),
        Some(r) => {
            sqlx::query!(
                "update subscriber set status = 'pending', components = ?, confirm_token = ?,
                     confirm_expires_at = ?, unsubscribed_at = null
                 where subscriber_id = ?",
                components,
                confirm_token,
                expires,
                r.id
            )
            .execute(&mut *conn)
            .await?;
            Ok(SignUp::Confirm {
                id: r.id,
                token: confirm_token.to_owned(),
            })
        }
        None => {
            let id = sqlx::query_scalar!(
                r#"insert into subscriber (email, status, components, confirm_token,
                       confirm_expires_at, unsubscribe_token, created_at)
                   values (?, 'pending', ?, ?, ?, ?, ?) returning subscriber_id as "id!: i64""#,
                email,
                components,
                confirm_token,
                expires,
                unsubscribe_token,
                now
            )
            .fetch_one(&mut *conn)
            .await?;
            Ok(SignUp::Confirm {
                id,
                token: confirm_token.to_owned(),
            })
        }
    }
}

/// Confirms the subscriber holding an unexpired `token`; the token then stops working.
pub async fn confirm(
    conn: &mut SqliteConnection,
    token: &str,
    now: Timestamp,
) -> Result<Option<String>, Error> {
    let now = now.as_millis();
    Ok(sqlx::query_scalar!(
        r#"update subscriber set status = 'confirmed', confirmed_at = ?, confirm_token = null,
               confirm_expires_at = null
           where confirm_token = ? and status = 'pending' and confirm_expires_at > ?
           returning email"#,
        now,
        token,
        now
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Where the holder of an unsubscribe token stands, if the token is known.
pub async fn select_status_by_unsubscribe_token(
    conn: &mut SqliteConnection,
    token: &str,
) -> Result<Option<SubscriberStatus>, Error> {
    Ok(sqlx::query_scalar!(
        r#"select status as "status: SubscriberStatus" from subscriber where unsubscribe_token = ?"#,
        token
    )
    .fetch_optional(&mut *conn)
    .await?)
}

/// Unsubscribes the holder of `token`; returns whether a subscriber matched.
pub async fn unsubscribe(
    conn: &mut SqliteConnection,
    token: &str,
    now: Timestamp,
) -> Result<bool, Error> {
    let now = now.as_millis();
    let n = sqlx::query!(
        "update subscriber set status = 'unsubscribed', unsubscribed_at = coalesce(unsubscribed_at, ?),
             confirm_token = null
         where unsubscribe_token = ?",
        now,
        token
    )
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(n > 0)
}

/// Up to `limit` confirmed subscribers with an id above `after`, by id (keyset paging, so a
/// long list is read in bounded pieces).
pub async fn select_confirmed_page(
    conn: &mut SqliteConnection,
    after: i64,
    limit: i64,
) -> Result<Vec<Subscriber>, Error> {
    let rows = sqlx::query!(
        r#"select subscriber_id as "id!", email, components, unsubscribe_token
           from subscriber where status = 'confirmed' and subscriber_id > ?
           order by subscriber_id limit ?"#,
        after,
        limit
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Subscriber {
            id: r.id,
            email: r.email,
            components: serde_json::from_str(&r.components).unwrap_or_default(),
            unsubscribe_token: r.unsubscribe_token,
        })
        .collect())
}

/// Ids of the subscribers confirmed now with an id in `first..=last`.
pub async fn select_confirmed_ids_between(
    conn: &mut SqliteConnection,
    first: i64,
    last: i64,
) -> Result<Vec<i64>, Error> {
    Ok(sqlx::query_scalar!(
        r#"select subscriber_id as "id!: i64" from subscriber
           where status = 'confirmed' and subscriber_id between ? and ?"#,
        first,
        last
    )
    .fetch_all(&mut *conn)
    .await?)
}

/// (pending, confirmed, unsubscribed) counts.
pub async fn subscriber_counts(conn: &mut SqliteConnection) -> Result<(i64, i64, i64), Error> {
    let r = sqlx::query!(
        r#"select coalesce(sum(status = 'pending'), 0) as "pending!: i64",
                  coalesce(sum(status = 'confirmed'), 0) as "confirmed!: i64",
                  coalesce(sum(status = 'unsubscribed'), 0) as "unsubscribed!: i64"
           from subscriber"#
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok((r.pending, r.confirmed, r.unsubscribed))
}
