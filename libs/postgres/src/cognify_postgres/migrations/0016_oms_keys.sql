-- Issue 15: each workspace's OpenSSF Model Signing key (docs/decisions/oms.md), an ECDSA
-- P-256 key beside the Ed25519 seal key: model_signing verifies only ECDSA keys. The
-- private half is stored only sealed (AES-256-GCM under the exporter's master key, the
-- workspace id and the purpose `oms-p256` as associated data); the public half is published
-- (GET /v1/workspaces/{id}/oms-key). Never updated, never deleted: a key signs for good.
CREATE TABLE oms_keys (
    workspace_id        text PRIMARY KEY REFERENCES workspaces (workspace_id),
    key_hint            text NOT NULL UNIQUE CHECK (key_hint ~ '^[0-9a-f]{64}$'),
    algorithm           text NOT NULL DEFAULT 'ecdsa-p256-sha256'
                        CHECK (algorithm = 'ecdsa-p256-sha256'),
    public_key_pem      bytea NOT NULL,
    private_key_sealed  bytea NOT NULL,
    sealing             text NOT NULL DEFAULT 'aes-256-gcm-v1',
    created_at          timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON oms_keys TO cognify_exporter;
