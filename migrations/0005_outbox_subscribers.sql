-- Every mail mimic sends, written in the same transaction as the event that causes it, then
-- delivered by the sender; a row is marked sent only after the SMTP server accepted it.
create table outbox (
    outbox_id       integer primary key,
    -- makes a replayed event harmless: one row per (event, recipient)
    dedupe_key      text    not null unique,
    kind            text    not null check (kind in ('alert', 'update', 'confirmation')),
    recipient       text    not null,
    subject         text    not null,
    text_body       text    not null,
    html_body       text,
    -- extra headers as a JSON array of [name, value] (List-Unsubscribe and friends)
    headers         text    not null default '[]' check (json_valid(headers)),
    message_id      text    not null unique,
    status          text    not null check (status in ('pending', 'sent', 'failed')),
    attempts        integer not null default 0,
    next_attempt_at integer not null,
    last_error      text    not null default '',
    created_at      integer not null,
    sent_at         integer
) strict;

create index outbox_due on outbox (status, next_attempt_at);
create index outbox_by_recipient on outbox (recipient, status, outbox_id);

-- People who asked for incident mail: pending until they follow the confirmation link.
create table subscriber (
    subscriber_id      integer primary key,
    email              text    not null unique,
    status             text    not null check (status in ('pending', 'confirmed', 'unsubscribed')),
    -- component ids to hear about, JSON array; empty means all
    components         text    not null default '[]' check (json_valid(components)),
    confirm_token      text    unique,
    confirm_expires_at integer,
    unsubscribe_token  text    not null unique,
    created_at         integer not null,
    confirmed_at       integer,
    unsubscribed_at    integer
) strict;
