"""cognify-hasher: checkpoint SHA-256 and dataset Merkle roots.

Not built yet (issue #5). The package exists so that the workspace, the Dockerfile and
docker-compose.yml describe the whole system; running it says so instead of pretending.
"""
