"""cognify-ingest: validate, authenticate and route raw events; the HTTP front door.

Everything that enters Cognify passes here: `validate` (the pure gate), `routing` (where an
accepted or rejected event goes), `gate` (a batch through the door), `kafka` (the raw-topic
worker), `http` (events over HTTP, reviewer and admin commands, retention), `admin` (the
`cognify-admin` CLI), `app` (the composition root).
"""

__version__ = "0.1.0"
