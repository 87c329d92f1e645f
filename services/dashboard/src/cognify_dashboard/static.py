"""The single-page app's files (web/dist, built by `npm ci && npm run build`) and the
headers every answer of the dashboard carries.

`/assets/*` are Vite's content-hashed files (cached for a year, `immutable`: a new build has
new names), gzipped for a browser that takes it (compressed once, on first request, kept in
memory: ELK's 1.5 MB chunk is 0.45 MB sent);
any other GET outside `/api` is the app's `index.html`, which routes on the client
(`/signin`, `/runs`, `/runs/:runId`, `/compare`, `/admin`, and its own not-found page).
A dashboard whose app is not built says so (503) rather than serving nothing.

The Content-Security-Policy allows nothing but this origin: no inline script, no CDN, no
framing (docs/spec/dashboard.md, docs/decisions/dashboard.md).
"""

from __future__ import annotations

import asyncio
import gzip
import mimetypes
from pathlib import Path

from cognify_access.encoding import accepts_gzip
from starlette.datastructures import Headers
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
DEFAULT_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"


class SecurityHeaders:
    """Adds SECURITY_HEADERS to every HTTP answer (replacing any of the same name)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        names = {name for name, _ in SECURITY_HEADERS}

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": [*kept, *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSED = (".js", ".css", ".svg", ".json", ".html", ".txt")


class Spa:
    def __init__(self, dist: Path = DEFAULT_DIST) -> None:
        self.dist = dist
        self._files = StaticFiles(directory=dist / "assets", check_dir=False)
        self._names: frozenset[str] | None = None  # the built assets, read once
        self._gzipped: dict[str, bytes] = {}

    async def assets(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The built files; a 404 (not StaticFiles' error) while the app is not built."""
        if not (self.dist / "assets").is_dir():
            await PlainTextResponse("not found", 404)(scope, receive, send)
            return
        name = str(scope.get("path", "")).rsplit("/", 1)[-1]
        if (
            scope.get("method") in ("GET", "HEAD")
            and name.endswith(COMPRESSED)
            and name in self._built()
            and accepts_gzip(Headers(scope=scope).get("accept-encoding"))
        ):
            packed = self._gzipped.get(name)
            if packed is None:
                raw = (self.dist / "assets" / name).read_bytes()
                packed = await asyncio.to_thread(gzip.compress, raw, 9, mtime=0)
                self._gzipped[name] = packed
            headers = {
                "content-encoding": "gzip",
                "vary": "Accept-Encoding",
                "cache-control": IMMUTABLE,
            }
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            await Response(packed, 200, headers, kind)(scope, receive, send)
            return

        async def immutable(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                cached = (b"cache-control", IMMUTABLE.encode())
                message = {**message, "headers": [*message.get("headers", []), cached]}
            await send(message)

        await self._files(scope, receive, immutable)

    def _built(self) -> frozenset[str]:
        """The names of the built assets (plain files only): what may be compressed."""
        if self._names is None:
            folder = self.dist / "assets"
            self._names = frozenset(
                p.name for p in folder.iterdir() if p.is_file() and not p.is_symlink()
            )
        return self._names

    def index(self) -> Response:
        index = self.dist / "index.html"
        if not index.is_file():
            return PlainTextResponse(
                "the dashboard's web app is not built: run `npm ci && npm run build` in "
                "services/dashboard/web (deploy/bootstrap-tools does)",
                503,
            )
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    def root_file(self, name: str) -> Response | None:
        """A file Vite copied to the root of dist (favicon, robots.txt), if there is one."""
        if "/" in name or name.startswith(".") or name == "index.html":
            return None
        path = self.dist / name
        return FileResponse(path) if path.is_file() else None
