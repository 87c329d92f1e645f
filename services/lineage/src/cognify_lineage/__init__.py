"""cognify-lineage: the event store, its hash chain, and the lineage DAG projection.

`dag` (the pure fold, with `nodes` and `sequence`), `model` (its values), `chain` (the hash
chain), `graph` (JSON views), `postgres` and `projection` (the store and the tables),
`kafka` (the canonical-topic worker), `api` (the read API), `app` (the composition root).
"""

__version__ = "0.1.0"
