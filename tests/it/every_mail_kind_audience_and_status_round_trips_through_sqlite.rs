//! Every mail kind and status, every audience and every subscriber status is accepted by its
//! table's CHECK and reads back as itself, so the Rust enums and the schema cannot drift apart.

use mimic::domain::{
    Audience, ComponentId, EmailAddress, Impact, IncidentStatus, MailKind, MailStatus,
    SubscriberStatus, Timestamp,
};
use mimic::incident::people::{self, Opening};
use mimic::store::outbox::{self, NewMail};
use mimic::store::{mail_events, subscribers, Store};

#[tokio::test]
async fn every_variant_is_stored_and_read_back() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(&dir.path().join("m.db").to_string_lossy())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let now = Timestamp::now();
    let inc = people::open(
        &store,
        None,
        &Opening {
            title: "t".into(),
            impact: Impact::Minor,
            status: IncidentStatus::Investigating,
            body: "b".into(),
            components: vec![ComponentId::new("edge-api")],
            regions: Vec::new(),
            author: "ops".into(),
        },
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut conn = store
        .pool()
        .acquire()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    for (i, kind) in MailKind::ALL.iter().enumerate() {
        let key = format!("k{i}");
        let mail = NewMail {
            dedupe_key: key.clone(),
            kind: *kind,
            recipient: "a@example.com".into(),
            subject: "s".into(),
            text: "t".into(),
            html: None,
            headers: Vec::new(),
            message_id: format!("m{i}@example.com"),
        };
        outbox::insert_mails(&mut conn, &[mail], now)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let back: MailKind = sqlx::query_scalar("select kind from outbox where dedupe_key = ?")
            .bind(&key)
            .fetch_one(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(back, *kind);
    }
    for status in MailStatus::ALL {
        sqlx::query("update outbox set status = ? where dedupe_key = 'k0'")
            .bind(status)
            .execute(&mut *conn)
            .await
            .unwrap_or_else(|e| panic!("{status}: {e}"));
        let back: MailStatus =
            sqlx::query_scalar("select status from outbox where dedupe_key = 'k0'")
                .fetch_one(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("{status}: {e}"));
        assert_eq!(back, *status);
    }
    let update = inc.updates[0].id;
    for audience in Audience::ALL {
        mail_events::insert_mail_event(&mut conn, update, *audience, now)
            .await
            .unwrap_or_else(|e| panic!("{audience}: {e}"));
    }
    let events = mail_events::select_pending_events(&mut conn, 10)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let audiences: Vec<Audience> = events.iter().map(|e| e.audience).collect();
    assert_eq!(audiences, Audience::ALL);
    assert!(events.iter().all(|e| e.incident_id == inc.id));

    let addr = EmailAddress::parse("reader@example.org").unwrap_or_else(|e| panic!("{e}"));
    let (confirm, leave) = ("ab".repeat(24), "cd".repeat(24));
    subscribers::sign_up(
        &mut conn,
        &addr,
        &[],
        &confirm,
        &leave,
        now.plus(std::time::Duration::from_secs(60)),
        now,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let mut seen = vec![subscribers::select_status_by_unsubscribe_token(&mut conn, &leave).await];
    subscribers::confirm(&mut conn, &confirm, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    seen.push(subscribers::select_status_by_unsubscribe_token(&mut conn, &leave).await);
    subscribers::unsubscribe(&mut conn, &leave, now)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    seen.push(subscribers::select_status_by_unsubscribe_token(&mut conn, &leave).await);
    let seen: Vec<SubscriberStatus> = seen
        .into_iter()
        .map(|s| {
            s.unwrap_or_else(|e| panic!("{e}"))
                .unwrap_or_else(|| panic!("known token"))
        })
        .collect();
    assert_eq!(seen, SubscriberStatus::ALL);

    for bad in [
        "update outbox set kind = 'digest' where dedupe_key = 'k0'",
        "update outbox set status = 'bounced' where dedupe_key = 'k0'",
        "update mail_event set audience = 'everyone'",
        "update subscriber set status = 'maybe'",
    ] {
        let r = sqlx::query(bad).execute(&mut *conn).await;
        assert!(r.is_err(), "the CHECK must refuse: {bad}");
    }
}
