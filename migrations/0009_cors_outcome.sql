-- A new outcome class, `cors`: a browser would refuse the answer (issue 11). The outcome list is
-- a CHECK on `run.outcome`, and SQLite cannot alter a CHECK, so `run` is rebuilt the way SQLite's
-- "Making Other Kinds Of Table Schema Changes" describes: a new table with the identical columns
-- (in the same order, 0007's `attempts` included) and constraints plus 'cors', every row copied
-- with its `run_id` (rollup_watermark.last_run_id points at run ids), the old table dropped, the
-- new one renamed, and its indexes made again. No other table constrains outcome values
-- (probe_state.last_outcome and failure_outcome are unchecked text), and no foreign key, trigger
-- or view refers to `run`, so nothing else needs rebuilding. sqlx runs this in one transaction.
create table run_new (
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
                     'timeout', 'connect', 'dns', 'tls', 'reset', 'body_too_large', 'invalid_json',
                     'cors')),
    message      text    not null,
    excerpt      text    not null,
    created_at   integer not null,
    attempts     integer not null default 1 check (attempts >= 1)
) strict;

insert into run_new (run_id, probe_id, component_id, region_id, shape_id, due_at, started_at,
                     lateness_us, latency_us, status_code, outcome, message, excerpt, created_at,
                     attempts)
select run_id, probe_id, component_id, region_id, shape_id, due_at, started_at,
       lateness_us, latency_us, status_code, outcome, message, excerpt, created_at, attempts
from run;

drop table run;
alter table run_new rename to run;

create index run_by_probe_region_time on run (probe_id, region_id, started_at);
create index run_by_time on run (started_at);
