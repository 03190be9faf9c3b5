-- Every run of every probe in every region: the raw record that detection, metrics and the
-- uptime rollups are computed from. Kept for `storage.retention`, then pruned.
create table run (
    run_id       integer primary key,
    probe_id     text    not null,
    component_id text    not null,
    region_id    text    not null,
    shape_id     text    not null,
    -- when the scheduler meant to start it and when it really did (UTC ms): lateness is kept
    -- so scheduler health is visible in history, not only in a live gauge
    due_at       integer not null,
    started_at   integer not null,
    lateness_us  integer not null,
    latency_us   integer not null,
    status_code  integer,
    outcome      text    not null check (outcome in ('ok', 'degraded', 'http_status', 'assertion',
                     'timeout', 'connect', 'dns', 'tls', 'reset', 'body_too_large', 'invalid_json')),
    message      text    not null,
    excerpt      text    not null,
    created_at   integer not null
) strict;

create index run_by_probe_region_time on run (probe_id, region_id, started_at);
create index run_by_time on run (started_at);
