-- The newest run already folded into probe_rollup. Probe rollups are flushed from memory once a
-- minute; at start, runs after this mark are folded from the raw runs, so a kill -9 loses none.
create table rollup_watermark (
    watermark_id integer primary key check (watermark_id = 1),
    last_run_id  integer not null
) strict;

insert into rollup_watermark (watermark_id, last_run_id)
select 1, coalesce(max(run_id), 0) from run;
