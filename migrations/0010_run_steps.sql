-- Sequences (issue 11): a run of a shape of several requests records how each went, as a JSON
-- list `[{"step","page","status","latency_us","outcome"}, …]` in request order. NULL for a
-- shape of one request, so the common run costs no bytes for it.
alter table run add column steps text;
