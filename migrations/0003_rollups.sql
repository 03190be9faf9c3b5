-- Per probe and region, per hour and per day: runs, failures, slow runs and a latency histogram
-- (counts per upper bound in ms: 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, above),
-- added to as each batch of runs is stored, so history never needs the raw runs.
create table probe_rollup (
    probe_id     text    not null,
    region_id    text    not null,
    component_id text    not null,
    bucket       text    not null check (bucket in ('hour', 'day')),
    bucket_start integer not null,
    runs         integer not null,
    failures     integer not null,
    degraded     integer not null,
    l0 integer not null, l1 integer not null, l2 integer not null, l3 integer not null,
    l4 integer not null, l5 integer not null, l6 integer not null, l7 integer not null,
    l8 integer not null, l9 integer not null, l10 integer not null, l11 integer not null,
    primary key (probe_id, region_id, bucket, bucket_start)
) strict;

-- Per component and region, per hour and per day: milliseconds observed in each scope status.
-- Downtime on the page is partial + major outage; time the daemon was not running is not counted.
create table scope_rollup (
    component_id   text    not null,
    region_id      text    not null,
    bucket         text    not null check (bucket in ('hour', 'day')),
    bucket_start   integer not null,
    operational_ms integer not null,
    degraded_ms    integer not null,
    partial_ms     integer not null,
    major_ms       integer not null,
    primary key (component_id, region_id, bucket, bucket_start)
) strict;

create index probe_rollup_by_time on probe_rollup (bucket, bucket_start);
create index scope_rollup_by_time on scope_rollup (bucket, bucket_start);
