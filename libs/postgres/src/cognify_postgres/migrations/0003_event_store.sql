-- The lineage event store: every event of the canonical topic, once, in an insert-only table
-- with a per-chain hash chain (docs/spec/lineage.md gives the exact formula).
-- A chain is one run's events (chain_id = run_id) or a workspace's own events
-- (chain_id = 'workspace:<workspace_id>', e.g. access records and retention changes).

CREATE TABLE events (
    position      bigserial PRIMARY KEY,          -- store order: rebuild replays in this order
    event_id      uuid NOT NULL UNIQUE,           -- a redelivered event is skipped, never doubled
    chain_id      text NOT NULL,
    chain_index   integer NOT NULL CHECK (chain_index >= 0),
    workspace_id  text NOT NULL,
    run_id        text,
    type          text NOT NULL,
    seq           bigint,
    event_time    timestamptz NOT NULL,
    body          bytea NOT NULL,                 -- the canonical JSON bytes that were hashed
    prev_hash     text NOT NULL,
    hash          text NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (chain_id, chain_index)
);

-- The database itself refuses to change history. A superuser can still get round a trigger
-- (session_replication_role = replica); the hash chain is what makes that visible.
CREATE FUNCTION cognify_refuse_event_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is insert-only: % on events is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER events_insert_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION cognify_refuse_event_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION cognify_refuse_event_change();
REVOKE UPDATE, DELETE, TRUNCATE ON events FROM PUBLIC;

-- The head of each chain, so that appending needs one indexed read instead of a max().
CREATE TABLE chain_heads (
    chain_id      text PRIMARY KEY,
    workspace_id  text NOT NULL,
    length        integer NOT NULL,
    head_hash     text NOT NULL
);
