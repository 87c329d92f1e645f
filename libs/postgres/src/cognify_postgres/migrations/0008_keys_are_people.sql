-- Keys are people, and seal keys have a history (issue 13, docs/spec/trust.md).

-- The person who holds an API key: printed name and title as they sign (21 CFR 11.50), and
-- an email. A name is unique in its workspace, so that an approval naming a person names
-- one person; rotation issues another key to the same person, and a revoked key keeps its
-- person, so an old approval still names who made it.
CREATE TABLE people (
    person_id     text PRIMARY KEY CHECK (person_id ~ '^p-[0-9a-f]{12}$'),
    workspace_id  text NOT NULL REFERENCES workspaces (workspace_id),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 256 AND name = btrim(name)),
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 256 AND title = btrim(title)),
    email         text CHECK (email IS NULL OR length(email) BETWEEN 3 AND 320),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workspace_id, name)
);
ALTER TABLE api_keys ADD COLUMN person_id text REFERENCES people (person_id);
CREATE INDEX api_keys_person ON api_keys (person_id);

-- Seal keys keep their history: a rotated key is retired, never deleted, so a package it
-- signed still verifies against the published history. One current key per workspace.
-- Key ids become the full fingerprint: 'ed25519:' + 64 hex of SHA-256(public key).
ALTER TABLE seal_keys DROP CONSTRAINT seal_keys_pkey;
ALTER TABLE seal_keys ADD COLUMN retired_at timestamptz;
UPDATE seal_keys SET key_id = 'ed25519:' || encode(sha256(public_key), 'hex');
ALTER TABLE seal_keys ADD PRIMARY KEY (key_id);
ALTER TABLE seal_keys ADD CONSTRAINT seal_keys_fingerprint
    CHECK (key_id = 'ed25519:' || encode(sha256(public_key), 'hex'));
CREATE UNIQUE INDEX seal_keys_current ON seal_keys (workspace_id) WHERE retired_at IS NULL;
