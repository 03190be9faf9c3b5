-- What an incident update must tell each audience, written in the update's own transaction (the
-- detector's ingest or a person's action). It exists so that transaction never reads the
-- subscriber list or renders mail: the sender expands each row into one outbox row per recipient
-- later, in transactions of its own, and stamps `expanded_at` in the last of them.
create table mail_event (
    mail_event_id integer primary key,
    update_id     integer not null references incident_update (update_id),
    audience      text    not null check (audience in ('on_call', 'subscribers')),
    created_at    integer not null,
    expanded_at   integer,
    -- a replayed update queues nothing new
    unique (update_id, audience)
) strict;

-- The sender's "what is left to expand", oldest first, without scanning expanded events.
create index mail_event_pending on mail_event (mail_event_id) where expanded_at is null;
