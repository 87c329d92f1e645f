"""What ingest, lineage and the exporter share about callers: the API key format and its
hashing (`keys`, pure), and the HTTP scaffolding of a service (`service`)."""
