-- Rollout gates (issue 13): the runs a `[[gate]]` makes against a candidate deployment, kept
-- apart from `run` so they can never reach detection, rollups or a public page, their counts
-- per minute, and the windows
-- Flagger opens (its first call for a canary revision starts the window its verdicts read).
create table gate_run (
    gate_run_id integer primary key,
    gate_id     text    not null,
    -- the configured probe id or the builtin shape id the gate's `probes` glob matched
    probe_id    text    not null,
    region_id   text    not null,
    started_at  integer not null,
    latency_us  integer not null check (latency_us >= 0),
    status_code integer check (status_code between 100 and 599),
    outcome     text    not null check (outcome in ('ok', 'degraded', 'http_status', 'assertion',
                    'timeout', 'connect', 'dns', 'tls', 'reset', 'body_too_large', 'invalid_json',
                    'cors')),
    -- only for a failed run: what a verdict's reason and a person need, nothing for a pass
    message     text,
    attempts    integer not null check (attempts >= 1)
) strict;

create index gate_run_by_gate_time on gate_run (gate_id, started_at);

-- A verdict quotes the newest failure of each probe; most runs pass, so this index stays small.
create index gate_run_failures on gate_run (gate_id, started_at)
    where outcome not in ('ok', 'degraded');

-- Runs and failures per probe, region and whole minute of `started_at`, kept by the writer in
-- the transaction that stores the runs: a verdict over a long window sums minutes instead of
-- reading every run (only the window's first, partial minute is read from `gate_run`).
create table gate_minute (
    gate_id   text    not null,
    -- the minute's first millisecond
    minute    integer not null check (minute % 60000 = 0),
    probe_id  text    not null,
    region_id text    not null,
    samples   integer not null check (samples >= 1),
    failures  integer not null check (failures between 0 and samples),
    primary key (gate_id, minute, probe_id, region_id)
) strict, without rowid;

create table gate_window (
    gate_id    text    not null,
    -- `namespace/name` of the Flagger canary
    canary     text    not null,
    -- the revision Flagger names in `checksum`
    checksum   text    not null,
    started_at integer not null,
    primary key (gate_id, canary, checksum)
) strict, without rowid;
