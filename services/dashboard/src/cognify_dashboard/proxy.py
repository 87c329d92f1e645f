"""The SPA's only way to the services: `/api/<service>/<path>` forwarded to that service's
`/<path>` with the session's key (httpx, one connection pool per service).

Only API paths are forwarded: `v1/...` or `v2/...` made of plain segments. Anything else
(`..`, `.`, empty segments, percent-encoded bytes such as `%2e`, a scheme or host) never
leaves the dashboard: a 404, as for a path that does not exist. The service answers for
itself: its status and body come back unchanged (and streamed, for package downloads), with
the headers a browser needs to show or save them.

The reviewer's address travels as `X-Forwarded-For`; the services believe it only from a
peer they are configured to trust (`COGNIFY_TRUSTED_PROXIES`, cognify_access.records).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import httpx

SERVICES = ("ingest", "lineage", "exporter")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"})
# A segment: what the services' identifiers and route words are made of (the event
# contract's Ident characters), never "." or "..".
_SEGMENT = re.compile(r"^[A-Za-z0-9_:@-][A-Za-z0-9._:@-]{0,127}$")
_VERSION = frozenset({"v1", "v2"})
# What comes back besides the body: how to read it, how to save it, why to wait, and the
# package's hash and object key the exporter sends with a download.
PASSED_BACK = (
    "content-type",
    "content-disposition",
    "retry-after",
    "x-cognify-package-hash",
    "x-cognify-object-key",
    "cache-control",
)
MAX_PATH = 1024


def upstream_path(raw_path: bytes, prefix: str) -> str | None:
    """The service path for a request's raw (still percent-encoded) path, or None when it
    may not be forwarded. `prefix` is the dashboard's part, e.g. `/api/lineage/`."""
    if len(raw_path) > MAX_PATH or b"%" in raw_path or b"\\" in raw_path:
        return None
    try:
        path = raw_path.decode("ascii")
    except UnicodeDecodeError:
        return None
    if not path.startswith(prefix):
        return None
    segments = path[len(prefix) :].split("/")
    if segments[0] not in _VERSION or len(segments) < 2:
        return None
    if not all(_SEGMENT.match(s) for s in segments[1:]):
        return None
    return "/" + "/".join(segments)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: AsyncIterator[bytes]
    close: httpx.Response


class Forwarder:
    """One pooled client per service. `send` returns the service's answer still streaming;
    the caller hands `body` to the browser and closes `close` when done."""

    def __init__(self, urls: Mapping[str, str], timeout_s: float = 60.0) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self.clients = {
            name: httpx.AsyncClient(
                base_url=url, timeout=httpx.Timeout(timeout_s, connect=5.0), limits=limits
            )
            for name, url in urls.items()
        }

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        query: bytes,
        key: str,
        client: str | None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> Answer:
        headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, */*"}
        if client:
            headers["X-Forwarded-For"] = client
        if body:
            headers["Content-Type"] = content_type or "application/json"
        http = self.clients[service]
        url = httpx.URL(path, query=query) if query else httpx.URL(path)
        request = http.build_request(method, url, headers=headers, content=body or None)
        response = await http.send(request, stream=True)
        passed = {h: response.headers[h] for h in PASSED_BACK if h in response.headers}
        return Answer(response.status_code, passed, response.aiter_raw(), response)

    async def json(
        self, service: str, path: str, key: str, client: str | None
    ) -> tuple[int, object]:
        """A small GET answered as (status, parsed JSON or None)."""
        headers = {"Authorization": f"Bearer {key}"}
        if client:
            headers["X-Forwarded-For"] = client
        response = await self.clients[service].get(path, headers=headers)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, None

    async def aclose(self) -> None:
        for http in self.clients.values():
            await http.aclose()
