-- Publish policy (SPEC §10): when the public first saw an incident. A detector's incident stays
-- internal (null) until its failure has lasted `detect.publish_after` or a person speaks; the
-- page, feeds, Statuspage API and subscribers see only incidents with a time here. Incidents
-- from before this column existed were all public.
alter table incident add column published_at integer;
update incident set published_at = created_at;
create index incident_published on incident (published_at, created_at) where published_at is not null;

-- How often failures came back during `monitoring`: each relapse makes the detector wait longer
-- before it calls the next recovery `monitoring`, so a flapping target does not flap the page.
alter table incident add column relapses integer not null default 0 check (relapses >= 0);

-- What the probes saw behind an update (status, error class, response excerpt, request shape):
-- on-call mail and the admin API always show it; public text only with `page.show_evidence`.
alter table incident_update add column evidence text not null default '';
