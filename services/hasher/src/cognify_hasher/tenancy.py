"""Which workspace's jobs may read where (pure: no I/O): the hasher's confinement policy.

Two settings grant places to workspaces (docs/hasher.md, "Confinement"):

    COGNIFY_HASHER_ROOTS="ws-a=/data/a,/data/shared;ws-b=/data/b;*=/data/common"
    COGNIFY_HASHER_S3="ws-a=s3://datasets/a/;*=s3://public-datasets/"

`;` separates grants, `=` splits a grant into its owner (a workspace id, or `*` for every
workspace) and its places, `,` separates places. A place may be granted to several owners.
Nothing granted is nothing readable: without COGNIFY_HASHER_S3 no job reads any bucket.

A job of workspace W may read a place P when:

1. P is not under the exporter's package prefix (`s3://<audit bucket>/packages/`), whatever
   the grants say;
2. the most specific granted place containing P (the longest root or prefix) is granted to
   W or to `*`: a root granted to A alone is A's, even below a root granted to everyone;
3. no granted place inside P (a directory P would be listed whole, a prefix P would list)
   belongs to workspaces other than W without `*`.

Each rule is decided from the job's path and these grants alone, before any file or object
is touched: a refusal says nothing about whether the target exists. The reason names the
job's own path and the rule, never another workspace or its places.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cognify_events.base import IDENT_PATTERN

EVERYONE = "*"
PACKAGES_PREFIX = "packages/"  # cognify_exporter.package: packages/<workspace>/<run>/<file>
_WORKSPACE = re.compile(IDENT_PATTERN)
# S3 bucket names (AWS rules, which MinIO follows): lower case, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ConfigError(ValueError):
    """A grant setting that cannot be read: the hasher does not start with it."""


class Refusal(Exception):
    """A job's place that its workspace may not read; `reason` says which rule."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Place:
    """Somewhere a job reads: a local directory tree (`bucket` None, `path` absolute and
    normalised) or an S3 prefix (`path` empty for the whole bucket, else ending with `/`)."""

    bucket: str | None
    path: str

    def contains(self, other: Place) -> bool:
        """True when `other` lies in this place (or is it)."""
        if self.bucket != other.bucket:
            return False
        if self.bucket is not None:
            return other.path.startswith(self.path)
        return other.path == self.path or other.path.startswith(self.path.rstrip("/") + "/")

    def __str__(self) -> str:
        return self.path if self.bucket is None else f"s3://{self.bucket}/{self.path}"


@dataclass(frozen=True)
class Grants:
    """Places and the owners each is granted to (workspace ids, or `*`)."""

    owners: Mapping[Place, frozenset[str]] = field(default_factory=dict)
    # Never readable by any job (the exporter's audit packages).
    sealed: tuple[Place, ...] = ()

    def places_of(self, workspace: str) -> list[Place]:
        """The places a workspace may name (its own and everyone's), for its error messages."""
        return sorted(
            (p for p, who in self.owners.items() if workspace in who or EVERYONE in who),
            key=str,
        )

    def check(self, workspace: str, target: Place, shown: str) -> None:
        """Raise Refusal when `workspace` may not read `target` (which covers the object or
        directory it names and everything below it). `shown` is the job's own spelling."""
        for sealed in self.sealed:
            if sealed.contains(target) or _inside(sealed, target):
                raise Refusal(f"{shown}: the exporter's audit packages are never hashed")
        local = target.bucket is None
        holders = [p for p in self.owners if p.contains(target)]
        if not holders:
            same = [p for p in self.places_of(workspace) if (p.bucket is None) is local]
            mine = ", ".join(map(str, same)) or "none"
            kind = "roots" if local else "buckets and prefixes"
            raise Refusal(
                f"{shown} is outside the allowed {kind} of workspace {workspace} ({mine})"
            )
        nearest = max(holders, key=lambda p: len(p.path))
        if not self._admits(nearest, workspace):
            raise Refusal(f"{shown} lies in a place granted to another workspace")
        for place in self.owners:
            if _inside(place, target) and not self._admits(place, workspace):
                raise Refusal(f"{shown} contains a place granted to another workspace")

    def _admits(self, place: Place, workspace: str) -> bool:
        who = self.owners[place]
        return workspace in who or EVERYONE in who


def _inside(place: Place, target: Place) -> bool:
    """True when `place` lies strictly below what `target` would list."""
    if place.bucket != target.bucket or place.path == target.path:
        return False
    return place.path.startswith(target.path.rstrip("/") + "/")


# ---- what a job names ----------------------------------------------------------------------


def local_place(path: str) -> Place:
    """The place a local path names. Raise Refusal unless it is absolute, plain and
    normalised: no `.` or `..` component, no empty one, no NUL."""
    problem = _path_problem(path)
    if problem:
        raise Refusal(f"{path!r} {problem}")
    return Place(None, path.rstrip("/") or "/")


def s3_place(uri: str) -> tuple[Place, str]:
    """The place an s3:// URI names (its key as a prefix) and the key. Raise Refusal unless
    it is s3://bucket/key with a valid bucket and a key of plain segments: no empty, `.` or
    `..` segment (object stores normalise some of them), no control character."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    segments = key.removesuffix("/").split("/")
    if (
        not _BUCKET.match(bucket)
        or not key
        or _CONTROL.search(key)
        or any(s in ("", ".", "..") for s in segments)
    ):
        raise Refusal(f"{uri!r} is not of the form s3://bucket/key (plain key segments)")
    return Place(bucket, key), key


def _path_problem(path: str) -> str | None:
    if not path.startswith("/"):
        return "is not an absolute path"
    if "\x00" in path:
        return "contains a NUL character"
    parts = path.rstrip("/").split("/")[1:]
    if any(p in ("", ".", "..") for p in parts):
        return "is not a plain path (an empty, '.' or '..' component)"
    return None


# ---- the settings -------------------------------------------------------------------------


def parse_roots(text: str) -> dict[Place, frozenset[str]]:
    """COGNIFY_HASHER_ROOTS: `owner=/path[,/path...][;owner=...]`."""
    out: dict[Place, set[str]] = {}
    for owner, value in _grants(text, "COGNIFY_HASHER_ROOTS"):
        if value.rstrip("/") == "":
            raise ConfigError("COGNIFY_HASHER_ROOTS: '/' would allow the whole machine")
        problem = _path_problem(value)
        if problem or posixpath.normpath(value) != value.rstrip("/"):
            raise ConfigError(f"COGNIFY_HASHER_ROOTS: {value!r} {problem or 'is not normalised'}")
        out.setdefault(Place(None, value.rstrip("/")), set()).add(owner)
    return {place: frozenset(who) for place, who in out.items()}


def parse_s3(text: str) -> dict[Place, frozenset[str]]:
    """COGNIFY_HASHER_S3: `owner=s3://bucket[/prefix/][,s3://...][;owner=...]`; a prefix
    always ends with `/` (added if missing), none grants the whole bucket."""
    out: dict[Place, set[str]] = {}
    for owner, value in _grants(text, "COGNIFY_HASHER_S3"):
        if not value.startswith("s3://"):
            raise ConfigError(f"COGNIFY_HASHER_S3: {value!r} is not s3://bucket/prefix/")
        bucket, _, prefix = value.removeprefix("s3://").partition("/")
        prefix = prefix.rstrip("/")
        if prefix:
            try:
                s3_place(f"s3://{bucket}/{prefix}")
            except Refusal as exc:
                raise ConfigError(f"COGNIFY_HASHER_S3: {exc.reason}") from None
            prefix += "/"
        elif not _BUCKET.match(bucket):
            raise ConfigError(f"COGNIFY_HASHER_S3: {bucket!r} is not a bucket name")
        out.setdefault(Place(bucket, prefix), set()).add(owner)
    return {place: frozenset(who) for place, who in out.items()}


def _grants(text: str, name: str) -> Iterable[tuple[str, str]]:
    for grant in text.split(";"):
        if not grant.strip():
            continue
        owner, sep, values = grant.partition("=")
        owner = owner.strip()
        if not sep or not (owner == EVERYONE or _WORKSPACE.match(owner)):
            raise ConfigError(
                f"{name}: {grant.strip()!r} is not owner=place[,place...] "
                "(owner: a workspace id or *)"
            )
        places = [v.strip() for v in values.split(",") if v.strip()]
        if not places:
            raise ConfigError(f"{name}: {owner} is granted nothing")
        for value in places:
            yield owner, value


def grants(roots: str, s3: str, audit_bucket: str | None) -> Grants:
    """Both settings as one policy; `audit_bucket` holds the exporter's packages."""
    sealed = () if audit_bucket is None else (Place(audit_bucket, PACKAGES_PREFIX),)
    return Grants({**parse_roots(roots), **parse_s3(s3)}, sealed)
