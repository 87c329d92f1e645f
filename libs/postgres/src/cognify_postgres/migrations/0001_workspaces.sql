-- Workspaces, their credentials, and the consumers' positions.
-- Keys are never stored in clear: see docs/spec/events.md (signatures) and the ingest docs.

CREATE TABLE workspaces (
    workspace_id     text PRIMARY KEY,
    name             text NOT NULL,
    compliance_tier  text NOT NULL DEFAULT 'standard'
                     CHECK (compliance_tier IN ('standard', 'healthcare', 'finance', 'eu_ai_act')),
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    key_id        text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (workspace_id),
    role          text NOT NULL CHECK (role IN ('writer', 'reviewer', 'admin')),
    key_hash      text NOT NULL,
    label         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id);

-- Consumer positions stored in the same transaction as the rows they produced
-- (exactly-once projection, see DESIGN.md principle 3).
CREATE TABLE consumer_offsets (
    group_id     text NOT NULL,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    next_offset  bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);
