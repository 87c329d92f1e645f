"""cognify-dashboard: the reviewer's single-page app and its backend-for-frontend (BFF).

`session` (pure: the server-side session store, CSRF tokens, idle expiry, the sign-in
limiter), `proxy` (forwarding to ingest, lineage and the exporter with the session's key),
`live` (server-sent events fed from Kafka), `static` (the SPA's files and the security
headers), `app` (the composition root). docs/spec/dashboard.md.
"""

__version__ = "0.1.0"
