-- What detection remembers about each probe in each region, written in the same transaction as
-- the runs that changed it, so a restart (kill -9 included) resumes counting exactly where it was.
create table probe_state (
    probe_id              text    not null,
    region_id             text    not null,
    component_id          text    not null,
    health                text    not null check (health in ('healthy', 'failing')),
    consecutive_failures  integer not null,
    consecutive_successes integer not null,
    consecutive_degraded  integer not null,
    degraded              integer not null check (degraded in (0, 1)),
    -- start of the current failure streak (UTC ms), the incident's "started"
    failing_since         integer,
    last_run_at           integer,
    last_outcome          text,
    last_status_code      integer,
    last_message          text    not null default '',
    -- evidence from the newest failed run, quoted in incident updates
    last_failure_at       integer,
    failure_outcome       text,
    failure_status_code   integer,
    failure_message       text    not null default '',
    failure_excerpt       text    not null default '',
    updated_at            integer not null,
    primary key (probe_id, region_id)
) strict;

-- An incident: opened by the detector or a person, carried through its statuses to resolved.
create table incident (
    incident_id      integer primary key,
    title            text    not null,
    impact           text    not null check (impact in ('none', 'minor', 'major', 'critical')),
    status           text    not null check (status in ('investigating', 'identified', 'monitoring',
                         'resolved', 'postmortem')),
    -- affected component and region ids, JSON arrays of strings
    components       text    not null check (json_valid(components) and json_type(components) = 'array'),
    regions          text    not null check (json_valid(regions) and json_type(regions) = 'array'),
    started_at       integer not null,
    created_at       integer not null,
    monitoring_at    integer,
    resolved_at      integer,
    opened_by        text    not null check (opened_by in ('detector', 'person')),
    -- who set the current status and impact: the detector never overrides a person's later word
    status_set_by    text    not null check (status_set_by in ('detector', 'person')),
    impact_set_by    text    not null check (impact_set_by in ('detector', 'person')),
    -- the detector's bookkeeping: the probe@region pairs it has already named (JSON array of
    -- [probe, region]), when it last announced new ones, and the newest failed run it saw
    announced        text    not null default '[]' check (json_valid(announced)),
    last_growth_at   integer,
    last_failure_at  integer,
    updated_at       integer not null
) strict;

create index incident_by_status on incident (status, created_at);

-- The timeline: every status update, oldest first, by `mimic` or a named person.
create table incident_update (
    update_id   integer primary key,
    incident_id integer not null references incident (incident_id),
    status      text    not null check (status in ('investigating', 'identified', 'monitoring',
                    'resolved', 'postmortem')),
    body        text    not null,
    author      text    not null,
    created_at  integer not null
) strict;

create index incident_update_by_incident on incident_update (incident_id, created_at);

-- The postmortem a person publishes after resolution, Markdown as written.
create table postmortem (
    incident_id  integer primary key references incident (incident_id),
    body         text    not null,
    author       text    not null,
    published_at integer not null,
    updated_at   integer not null
) strict;
