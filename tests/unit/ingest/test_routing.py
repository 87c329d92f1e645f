"""Routing: forwarded bytes, hash jobs that a redelivery cannot double, dead letters."""

from __future__ import annotations

import json

import cognify_events as ev
from cognify_ingest import routing
from cognify_ingest.settings import Topics

from tests.unit.lineage.script import Script, root

ME = ev.Producer(kind=ev.ProducerKind.INGEST, id="ingest-1")
TOPICS = Topics()


def test_a_checkpoint_is_forwarded_with_a_hash_job_to_both_topics() -> None:
    event = Script("ws-a", "run-1").checkpoint(100)
    original = ev.encode(event)
    out = routing.accepted(event, original, ME, TOPICS)
    assert [o.topic for o in out] == ["cognify.events", "cognify.events", "cognify.hash.jobs"]
    assert out[0].value == original and out[0].key == b"run-1"
    job = ev.decode(out[1].value)
    assert (
        isinstance(job, ev.HashJobRequested) and job.seq is None and job.producer.kind == "ingest"
    )
    assert (
        job.payload.job_id == "job-run-1-ckpt_step_100" and out[2].key == b"job-run-1-ckpt_step_100"
    )
    assert job.payload.source_uri == "/out/checkpoint-100"
    assert job.payload.requested_by_event == str(event.event_id)


def test_a_redelivered_event_makes_the_identical_job() -> None:
    event = Script("ws-a", "run-1").model("ckpt_step_200")
    first = routing.accepted(event, ev.encode(event), ME, TOPICS)
    again = routing.accepted(event, ev.encode(event), ME, TOPICS)
    assert first == again


def test_which_datasets_need_a_job() -> None:
    s = Script("ws-a", "run-1")
    assert routing.hash_job(s.dataset("d1", source_uri="/data/x"), ME) is not None
    assert routing.hash_job(s.dataset("d2", merkle_root=root(1)), ME) is None
    assert routing.hash_job(s.dataset("d3", source_uri=None), ME) is None
    assert routing.hash_job(s.heartbeat(1), ME) is None


def test_long_ids_still_make_a_valid_job_id() -> None:
    jid = routing.job_id("r" * 128, "c" * 128)
    assert len(jid) <= 128 and jid == routing.job_id("r" * 128, "c" * 128)


def test_a_dead_letter_keeps_the_original_bytes_and_the_reason() -> None:
    out = routing.rejected(
        TOPICS, b"\x00junk", "event: not valid", b"run-1", "cognify.events.raw", "ingest-1", 3, 42
    )
    letter = ev.DeadLetter.model_validate(json.loads(out.value))
    assert out.topic == "cognify.events.dlq" and out.key == b"run-1"
    assert letter.original == b"\x00junk" and letter.reason == "event: not valid"
    assert (letter.partition, letter.offset, letter.source_topic) == (3, 42, "cognify.events.raw")


def test_a_healthcare_dataset_without_a_deidentification_method_is_a_provenance_gap() -> None:
    event = Script("ws-a", "run-1").dataset("d1", provenance={"authorized_use": "IRB-2025-114"})
    out = routing.accepted(event, ev.encode(event), ME, TOPICS, "healthcare")
    assert [o.topic for o in out] == ["cognify.events"] * 3 + ["cognify.hash.jobs"]
    gap = ev.decode(out[1].value)
    assert isinstance(gap, ev.DatasetProvenanceIncomplete) and out[1].key == b"run-1"
    assert gap.payload.missing == ["deidentification_method"]
    assert (gap.payload.tier, gap.payload.dataset_id) == ("healthcare", "d1")
    assert gap.payload.requested_by_event == str(event.event_id) and gap.seq is None
    assert routing.accepted(event, ev.encode(event), ME, TOPICS, "healthcare") == out


def test_only_the_tier_decides_which_provenance_is_required() -> None:
    s = Script("ws-a", "run-1")
    bare = s.dataset("d1")
    blank = s.dataset("d2", provenance={"deidentification_method": " ", "authorized_use": "x"})
    full = s.dataset(
        "d3", provenance={"deidentification_method": "safe_harbor", "authorized_use": "x"}
    )
    assert routing.provenance_gap(bare, "standard", ME) is None
    assert routing.provenance_gap(bare, "no-such-tier", ME) is None
    gap = routing.provenance_gap(bare, "eu_ai_act", ME)
    assert gap is not None
    assert gap.payload.missing == ["source_system", "authorized_use", "extraction_date"]
    blank_gap = routing.provenance_gap(blank, "healthcare", ME)
    assert blank_gap is not None and blank_gap.payload.missing == ["deidentification_method"]
    assert routing.provenance_gap(full, "healthcare", ME) is None
    assert routing.provenance_gap(s.heartbeat(1), "healthcare", ME) is None


def test_a_run_started_records_the_key_that_wrote_it_and_from_where() -> None:
    event = Script("ws-a", "run-1").started()
    writer = routing.Writer("0a1b2c3d4e5f", "writer", "10.0.4.17")
    first = routing.accepted(event, ev.encode(event), ME, TOPICS, writer=writer)
    assert routing.accepted(event, ev.encode(event), ME, TOPICS, writer=writer) == first
    assert [o.topic for o in first] == ["cognify.events", "cognify.events"]
    record = ev.decode(first[1].value)
    assert isinstance(record, ev.AccessRecorded) and record.run_id is None
    assert record.payload.action == "run.start" and record.payload.object_id == "run:run-1"
    assert (record.payload.actor, record.payload.role) == ("key:0a1b2c3d4e5f", "writer")
    assert record.payload.address == "10.0.4.17" and record.time == event.time
    # from Kafka: the key, and no address (ingest sees none); other events: no record
    kafka = routing.accepted(event, ev.encode(event), ME, TOPICS, writer=routing.Writer("k", "w"))
    assert ev.decode(kafka[1].value).payload.address is None  # type: ignore[union-attr]
    other = Script("ws-a", "run-1").metrics(1, 0.5)
    assert len(routing.accepted(other, ev.encode(other), ME, TOPICS, writer=writer)) == 1
