"""The SPA's only way to the services: `/api/<service>/<path>` forwarded to that service's
`/<path>` with the session's key (aiohttp, one pooled session).

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

import aiohttp
import yarl

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
    "etag",
    "content-encoding",
    "vary",
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
    length: int | None = None  # Content-Length, when the service sent one

    async def read(self) -> bytes:
        """The whole body (and the connection released)."""
        return b"".join([chunk async for chunk in self.body])


class Forwarder:
    """One pooled aiohttp session for the three services. `send` returns the service's
    answer still streaming; its body iterator releases the connection when it ends.

    aiohttp rather than httpx: on this machine httpx's connection pool spent milliseconds
    per request assigning 20 concurrent requests to connections, and the dashboard answered
    half as many requests per second (bench/dashboard.py; docs/decisions/dashboard.md)."""

    def __init__(self, urls: Mapping[str, str], timeout_s: float = 60.0) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.timeout = aiohttp.ClientTimeout(total=None, connect=5.0, sock_read=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:  # made inside the running loop, on first use
            # Idle connections are dropped before uvicorn's own 5 s keep-alive closes them
            # under a request on its way (a "server disconnected" for the reviewer).
            connector = aiohttp.TCPConnector(limit=64, ttl_dns_cache=300, keepalive_timeout=3)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeout, auto_decompress=False
            )
        return self._session

    def _url(self, service: str, path: str, query: bytes = b"") -> yarl.URL:
        text = self.urls[service] + path + (f"?{query.decode('latin-1')}" if query else "")
        return yarl.URL(text, encoded=True)  # the path was checked; the query goes as sent

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
        if_none_match: str | None = None,
        gzip: bool = False,
    ) -> Answer:
        # The service compresses only what the browser takes (the body passes as it is):
        # gzip when the browser named it, never aiohttp's own default otherwise.
        headers = {
            "Authorization": f"Bearer {key}",
            "Accept": "application/json, */*",
            "Accept-Encoding": "gzip" if gzip else "identity",
        }
        if client:
            headers["X-Forwarded-For"] = client
        if if_none_match:
            headers["If-None-Match"] = if_none_match
        if body:
            headers["Content-Type"] = content_type or "application/json"
        response = await self._http().request(
            method, self._url(service, path, query), headers=headers, data=body or None
        )
        passed = {h: response.headers[h] for h in PASSED_BACK if h in response.headers}

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for chunk in response.content.iter_any():
                    yield chunk
            finally:
                response.release()

        return Answer(response.status, passed, chunks(), response.content_length)

    async def json(
        self, service: str, path: str, key: str, client: str | None
    ) -> tuple[int, object]:
        """A small GET answered as (status, parsed JSON or None)."""
        headers = {"Authorization": f"Bearer {key}"}
        if client:
            headers["X-Forwarded-For"] = client
        async with self._http().get(self._url(service, path), headers=headers) as response:
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
