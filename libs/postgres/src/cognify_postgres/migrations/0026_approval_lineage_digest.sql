-- An approval records the lineage graph it was about (issue 13): the SHA-256 of the run's
-- lineage graph (nodes and edges, docs/spec/lineage.md "Lineage digest") as lineage folded
-- it just before the decision. Folded from the events, so `rebuild` gives it again; null
-- for decisions folded before this column (rebuild fills it).

ALTER TABLE approvals ADD COLUMN lineage_digest text;
CREATE OR REPLACE VIEW lineage_read.approvals AS SELECT * FROM public.approvals;
