"""The kinds of finding a run can have (`Finding.kind`; a finding's id is `<kind>:<subject>`).

docs/spec/lineage.md, "Findings". Lineage opens and resolves them as it folds; the exporter
refuses a seal while some are open (cognify_exporter.seal).
"""

DATASET_CHANGED = "dataset-changed"  # a dataset's root changed between two registrations
HASH_FAILED = "hash-failed"  # the hasher could not hash an artifact
HASH_MISMATCH = "hash-mismatch"  # the hasher's hash differs from the one the SDK reported
SEQUENCE_GAP = "sequence-gap"  # producer sequence numbers missing
SEQUENCE_CONFLICT = "sequence-conflict"  # an event refused: its seq was already claimed
PROVENANCE_INCOMPLETE = "provenance-incomplete"  # a dataset short of its tier's provenance
SEAL_REFUSED = "seal-refused"  # the exporter refused a seal
STALE_SEAL = "stale-seal"  # a run.sealed refused: it did not name the chain's head
EVENT_AFTER_SEAL = "event-after-seal"  # an event refused: its run was already sealed
