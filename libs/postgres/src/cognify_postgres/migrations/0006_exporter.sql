-- The exporter's state: each workspace's Ed25519 seal key, the organisation-supplied text
-- and seal policy the templates and the sealability check read, and the packages written.
-- (0005 is left to the hasher pool, which is being built at the same time.)

-- One seal key per workspace. The private key is never stored in clear: it is encrypted
-- with AES-256-GCM under the exporter's master key (COGNIFY_SEAL_MASTER_KEY, 32 bytes as
-- hex), with the workspace id as associated data so a sealed key cannot be moved to another
-- workspace's row. The public key is published by the exporter's API.
CREATE TABLE seal_keys (
    workspace_id        text PRIMARY KEY REFERENCES workspaces (workspace_id),
    key_id              text NOT NULL UNIQUE,     -- 'ed25519:' + first 16 hex of SHA-256(public key)
    algorithm           text NOT NULL DEFAULT 'ed25519' CHECK (algorithm = 'ed25519'),
    public_key          bytea NOT NULL,           -- 32 raw bytes
    private_key_sealed  bytea NOT NULL,           -- 12-byte nonce || AES-GCM(ciphertext || tag)
    sealing             text NOT NULL DEFAULT 'aes-256-gcm-v1',
    created_at          timestamptz NOT NULL DEFAULT now()
);

-- What the organisation supplies for the report templates (never invented by Cognify: a
-- missing value is printed as "not supplied"), and the seal policy.
CREATE TABLE workspace_documentation (
    workspace_id             text PRIMARY KEY REFERENCES workspaces (workspace_id),
    required_approvals       integer NOT NULL DEFAULT 1 CHECK (required_approvals >= 0),
    intended_use             text,
    known_limitations        text,
    deployment_restrictions  text,
    acceptable_use_policy    text,
    phi_handling             text,
    encryption_at_rest       text,
    incident_policy_url      text,
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- Every package written to WORM storage (the export.completed events say the same; this is
-- the exporter's index to find them again without replaying the log).
CREATE TABLE exports (
    run_id         text NOT NULL,
    format         text NOT NULL CHECK (format IN ('pdf', 'json', 'xlsx')),
    template       text NOT NULL,
    workspace_id   text NOT NULL,
    bucket         text NOT NULL,
    object_key     text NOT NULL,
    envelope_key   text NOT NULL,
    package_hash   text NOT NULL,
    size           bigint NOT NULL,
    retain_until   timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, format, template)
);
