-- The dashboard's lists stay fast at 10,000 runs (bench/dashboard.py): the runs list's
-- default order (newest activity first, run_id to break ties) and the access log's
-- (newest first) are read from an index, a page at a time, never sorted whole.
CREATE INDEX runs_workspace_recent ON runs (workspace_id, last_event_at DESC, run_id DESC);
CREATE INDEX access_log_recent ON access_log (workspace_id, accessed_at DESC, event_id DESC);
