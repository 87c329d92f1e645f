"""Where a job reads from: the URI it names, checked against its workspace's grants
(`tenancy`), bound to the adapter of its store (`local.LocalSource`, `s3.S3Source`).

A refusal is decided from the URI and the grants alone, before any file or object is
touched, and becomes `JobFailure(REFUSED)` with a reason starting `path refused: `.
"""

from __future__ import annotations

import os
from pathlib import Path

from cognify_objectstore import ObjectStore

from . import tenancy
from .beneath import Opener
from .jobs import FailureKind, JobFailure
from .local import LocalSource
from .s3 import S3Source
from .source import Source
from .spans import RANGE_WINDOW
from .tenancy import Grants, Place, Refusal


def _refused(reason: str) -> JobFailure:
    return JobFailure(FailureKind.REFUSED, f"path refused: {reason}")


class Storage:
    def __init__(
        self,
        grants: Grants,
        store: ObjectStore | None = None,
        spool_dir: Path | None = None,
        range_window: int = RANGE_WINDOW,
        opener: Opener | None = None,
    ) -> None:
        self.grants = grants
        self.store = store
        self.spool_dir = spool_dir
        self.range_window = range_window
        self.opener = opener or Opener()

    def open(self, workspace: str, uri: str) -> Source:
        """The source a job of `workspace` names, or JobFailure(REFUSED) saying why it may
        not be read."""
        try:
            if uri.startswith("s3://"):
                return self._s3(workspace, uri)
            raw = uri.removeprefix("file://")
            if "://" in raw:
                raise Refusal(f"{uri!r} is neither a local path nor an s3:// object")
            return self._local(workspace, raw)
        except Refusal as refusal:
            raise _refused(refusal.reason) from None

    def _local(self, workspace: str, raw: str) -> LocalSource:
        target = tenancy.local_place(raw)
        self.grants.check(workspace, target, raw)
        root = max((p for p in self.grants.owners if p.contains(target)), key=lambda p: len(p.path))
        rel = target.path[len(root.path) :].lstrip("/")
        return LocalSource(root.path, rel, self.opener, self.spool_dir)

    def _s3(self, workspace: str, uri: str) -> S3Source:
        target, key = tenancy.s3_place(uri)
        self.grants.check(workspace, target, uri)
        if self.store is None:
            raise Refusal(f"{uri}: this hasher has no object store configured")
        assert target.bucket is not None
        return S3Source(self.store, target.bucket, key, self.spool_dir, self.range_window)


def real_roots(grants: Grants) -> Grants:
    """The grants with every local root spelled as its real path (its parent's links
    resolved; the root's own name kept, so a root that is a link is refused at every read):
    jobs name real paths (the SDK resolves them), and a read walks from `/` with no link."""
    owners: dict[Place, frozenset[str]] = {}
    for place, who in grants.owners.items():
        if place.bucket is None:
            parent, name = os.path.split(place.path)
            place = Place(None, os.path.join(os.path.realpath(parent), name))
        owners[place] = owners.get(place, frozenset()) | who
    return Grants(owners, grants.sealed)
