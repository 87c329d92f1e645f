-- Events that lineage refused because their run was already sealed (docs/spec/lineage.md,
-- "After the seal"). They are in neither the event store nor the projection: this table is
-- their record, written in the transaction that stores the batch's consumer offsets, so a
-- replay neither loses nor doubles one. It is not a projection table: `rebuild` leaves it
-- alone (the store it refolds never held these events).
-- (0005 is left to the hasher pool, see 0006.)

CREATE TABLE refused_events (
    position          bigserial PRIMARY KEY,      -- refusal order
    event_id          uuid NOT NULL UNIQUE,       -- refused once, however often it arrives
    run_id            text NOT NULL,
    workspace_id      text NOT NULL,
    type              text NOT NULL,
    producer          text NOT NULL,              -- the producer kind: sdk, api, hasher, ...
    seq               bigint,
    event_time        timestamptz NOT NULL,
    reason            text NOT NULL,
    body              bytea NOT NULL,             -- the bytes as they were on the canonical topic
    source_topic      text NOT NULL,
    source_partition  integer NOT NULL,
    source_offset     bigint NOT NULL,
    refused_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refused_events_run ON refused_events (run_id, position);

-- Insert-only, like the event store.
CREATE FUNCTION cognify_refuse_refusal_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'refused_events is insert-only: % on refused_events is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER refused_events_insert_only BEFORE UPDATE OR DELETE ON refused_events
    FOR EACH ROW EXECUTE FUNCTION cognify_refuse_refusal_change();
CREATE TRIGGER refused_events_no_truncate BEFORE TRUNCATE ON refused_events
    FOR EACH STATEMENT EXECUTE FUNCTION cognify_refuse_refusal_change();
REVOKE UPDATE, DELETE, TRUNCATE ON refused_events FROM PUBLIC;
