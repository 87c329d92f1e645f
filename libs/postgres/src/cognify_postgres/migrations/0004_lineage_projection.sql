-- The lineage projection: a fold of the event store (services/lineage, dag.py), rebuildable
-- at any time by `python -m cognify_lineage rebuild`. Nothing here is evidence by itself.

CREATE TABLE runs (
    run_id         text PRIMARY KEY,
    workspace_id   text NOT NULL,
    project        text NOT NULL,
    status         text NOT NULL,       -- running completed failed interrupted abandoned AUDIT_SEALED
    name           text,
    tags           jsonb NOT NULL DEFAULT '{}',
    started_at     timestamptz,
    last_event_at  timestamptz NOT NULL,
    sealed_at      timestamptz,
    doc            jsonb NOT NULL      -- the rest of the run's folded state (dag.Run)
);
CREATE INDEX runs_workspace ON runs (workspace_id, project, status);
CREATE INDEX runs_tags ON runs USING gin (tags);
CREATE INDEX runs_running ON runs (last_event_at) WHERE status = 'running';

CREATE TABLE lineage_nodes (
    run_id       text NOT NULL,
    node_id      text NOT NULL,
    ordinal      integer NOT NULL,
    type         text NOT NULL,
    hash         text,
    hash_status  text NOT NULL,          -- pending computed failed
    hash_reason  text,
    node_time    timestamptz NOT NULL,
    attrs        jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, node_id)
);

CREATE TABLE lineage_edges (
    run_id   text NOT NULL,
    from_id  text NOT NULL,
    to_id    text NOT NULL,
    ordinal  integer NOT NULL,
    PRIMARY KEY (run_id, from_id, to_id)
);

CREATE TABLE findings (
    run_id       text NOT NULL,
    finding_id   text NOT NULL,
    kind         text NOT NULL,          -- dataset-changed sequence-gap hash-failed hash-mismatch
    subject      text NOT NULL,
    detail       jsonb NOT NULL DEFAULT '{}',
    opened_at    timestamptz NOT NULL,
    resolved_at  timestamptz,
    resolution   jsonb,
    PRIMARY KEY (run_id, finding_id)
);

CREATE TABLE metric_points (
    run_id      text NOT NULL,
    name        text NOT NULL,
    step        bigint NOT NULL,
    value       double precision NOT NULL,
    epoch       double precision,
    point_time  timestamptz NOT NULL,
    PRIMARY KEY (run_id, name, step)
);

CREATE TABLE annotations (
    run_id         text NOT NULL,
    annotation_id  text NOT NULL,
    node_id        text NOT NULL,
    author_name    text NOT NULL,
    author_role    text NOT NULL,
    body           text NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (run_id, annotation_id)
);

CREATE TABLE approvals (
    event_id       uuid PRIMARY KEY,
    run_id         text NOT NULL,
    decision       text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reviewer_name  text NOT NULL,
    reviewer_role  text NOT NULL,
    comment        text,
    decided_at     timestamptz NOT NULL
);
CREATE INDEX approvals_run ON approvals (run_id, decided_at);

-- The audit system's record of its own use (access.recorded), for the HIPAA template.
CREATE TABLE access_log (
    event_id      uuid PRIMARY KEY,
    workspace_id  text NOT NULL,
    actor         text NOT NULL,
    role          text NOT NULL,
    action        text NOT NULL,
    object_id     text NOT NULL,
    address       text,
    allowed       boolean NOT NULL,
    accessed_at   timestamptz NOT NULL
);
CREATE INDEX access_log_object ON access_log (workspace_id, object_id, accessed_at);

-- The latest known root of each dataset (by workspace, name and source), across runs: what
-- a new registration is compared against to find a changed dataset.
CREATE TABLE dataset_roots (
    workspace_id  text NOT NULL,
    name          text NOT NULL,
    source        text NOT NULL,          -- source_uri, '' when the SDK hashed it in memory
    root          text NOT NULL,
    run_id        text NOT NULL,
    dataset_id    text NOT NULL,
    PRIMARY KEY (workspace_id, name, source)
);
