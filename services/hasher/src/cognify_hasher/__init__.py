"""cognify-hasher: the worker pool that hashes checkpoints (SHA-256 manifests) and datasets
(RFC 6962 Merkle roots) for hash jobs, and publishes the results as events.

`python -m cognify_hasher` runs one worker; ops scale the pool by starting more processes.
The formats are in docs/spec/hashing.md; the pure hashing core is `cognify_hashing`; where
a job may read, and for which workspace, in docs/hasher.md (`tenancy`, `storage`).
"""

__version__ = "0.1.0"
