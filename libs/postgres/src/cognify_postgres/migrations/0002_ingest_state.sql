-- Ingest's command-side state: event signing keys, run ownership and retention settings.

-- The HMAC key the SDK signs events with (hex of cognify_events.signing.signing_key(api_key)).
-- It is itself a hash of the API key, so the clear key is still never stored; ingest needs it
-- to verify signatures, and it cannot be used to call the HTTP API (key_hash guards that).
ALTER TABLE api_keys ADD COLUMN signing_key text;

-- Which workspace a run belongs to, claimed by the first authenticated event of the run.
-- Kept by ingest itself (not read from the lineage projection, which lags) so that a second
-- workspace can never write into a run, however fast it races the first.
CREATE TABLE run_owners (
    run_id        text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (workspace_id),
    project       text NOT NULL,
    claimed_at    timestamptz NOT NULL DEFAULT now()
);

-- PATCH /v2/workspaces/{id}/retention: the current settings and the admin's floor. Retention
-- only ever grows through the API: shortening below the current value or the floor is refused.
CREATE TABLE retention_settings (
    workspace_id         text PRIMARY KEY REFERENCES workspaces (workspace_id),
    retention_years      integer NOT NULL CHECK (retention_years BETWEEN 1 AND 100),
    archive_after_days   integer NOT NULL CHECK (archive_after_days BETWEEN 0 AND 36500),
    auto_export_on_seal  boolean NOT NULL DEFAULT false,
    auto_export_format   text NOT NULL DEFAULT 'json' CHECK (auto_export_format IN ('pdf', 'json', 'xlsx')),
    floor_years          integer NOT NULL DEFAULT 1 CHECK (floor_years BETWEEN 1 AND 100),
    updated_by           text NOT NULL DEFAULT '',
    updated_at           timestamptz NOT NULL DEFAULT now()
);
