-- lineage's read contract names its columns (issue 13, docs/decisions/lineage-contract.md).
--
-- The views of lineage_read (0009, 0025, 0026) were `SELECT *` of their tables. PostgreSQL
-- expands the star once, when a view is created, so they already had fixed columns; written
-- out here, the columns each view publishes are readable in one place and reviewed like any
-- other contract change: a column that lineage adds to a table is published only by a
-- migration that adds it to the view (at the end: CREATE OR REPLACE VIEW may only append),
-- and dropping a published column fails until the view is changed. Readers select by
-- explicit column lists (cognify_exporter.views, cognify_ingest.postgres).
--
-- The columns and their order are exactly those of before, so this changes nothing a reader
-- sees, and CREATE OR REPLACE keeps every grant (0009: ingest, exporter and lineage read).
-- `events` was already explicit (0009) and stays as it is.

CREATE OR REPLACE VIEW lineage_read.chain_heads AS
    SELECT chain_id, workspace_id, length, head_hash FROM public.chain_heads;
CREATE OR REPLACE VIEW lineage_read.refused_events AS
    SELECT position, event_id, run_id, workspace_id, type, producer, seq, event_time, reason,
           body, source_topic, source_partition, source_offset, refused_at
    FROM public.refused_events;
CREATE OR REPLACE VIEW lineage_read.runs AS
    SELECT run_id, workspace_id, project, status, name, tags, started_at, last_event_at,
           sealed_at, doc
    FROM public.runs;
CREATE OR REPLACE VIEW lineage_read.lineage_nodes AS
    SELECT run_id, node_id, ordinal, type, hash, hash_status, hash_reason, node_time, attrs
    FROM public.lineage_nodes;
CREATE OR REPLACE VIEW lineage_read.lineage_edges AS
    SELECT run_id, from_id, to_id, ordinal FROM public.lineage_edges;
CREATE OR REPLACE VIEW lineage_read.findings AS
    SELECT run_id, finding_id, kind, subject, detail, opened_at, resolved_at, resolution
    FROM public.findings;
CREATE OR REPLACE VIEW lineage_read.metric_points AS
    SELECT run_id, name, step, value, epoch, point_time FROM public.metric_points;
CREATE OR REPLACE VIEW lineage_read.annotations AS
    SELECT run_id, annotation_id, node_id, author_name, author_role, body, created_at
    FROM public.annotations;
CREATE OR REPLACE VIEW lineage_read.approvals AS
    SELECT event_id, run_id, decision, reviewer_name, reviewer_role, comment, decided_at,
           lineage_digest
    FROM public.approvals;
CREATE OR REPLACE VIEW lineage_read.access_log AS
    SELECT event_id, workspace_id, actor, role, action, object_id, address, allowed,
           accessed_at
    FROM public.access_log;
CREATE OR REPLACE VIEW lineage_read.dataset_roots AS
    SELECT workspace_id, name, source, root, run_id, dataset_id FROM public.dataset_roots;
CREATE OR REPLACE VIEW lineage_read.chain_anchors AS
    SELECT chain_id, workspace_id, length, head_hash, object_key, anchored_at
    FROM public.chain_anchors;
