"""Where an accepted or rejected event goes (pure: no I/O).

An accepted event is forwarded to the canonical topic with its original bytes (they carry
the signature the SDK made). Dataset registrations without a root, checkpoint saves and
model registrations also yield a `hash.job_requested` event, sent both to the canonical
topic (so the lineage DAG shows the hash as pending) and to the hasher pool's topic. Its job
id and event id are derived from the target, so a redelivered event makes the same job
again, which downstream consumers drop as a duplicate, rather than a second job.

A dataset registration whose provenance lacks fields the workspace's compliance tier
requires also yields `dataset.provenance_incomplete` on the canonical topic, right after it
in the run's partition, with an id derived the same way.

A `run.started` also yields the access record of who started the run as ingest saw it
(`run_start`): the key whose signature verified and, for `POST /v1/events`, the address the
request came from (the SDK sends through Kafka, which shows ingest no client address: then
none). The HIPAA package's access control section cites it (docs/spec/package.md).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from cognify_events import (
    AccessRecorded,
    AccessRecordedPayload,
    CheckpointSaved,
    DatasetProvenanceIncomplete,
    DatasetProvenanceIncompletePayload,
    DatasetRegistered,
    DeadLetter,
    Event,
    HashJobRequested,
    HashJobRequestedPayload,
    HashTarget,
    ModelRegistered,
    Producer,
    RunStarted,
    encode,
    missing_provenance,
    partition_key,
)

from .settings import Topics

_JOB_NAMESPACE = uuid.UUID("6d1f3c2e-4b7a-5e21-9c0d-2f8e7a6b5c41")


@dataclass(frozen=True)
class Output:
    topic: str
    key: bytes
    value: bytes


def job_id(run_id: str, target_id: str) -> str:
    """`job-<run>-<target>`, or a digest of both when that would not fit an identifier."""
    readable = f"job-{run_id}-{target_id}"
    if len(readable) <= 128:
        return readable
    return "job-" + hashlib.sha256(f"{run_id}\0{target_id}".encode()).hexdigest()[:40]


def hash_job(event: Event, producer: Producer) -> HashJobRequested | None:
    """The hash job an accepted event calls for, if any."""
    match event:
        case DatasetRegistered(payload=p) if p.merkle_root is None and p.source_uri:
            target, target_id, uri = HashTarget.DATASET, p.dataset_id, p.source_uri
        case CheckpointSaved(payload=p):
            target, target_id, uri = HashTarget.CHECKPOINT, p.checkpoint_id, p.path
        case ModelRegistered(payload=p):
            target, target_id, uri = HashTarget.MODEL, p.model_id, p.path
        case _:
            return None
    assert event.run_id is not None  # training events always name their run (validate.check)
    jid = job_id(event.run_id, target_id)
    return HashJobRequested(
        event_id=uuid.uuid5(_JOB_NAMESPACE, f"{event.workspace_id}/{jid}"),
        workspace_id=event.workspace_id,
        project=event.project,
        run_id=event.run_id,
        seq=None,
        time=event.time,  # deterministic, like the id: a redelivery yields identical bytes
        producer=producer,
        payload=HashJobRequestedPayload(
            job_id=jid,
            target=target,
            target_id=target_id,
            source_uri=uri,
            requested_by_event=str(event.event_id),
        ),
    )


def provenance_gap(
    event: Event, tier: str, producer: Producer
) -> DatasetProvenanceIncomplete | None:
    """The `dataset.provenance_incomplete` fact of a dataset registration that lacks fields
    the workspace's tier requires, if it does."""
    if not isinstance(event, DatasetRegistered) or event.run_id is None:
        return None
    p = event.payload
    missing = missing_provenance(p.provenance, tier)
    if not missing:
        return None
    return DatasetProvenanceIncomplete(
        event_id=uuid.uuid5(
            _JOB_NAMESPACE, f"{event.workspace_id}/provenance/{event.run_id}/{p.dataset_id}"
        ),
        workspace_id=event.workspace_id,
        project=event.project,
        run_id=event.run_id,
        seq=None,
        time=event.time,
        producer=producer,
        payload=DatasetProvenanceIncompletePayload(
            dataset_id=p.dataset_id,
            name=p.name,
            tier=tier,
            missing=missing,
            requested_by_event=str(event.event_id),
        ),
    )


@dataclass(frozen=True)
class Writer:
    """Who wrote an accepted event, as ingest knows it: the key whose signature verified,
    its role, and the client's address when the event came over HTTP (None from Kafka)."""

    key_id: str
    role: str
    address: str | None = None


START_ACTION = "run.start"


def run_start(event: Event, writer: Writer, producer: Producer) -> AccessRecorded | None:
    """The access record `run.start` on `run:<run_id>` of an accepted `run.started`: actor
    `key:<key id>`, the key's role, the address ingest saw. Its id is derived from the
    event's, and its time is the event's, so a redelivery yields the same record."""
    if not isinstance(event, RunStarted) or event.run_id is None:
        return None
    return AccessRecorded(
        event_id=uuid.uuid5(_JOB_NAMESPACE, f"{event.workspace_id}/run-start/{event.event_id}"),
        workspace_id=event.workspace_id,
        project="workspace",  # a workspace-level record, as every access record
        run_id=None,
        seq=None,
        time=event.time,
        producer=producer,
        payload=AccessRecordedPayload(
            actor=f"key:{writer.key_id}",
            role=writer.role,
            action=START_ACTION,
            object_id=f"run:{event.run_id}",
            address=writer.address,
            allowed=True,
        ),
    )


def accepted(
    event: Event,
    original: bytes,
    producer: Producer,
    topics: Topics,
    tier: str = "standard",
    writer: Writer | None = None,
) -> list[Output]:
    """The outputs of an accepted event; `tier`: its workspace's compliance tier; `writer`:
    the key that wrote it (and from where), recorded for a `run.started`."""
    key = partition_key(event)
    out = [Output(topics.events, key, original)]
    start = run_start(event, writer, producer) if writer is not None else None
    if start is not None:
        out.append(Output(topics.events, partition_key(start), encode(start)))
    gap = provenance_gap(event, tier, producer)
    if gap is not None:
        out.append(Output(topics.events, key, encode(gap)))
    job = hash_job(event, producer)
    if job is not None:
        body = encode(job)
        out.append(Output(topics.events, key, body))
        out.append(Output(topics.hash_jobs, job.payload.job_id.encode(), body))
    return out


def rejected(
    topics: Topics,
    original: bytes,
    reason: str,
    key: bytes | None,
    source_topic: str,
    rejected_by: str,
    partition: int | None = None,
    offset: int | None = None,
) -> Output:
    letter = DeadLetter.of(original, reason, source_topic, rejected_by, partition, offset)
    return Output(topics.dlq, key or b"", letter.model_dump_json().encode())
