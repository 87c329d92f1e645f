"""Request bodies bounded before anything parses them (an ASGI middleware).

A body larger than the service accepts is refused with 413 as soon as its declared length
or the bytes received pass the bound, so it is never held in memory whole; a JSON body
nested too deeply for a parser to read is refused with 422 before the route sees it.
Everything else is passed on unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024  # commands and settings: a few KiB at most in practice
_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


def shape_problem(body: bytes) -> str | None:
    """Why a body cannot be handed to the route's JSON parser, or None. Python's parser
    recurses once per level of arrays and objects and raises RecursionError near 1,000
    levels: met here, where it is a refusal, rather than in the route, where it would be
    an error of the server. A body that is not JSON at all is left to the route, which
    names its problem."""
    try:
        json.loads(body)
    except RecursionError:
        return "the body nests arrays and objects too deeply to be read"
    except ValueError:
        return None
    return None


class BoundedBody:
    """`max_bytes` for every body, except the paths of `raw`: routes that take their body
    as bytes and bound its shape themselves (ingest's events, read by the strict codec),
    each with its own size bound and no JSON check here."""

    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, raw: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.raw = dict(raw or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _WITH_BODY:
            await self.app(scope, receive, send)
            return
        limit = self.raw.get(scope["path"], self.max_bytes)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, 413, _too_large(limit))
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nothing to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(send, 413, _too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = None if scope["path"] in self.raw else shape_problem(body)
        if problem is not None:
            await _refuse(send, 422, problem)
            return
        await self.app(scope, _replay(body, receive), send)


def _too_large(limit: int) -> str:
    return f"the body is larger than {limit:,} bytes"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the disconnect, when it comes

    return replayed


async def _refuse(send: Send, status: int, reason: str) -> None:
    body = json.dumps({"error": reason}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
