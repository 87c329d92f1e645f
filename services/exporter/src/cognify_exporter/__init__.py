"""cognify-exporter: seal runs and write signed audit packages to WORM storage.

Not built yet (issue #6). The package exists so that the workspace, the Dockerfile and
docker-compose.yml describe the whole system; running it says so instead of pretending.
"""
