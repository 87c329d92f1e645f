-- Least privilege (issue 13, docs/spec/trust.md "PostgreSQL roles").
--
-- Migrations run as the owner role (the one that runs this file, `cognify` on the local
-- stack; it needs CREATEROLE). It owns every table. Each service connects as its own role,
-- which owns nothing and holds only the grants below, so no service can ALTER a table,
-- disable a trigger, or grant itself more:
--
--   cognify_lineage   INSERT and SELECT on the event store (never UPDATE, DELETE, TRUNCATE or
--                     ALTER), its projection, offsets and chain heads; publishes its read
--                     contract as the views of schema lineage_read.
--   cognify_ingest    workspaces and keys (read), run ownership, retention; lineage's data
--                     only through lineage_read.
--   cognify_exporter  seal keys, documentation, the package index, retention (read); lineage's
--                     data only through lineage_read (its search_path finds the views first).
--
-- The roles are NOLOGIN here: the deployment gives each a password (deploy/stack does for
-- the local stack). Roles are cluster-wide, so creating them is idempotent.
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['cognify_ingest', 'cognify_lineage', 'cognify_exporter'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', r);
        END IF;
    END LOOP;
END
$$;

-- Nothing by default: what each role may do is granted below, table by table.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO cognify_ingest, cognify_lineage, cognify_exporter;
GRANT SELECT ON schema_migrations TO cognify_ingest, cognify_lineage, cognify_exporter;

-- Who may call the APIs: every service authenticates bearer keys.
GRANT SELECT ON workspaces, api_keys, people TO cognify_ingest, cognify_lineage, cognify_exporter;

-- lineage: the event store, append-only for it too (the triggers stay as a second wall).
GRANT SELECT, INSERT ON events, refused_events TO cognify_lineage;
GRANT USAGE ON SEQUENCE events_position_seq, refused_events_position_seq TO cognify_lineage;
GRANT SELECT, INSERT, UPDATE ON chain_heads, consumer_offsets TO cognify_lineage;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON
    runs, lineage_nodes, lineage_edges, findings, metric_points, annotations, approvals,
    access_log, dataset_roots
    TO cognify_lineage;

-- lineage's read contract: what the other services may read of its data. Views run with
-- their owner's rights, so a reader needs no right on the tables behind them.
CREATE SCHEMA lineage_read;
CREATE VIEW lineage_read.events AS
    SELECT position, event_id, chain_id, chain_index, workspace_id, run_id, type, seq,
           event_time, body, prev_hash, hash, stored_at FROM public.events;
CREATE VIEW lineage_read.chain_heads AS SELECT * FROM public.chain_heads;
CREATE VIEW lineage_read.refused_events AS SELECT * FROM public.refused_events;
CREATE VIEW lineage_read.runs AS SELECT * FROM public.runs;
CREATE VIEW lineage_read.lineage_nodes AS SELECT * FROM public.lineage_nodes;
CREATE VIEW lineage_read.lineage_edges AS SELECT * FROM public.lineage_edges;
CREATE VIEW lineage_read.findings AS SELECT * FROM public.findings;
CREATE VIEW lineage_read.metric_points AS SELECT * FROM public.metric_points;
CREATE VIEW lineage_read.annotations AS SELECT * FROM public.annotations;
CREATE VIEW lineage_read.approvals AS SELECT * FROM public.approvals;
CREATE VIEW lineage_read.access_log AS SELECT * FROM public.access_log;
CREATE VIEW lineage_read.dataset_roots AS SELECT * FROM public.dataset_roots;
GRANT USAGE ON SCHEMA lineage_read TO cognify_ingest, cognify_exporter, cognify_lineage;
GRANT SELECT ON ALL TABLES IN SCHEMA lineage_read TO cognify_ingest, cognify_exporter,
    cognify_lineage;

-- ingest
GRANT SELECT, INSERT ON run_owners TO cognify_ingest;
GRANT SELECT, UPDATE ON retention_settings TO cognify_ingest;

-- exporter
GRANT SELECT, INSERT, UPDATE ON seal_keys, workspace_documentation TO cognify_exporter;
GRANT SELECT, INSERT ON exports TO cognify_exporter;
GRANT SELECT ON retention_settings TO cognify_exporter;
ALTER ROLE cognify_exporter SET search_path = lineage_read, public;
