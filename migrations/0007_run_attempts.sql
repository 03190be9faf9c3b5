-- Confirmation retries (SPEC §10): how many requests a run took. 1 for a run that passed at
-- once; 1 + retries for one that failed first. A run that passed on a retry keeps its count,
-- so flakiness stays visible in history even though the run counts as passed.
alter table run add column attempts integer not null default 1 check (attempts >= 1);
