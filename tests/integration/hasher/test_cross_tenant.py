"""The cross-tenant matrix through a real hasher worker, real Kafka and real MinIO: jobs of
workspace B against A's roots, A's packages, A's prefix, another bucket, links at every
depth and a directory swapped mid-job are all refused with the reason, and nothing of what
lies outside B's places (content, names, sizes, counts, schema) reaches any topic."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from cognify_events import (
    HashChunkRequested,
    HashChunkRequestedPayload,
    HashJobRequested,
    HashTarget,
)
from cognify_hasher import local
from cognify_hasher.settings import HasherSettings
from cognify_hashing import hash_dataset
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore, StoreSettings
from minio import Minio

from .harness import INGEST, all_answered, collect, job, results_for, running, send_jobs

pytestmark = pytest.mark.integration

SECRET = f"SECRET-{uuid.uuid4().hex}"  # in every file B must not read
HIDDEN = f"hidden-{uuid.uuid4().hex}"  # names inside directories B must not list
RECORDS = [{"id": i, "note": f"{SECRET} {i}"} for i in range(7)]


def _jsonl(path: Path, records: list[dict[str, Any]] = RECORDS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _checkpoint(directory: Path, marker: str, name: str = "model.safetensors") -> Path:
    (directory / "sub").mkdir(parents=True)
    (directory / name).write_bytes(marker.encode() * 50)
    (directory / "sub" / "config.json").write_text(json.dumps({"marker": marker}))
    return directory


@pytest.fixture
def bucket() -> Iterator[ObjectStore]:
    """A scratch bucket standing for the audit bucket (the hasher's store), removed after."""
    settings = replace(StoreSettings(), bucket=f"cognify-tenancy-{uuid.uuid4().hex[:10]}")
    client = Minio(
        settings.endpoint,
        access_key=settings.access_key,
        secret_key=settings.secret_key,
        secure=settings.secure,
        region=settings.region,
    )
    client.make_bucket(settings.bucket)
    try:
        yield ObjectStore(settings)
    finally:
        for o in client.list_objects(settings.bucket, recursive=True):
            assert o.object_name is not None
            client.remove_object(settings.bucket, o.object_name)
        client.remove_bucket(settings.bucket)


@dataclass(frozen=True)
class Tenants:
    a: str
    b: str
    data: Path
    outside: Path
    bucket: str


@pytest.fixture
def tenants(tmp_path: Path, bucket: ObjectStore) -> Tenants:
    """data/a and data/shared are A's, data/b is B's, data/common everyone's with
    data/common/a-nested A's again; `outside` is no one's. Every file B must not read holds
    SECRET; B's own files do not."""
    hexid = uuid.uuid4().hex[:8]
    t = Tenants(f"ws-a-{hexid}", f"ws-b-{hexid}", tmp_path / "data", tmp_path / "outside", "")
    t = replace(t, bucket=bucket.bucket)
    d = t.data
    _jsonl(d / "a" / "ds.jsonl")
    _checkpoint(d / "a" / "ckpt", SECRET, f"{HIDDEN}.safetensors")
    _jsonl(d / "shared" / "ds.jsonl")
    _jsonl(d / "common" / "a-nested" / "ds.jsonl")
    _jsonl(d / "common" / "open.jsonl", [{"id": 1}])
    _jsonl(t.outside / "outside.jsonl")
    _checkpoint(t.outside / "ckpt", SECRET, f"{HIDDEN}.bin")
    b = d / "b"
    _jsonl(b / "own.jsonl", [{"id": 1, "note": "B's own"}])
    _checkpoint(b / "ckpt-link-leaf", "B")
    (b / "ckpt-link-leaf" / "stolen.bin").symlink_to(d / "a" / "ckpt" / f"{HIDDEN}.safetensors")
    _checkpoint(b / "ckpt-swapped", "B")
    _jsonl(b / "dsdir" / "part-0.jsonl", [{"id": 1}])
    (b / "dsdir" / "part-1.jsonl").symlink_to(t.outside / "outside.jsonl")
    (b / "mid").symlink_to(d / "a")  # a directory in the middle of the path
    (b / "leaf.jsonl").symlink_to(d / "a" / "ds.jsonl")  # the leaf itself
    (b / "to-outside").symlink_to(t.outside)
    (d / "b-alias").symlink_to(d / "a")  # a root of B's that is itself a link to A's
    (d / "a" / "to-shared").symlink_to(d / "shared")  # A's link to A's other root
    for key in (
        f"packages/{t.a}/run-1/run-1-audit.json",
        "a/data.jsonl",
        "b/own.jsonl",
    ):
        body = b'{"id": 1}\n' if key.startswith("b/") else json.dumps({"x": SECRET}).encode()
        bucket.put(key, body + b"\n", overwrite=True)
    return t


def _settings(hasher: HasherSettings, t: Tenants, bucket: ObjectStore) -> HasherSettings:
    d = t.data
    roots = f"{t.a}={d}/a,{d}/shared,{d}/common/a-nested;{t.b}={d}/b,{d}/b-alias;*={d}/common"
    s3 = f"{t.a}=s3://{t.bucket}/a/;{t.b}=s3://{t.bucket}/b/;*=s3://{t.bucket}/"
    return replace(hasher, roots=roots, s3=s3, store=bucket.settings)


def _forged_chunk(workspace: str, uri: str) -> HashChunkRequested:
    """A chunk request B's writer key could not send, but the jobs topic might carry: the
    path in it is checked like a job's."""
    unique = uuid.uuid4().hex[:12]
    return HashChunkRequested(
        workspace_id=workspace,
        project="tenancy",
        run_id=f"run-{unique}",
        producer=INGEST,
        payload=HashChunkRequestedPayload(
            job_id=f"job-{unique}",
            plan_id="0" * 32,
            chunk_index=0,
            chunk_count=1,
            target=HashTarget.DATASET,
            target_id=f"dataset-{unique}",
            source_uri=uri,
            record_offset=0,
            record_count=7,
        ),
    )


async def test_no_job_of_one_workspace_reads_what_it_may_not(
    tenants: Tenants,
    bucket: ObjectStore,
    kafka: KafkaSettings,
    hasher: HasherSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    t, d, s3 = tenants, tenants.data, f"s3://{tenants.bucket}"
    ds, ckpt = HashTarget.DATASET, HashTarget.CHECKPOINT
    # (workspace, target, uri, what the reason must say)
    refused: list[tuple[str, HashTarget, str, str]] = [
        (t.b, ds, f"{d}/a/ds.jsonl", "granted to another workspace"),
        (t.b, ckpt, f"{d}/a/ckpt", "granted to another workspace"),
        (t.b, ds, f"{d}/shared/ds.jsonl", "granted to another workspace"),
        (t.b, ds, f"{d}/common/a-nested/ds.jsonl", "granted to another workspace"),
        (t.b, ckpt, f"{d}/common", "contains a place granted to another workspace"),
        (t.b, ds, f"{d}/b/../a/ds.jsonl", "'..'"),
        (t.b, ds, str(t.outside / "outside.jsonl"), "outside the allowed roots"),
        (t.b, ds, f"{s3}/packages/{t.a}/run-1/run-1-audit.json", "never hashed"),
        (t.a, ckpt, f"{s3}/packages/{t.a}/", "never hashed"),
        (t.a, ckpt, f"{s3}/packages", "never hashed"),
        (t.b, ds, f"{s3}/a/data.jsonl", "granted to another workspace"),
        (t.b, ckpt, f"{s3}/a", "contains a place granted to another workspace"),
        (t.b, ds, f"{s3}//packages/{t.a}/run-1/run-1-audit.json", "s3://bucket/key"),
        (t.b, ds, f"{s3}/./a/data.jsonl", "s3://bucket/key"),
        (t.b, ds, "s3://cognify-audit/datasets/x.jsonl", "outside the allowed buckets"),
        (t.b, ds, f"{d}/b-alias/ds.jsonl", "reached through a symbolic link"),
        (t.b, ds, f"{d}/b/mid/ds.jsonl", "symbolic link"),
        (t.b, ds, f"{d}/b/leaf.jsonl", "symbolic link"),
        (t.b, ds, f"{d}/b/to-outside/outside.jsonl", "symbolic link"),
        (t.b, ds, f"{d}/b/dsdir", "symbolic link"),
        (t.b, ckpt, f"{d}/b/ckpt-link-leaf", "symbolic link inside the checkpoint"),
        (t.a, ds, f"{d}/a/to-shared/ds.jsonl", "symbolic link"),
        (t.b, ckpt, f"{d}/b/ckpt-swapped", "is a symbolic link"),
    ]
    jobs = [job(target, uri, workspace=ws) for ws, target, uri, _ in refused]
    forged = _forged_chunk(t.b, f"{d}/a/ds.jsonl")
    own_b = job(ds, f"{d}/b/own.jsonl", workspace=t.b)
    own_b_s3 = job(ds, f"{s3}/b/own.jsonl", workspace=t.b)
    own_a = job(ds, f"{d}/a/ds.jsonl", workspace=t.a)

    # B's checkpoint directory is swapped for a link to A's once the worker has listed it.
    listed = local.LocalSource.files

    def files_then_swap(self: local.LocalSource) -> list[tuple[str, int]]:
        found = listed(self)
        if self.rel == "ckpt-swapped":
            sub = d / "b" / "ckpt-swapped" / "sub"
            sub.rename(d / "b" / "parked")
            sub.symlink_to(t.outside / "ckpt" / "sub")
        return found

    monkeypatch.setattr(local.LocalSource, "files", files_then_swap)

    settings = _settings(hasher, t, bucket)
    everything: list[HashJobRequested | HashChunkRequested] = [
        *jobs,
        forged,
        own_b,
        own_b_s3,
        own_a,
    ]
    ids = {e.payload.job_id for e in everything}
    async with running(settings):
        await send_jobs(kafka, settings.topics.jobs, everything)
        events = await collect(kafka, settings.topics.events, all_answered(ids))
        chunks = await collect(kafka, settings.topics.chunks, _about(forged.payload.job_id))
        progress = await collect(kafka, settings.topics.progress, _about(own_b.payload.job_id))
    answers = results_for(events, ids)

    for (ws, _, uri, says), sent in zip(refused, jobs, strict=True):
        [answer] = {a["event_id"]: a for a in answers[sent.payload.job_id]}.values()
        assert answer["type"] == "hash.failed", (uri, answer)
        assert answer["workspace_id"] == ws
        reason = answer["payload"]["reason"]
        assert reason.startswith("path refused: ") and says in reason, (uri, reason)
        assert set(answer["payload"]) == {"job_id", "target", "target_id", "reason"}
    [chunk_answer] = answers[forged.payload.job_id]
    assert chunk_answer["type"] == "hash.failed"
    assert "granted to another workspace" in chunk_answer["payload"]["reason"]

    # The controls: each workspace reads its own places, through the same worker.
    for own, path in ((own_b, d / "b" / "own.jsonl"), (own_a, d / "a" / "ds.jsonl")):
        [answer] = answers[own.payload.job_id]
        assert answer["type"] == "hash.computed"
        assert answer["payload"]["hash"] == hash_dataset(path).root
    [answer] = answers[own_b_s3.payload.job_id]
    assert answer["type"] == "hash.computed" and answer["payload"]["record_count"] == 1

    # Nothing B may not read left a trace on any topic: no bytes, names, sizes, digests.
    forbidden = {SECRET, HIDDEN, *_digests(d / "a"), *_digests(d / "shared"), *_digests(t.outside)}
    forbidden |= {
        hash_dataset(p).root for p in (d / "shared" / "ds.jsonl", t.outside / "outside.jsonl")
    }
    a_own = {e["event_id"] for e in answers[own_a.payload.job_id]}
    for message in [*events, *chunks, *progress]:
        if (
            message.get("event_id") in a_own
            or message["payload"].get("job_id") == own_a.payload.job_id
        ):
            continue
        text = json.dumps(message)
        assert not [f for f in forbidden if f in text], message
    assert (d / "b" / "parked" / "config.json").exists(), "the swap happened mid-job"


def _about(job_id: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: any(e["payload"].get("job_id") == job_id for e in events)


def _digests(tree: Path) -> set[str]:
    """The SHA-256 (hex) of every regular file below `tree`."""
    return {
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in tree.rglob("*")
        if p.is_file() and not p.is_symlink()
    }
