"""cognify-lineage-model: lineage's read contract in code (docs/decisions/lineage-contract.md).

`model` is the folded run as frozen values, `graph` its JSON views (the lineage graph, the
findings, the run summary), `findings` the finding kinds that other services act on. Pure:
no I/O. Lineage folds events into these values and stores them; readers of its published
views (`lineage_read`, docs/spec/trust.md) map rows back into them.
"""

__version__ = "0.1.0"
