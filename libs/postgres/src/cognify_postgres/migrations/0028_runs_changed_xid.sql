-- Lineage answers the runs list from a cache of encoded pages (issue 14, bench/dashboard.py),
-- kept under the workspace's version: `max(changed_xid)` over its runs. Every write of a
-- run's row (the fold's upsert, which also carries every change of its findings; the
-- abandonment sweep; a rebuild) stamps the row with the writing transaction's id, so a
-- committed change raises the maximum. Transaction ids only grow (xid8 never wraps), and a
-- reader caches a page only when no transaction with a lower id than the maximum was still
-- in progress in its snapshot (cognify_lineage.runlist): no commit can then land under the
-- version it cached. Nothing is locked: concurrent folds of one workspace never wait on a
-- shared counter row. Not published in lineage_read.runs: lineage's own read path only.
ALTER TABLE runs ADD COLUMN changed_xid xid8;

CREATE FUNCTION runs_stamp_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.changed_xid := pg_current_xact_id();
    RETURN NEW;
END
$$;

CREATE TRIGGER runs_changed BEFORE INSERT OR UPDATE ON runs
    FOR EACH ROW EXECUTE FUNCTION runs_stamp_changed();

CREATE INDEX runs_workspace_changed ON runs (workspace_id, changed_xid);
