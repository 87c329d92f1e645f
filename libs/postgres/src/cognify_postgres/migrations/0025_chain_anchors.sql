-- Chain heads anchored outside the database (docs/spec/anchors.md). The anchors themselves
-- are signed segments in Object Lock storage; this table only says how far each chain was
-- anchored, so that an anchor round finds the chains that grew without listing the store.
-- Lineage never trusts it for what was anchored: it reads that back from the store.

CREATE TABLE chain_anchors (
    chain_id      text PRIMARY KEY,
    workspace_id  text NOT NULL,
    length        integer NOT NULL,
    head_hash     text NOT NULL,
    object_key    text,                               -- the segment that anchored `length`
    anchored_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON chain_anchors TO cognify_lineage;
CREATE VIEW lineage_read.chain_anchors AS SELECT * FROM public.chain_anchors;
GRANT SELECT ON lineage_read.chain_anchors TO cognify_ingest, cognify_exporter, cognify_lineage;
