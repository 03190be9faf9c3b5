-- Alert channels (SPEC §12): every delivery to Slack, PagerDuty, Discord, Teams or a signed
-- webhook is a row written in the same transaction as the incident or maintenance update that
-- causes it, one per (event, channel). The channel sender renders and posts it later, oldest first per channel,
-- and marks it sent only after the receiver's success code.
create table channel_delivery (
    delivery_id     integer primary key,
    channel_id      text    not null,
    -- makes a replayed event harmless: one row per (event, channel)
    dedupe_key      text    not null unique,
    -- an incident update, a maintenance update, or a test a person asked for
    event           text    not null check (event in ('incident', 'maintenance', 'test')),
    incident_id     integer references incident (incident_id),
    update_id       integer references incident_update (update_id),
    -- for `maintenance`: the maintenance_update row (table made by 0013)
    maintenance_update_id integer,
    -- PagerDuty's event_action; `post` for the other kinds
    action          text    not null check (action in ('post', 'trigger', 'resolve')),
    status          text    not null check (status in ('pending', 'sent', 'failed')),
    attempts        integer not null default 0,
    next_attempt_at integer not null,
    last_error      text    not null default '',
    created_at      integer not null,
    sent_at         integer,
    check (event != 'incident' or update_id is not null),
    check (event != 'maintenance' or maintenance_update_id is not null)
) strict;

-- The sender's "oldest pending delivery of this channel".
create index channel_delivery_queue on channel_delivery (channel_id, status, delivery_id);
-- "has this channel heard of this incident" (min_impact lets recoveries through).
create index channel_delivery_incident on channel_delivery (incident_id, channel_id);

-- What each channel is doing. A channel that answered 410 (or its kind's "gone" codes) is
-- stopped: its deliveries wait, and a changed url, key or secret (another fingerprint) or
-- `POST /api/admin/channels/{id}/resume` starts it again.
create table channel_state (
    channel_id      text    primary key,
    fingerprint     text    not null,
    stopped_at      integer,
    stop_reason     text    not null default '',
    last_success_at integer,
    last_error      text    not null default '',
    last_error_at   integer
) strict;
