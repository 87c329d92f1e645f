"""cognify-ingest: validate, authenticate and route raw events.

Not built yet (issue #4). The package exists so that the workspace, the Dockerfile and
docker-compose.yml describe the whole system; running it says so instead of pretending.
"""
