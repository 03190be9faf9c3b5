-- Planned maintenance (SPEC §12), as Statuspage models it: a window over components (and
-- optionally some of their regions) that goes scheduled → in_progress → verifying → completed.
-- Made by a person through the admin API, or from a `[[maintenance]]` recurring in config (one
-- row per occurrence, unique per recurring id and start).
create table maintenance (
    maintenance_id  integer primary key,
    title           text    not null,
    status          text    not null check (status in ('scheduled', 'in_progress', 'verifying', 'completed')),
    scheduled_for   integer not null,
    scheduled_until integer not null check (scheduled_until > scheduled_for),
    -- JSON arrays of ids; an empty region list covers every region of the components
    components      text    not null check (json_valid(components) and json_array_length(components) > 0),
    regions         text    not null default '[]' check (json_valid(regions)),
    auto_start      integer not null default 1 check (auto_start in (0, 1)),
    auto_complete   integer not null default 1 check (auto_complete in (0, 1)),
    recurring_id    text,
    created_at      integer not null,
    updated_at      integer not null,
    started_at      integer,
    completed_at    integer,
    unique (recurring_id, scheduled_for)
) strict;

-- What the ticker looks at: windows not yet completed.
create index maintenance_open on maintenance (status, scheduled_for) where status != 'completed';

create table maintenance_update (
    update_id      integer primary key,
    maintenance_id integer not null references maintenance (maintenance_id),
    status         text    not null check (status in ('scheduled', 'in_progress', 'verifying', 'completed')),
    body           text    not null,
    author         text    not null,
    created_at     integer not null
) strict;

create index maintenance_update_by_maintenance on maintenance_update (maintenance_id, update_id);

-- Like mail_event for incidents: what a maintenance update must tell each audience, written in
-- the update's transaction and expanded into the outbox by the sender.
create table maintenance_mail_event (
    mail_event_id integer primary key,
    update_id     integer not null references maintenance_update (update_id),
    audience      text    not null check (audience in ('on_call', 'subscribers')),
    created_at    integer not null,
    expanded_at   integer,
    unique (update_id, audience)
) strict;

create index maintenance_mail_event_pending on maintenance_mail_event (mail_event_id)
    where expanded_at is null;

-- Runs made while their scope was under maintenance: stored (the probe keeps probing), never
-- counted towards an incident. Scope time under maintenance is neither uptime nor downtime.
alter table run add column in_maintenance integer not null default 0 check (in_maintenance in (0, 1));
alter table scope_rollup add column maintenance_ms integer not null default 0;
