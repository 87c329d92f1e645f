"""A lean HTTP/1.1 GET client for load benchmarks: one keep-alive connection per simulated
reviewer, requests written as prepared bytes, answers framed by Content-Length or chunked
transfer coding and returned as sent (a gzip body stays compressed: inflating is the
browser's work after the answer arrived, not the API's).

Why not httpx: in bench/dashboard.py its 20 clients spent 2 to 4 ms of CPU per request
(connection-pool bookkeeping, header models, inflating the graph), more than lineage and the
dashboard together, on the same 2 cores as the services they measured. This client spends
a small fraction of that, so the figures measure the services (docs/decisions/dashboard.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

# Idle connections are dropped before the servers' 5 s keep-alive closes them under a
# request on its way.
IDLE_S = 2.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class Client:
    """GETs on one connection, one after another (a reviewer waits for each answer)."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"an http:// URL is needed, not {base_url!r}")
        self.host = url.hostname
        self.port = url.port or 80
        self.prefix = url.path.rstrip("/")
        self._fixed = {"Host": f"{self.host}:{self.port}", **(headers or {})}
        self._head = self._lines(self._fixed)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._used = 0.0

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        head = self._lines({**self._fixed, **headers}) if headers else self._head
        request = f"GET {self.prefix}{path} HTTP/1.1\r\n{head}\r\n".encode("latin-1")
        fresh = self._reader is None or time.monotonic() - self._used > IDLE_S
        if fresh:
            await self._connect()
        try:
            answer = await self._exchange(request)
        except (ConnectionError, asyncio.IncompleteReadError):
            if fresh:
                raise
            # The server closed the kept connection before reading this request: once more
            # on a new one (a GET is safe to repeat).
            await self._connect()
            answer = await self._exchange(request)
        self._used = time.monotonic()
        if answer.headers.get("connection", "").lower() == "close":
            await self.aclose()
        return answer

    @staticmethod
    def _lines(headers: dict[str, str]) -> str:
        return "".join(f"{k}: {v}\r\n" for k, v in headers.items())

    async def _connect(self) -> None:
        await self.aclose()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def _exchange(self, request: bytes) -> Answer:
        assert self._reader is not None and self._writer is not None
        self._writer.write(request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if status in (204, 304) or 100 <= status < 200:
            return Answer(status, headers, b"")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return Answer(status, headers, await self._chunks())
        if "content-length" not in headers:
            raise ConnectionError(f"HTTP {status} without Content-Length or chunked coding")
        length = int(headers["content-length"])
        return Answer(status, headers, await self._reader.readexactly(length))

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        parts: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                while await self._reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    async def aclose(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
