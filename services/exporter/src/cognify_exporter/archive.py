"""`archive_after_days` acting: an S3 lifecycle rule per workspace on the packages'
prefix that moves them to the archive storage class after that many days
(docs/spec/retention.md). Object Lock retention stays with each object version through a
transition; the rule moves, it never expires or deletes.

On MinIO the storage class of a transition is the name of a remote tier an operator
configured (`mc ilm tier add minio ALIAS COGNIFY_ARCHIVE ...`; `deploy/stack up minio` adds
one: a second MinIO); on AWS S3 it is an S3 storage class (`GLACIER`, `DEEP_ARCHIVE`),
named by COGNIFY_ARCHIVE_STORAGE_CLASS. Without a tier of that name MinIO refuses the rule
(`InvalidStorageClass`) and the refusal is logged and returned, never hidden: the packages
then stay in the standard class, still locked.
"""

from __future__ import annotations

import asyncio
import logging

from cognify_objectstore import ObjectStore, ObjectStoreError

STORAGE_CLASS = "COGNIFY_ARCHIVE"
log = logging.getLogger(__name__)


def rule_id(workspace_id: str) -> str:
    return f"cognify-archive-{workspace_id}"


def prefix(workspace_id: str) -> str:
    return f"packages/{workspace_id}/"  # package.object_key: a workspace's packages


async def apply(
    store: ObjectStore, workspace_id: str, days: int, storage_class: str = STORAGE_CLASS
) -> str | None:
    """Set the workspace's rule when it differs from the stored one, or remove it when
    `days` is 0 (never archive: a rule set before must not go on acting); None when the
    bucket says what the workspace asks, else why the store refused it."""
    want = (prefix(workspace_id), days, storage_class)

    def put() -> str | None:
        try:
            stored = store.transitions().get(rule_id(workspace_id))
            if days <= 0:
                if stored is not None:
                    store.remove_transition(rule_id(workspace_id))
                return None
            if stored == want:
                return None
            store.set_transition(rule_id(workspace_id), *want)
        except ObjectStoreError as exc:
            why = f"archive rule for {workspace_id} refused by the store ({exc.code}): {exc}"
            log.warning(why)
            return why
        return None

    return await asyncio.to_thread(put)
