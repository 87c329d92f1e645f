"""Planning jobs into chunks and naming results: pure functions of the job."""

from __future__ import annotations

from cognify_events import (
    HashComputed,
    HashFailed,
    HashJobRequested,
    HashJobRequestedPayload,
    HashTarget,
    Producer,
    encode,
)
from cognify_hasher import jobs, pins
from cognify_hashing import Manifest, ManifestEntry

ME = Producer(kind="hasher", id="h:1")


def _job(job_id: str = "job-1", uri: str = "/data/x.jsonl") -> HashJobRequested:
    return HashJobRequested(
        workspace_id="ws",
        project="p",
        run_id="run-1",
        producer=Producer(kind="ingest", id="i:1"),
        payload=HashJobRequestedPayload(
            job_id=job_id, target=HashTarget.DATASET, target_id="ds-1", source_uri=uri
        ),
    )


def test_a_small_dataset_is_hashed_whole() -> None:
    assert jobs.plan_dataset(1_000, 1_000) is None


def test_a_large_dataset_is_cut_into_power_of_two_ranges() -> None:
    plan = jobs.plan_dataset(1_000, 300)  # 300 rounds down to 256
    assert plan is not None
    assert [(c.record_offset, c.record_count) for c in plan] == [
        (0, 256),
        (256, 256),
        (512, 256),
        (768, 232),
    ]


def test_checkpoint_files_are_grouped_whole_and_balanced() -> None:
    files = [(f"model-{i}.safetensors", size) for i, size in enumerate([90, 10, 50, 50, 40, 60])]
    plan = jobs.plan_checkpoint(files, chunk_bytes=100, chunk_files=10)
    assert plan is not None and len(plan) == 3
    grouped = [f for chunk in plan for f in chunk.files]
    assert sorted(grouped) == sorted(files)
    loads = [sum(size for _, size in chunk.files) for chunk in plan]
    assert max(loads) - min(loads) <= 10
    assert plan == jobs.plan_checkpoint(list(reversed(files)), 100, 10), "deterministic"


def test_a_small_or_single_file_checkpoint_is_hashed_whole() -> None:
    assert jobs.plan_checkpoint([("a", 10), ("b", 10)], 100, 10) is None
    assert jobs.plan_checkpoint([("huge.bin", 10**12)], 100, 10) is None


def test_many_small_files_are_split_by_count() -> None:
    files = [(f"f{i:03d}", 1) for i in range(25)]
    plan = jobs.plan_checkpoint(files, chunk_bytes=10**9, chunk_files=10)
    assert plan is not None and [len(c.files) for c in plan] == [9, 8, 8]


def test_a_redelivered_job_gets_results_with_the_same_event_id() -> None:
    digest = jobs.DatasetDigest("sha256:" + "0" * 64, 3, {}, 10)
    first = jobs.dataset_computed(_job(), digest, 0.1, ME)
    again = jobs.dataset_computed(_job(), digest, 0.2, ME)
    assert first.event_id == again.event_id
    assert jobs.job_failed(_job(), "gone", ME).event_id == first.event_id, "one result per job"
    assert jobs.dataset_computed(_job("job-2"), digest, 0.1, ME).event_id != first.event_id
    assert first.run_id == "run-1" and first.seq is None and first.producer == ME


def test_chunk_requests_carry_the_plan_and_have_distinct_stable_ids() -> None:
    plan = jobs.plan_dataset(10, 4)
    assert plan is not None
    chunks = jobs.chunk_requests(_job(), plan, ME)
    assert [c.payload.chunk_index for c in chunks] == [0, 1, 2]
    assert {c.payload.chunk_count for c in chunks} == {3}
    assert len({c.event_id for c in chunks}) == 3
    assert [c.event_id for c in jobs.chunk_requests(_job(), plan, ME)] == [
        c.event_id for c in chunks
    ]
    assert len({c.payload.plan_id for c in chunks}) == 1


def test_another_plan_of_the_same_job_has_another_plan_id() -> None:
    one = jobs.plan_id(_job(), jobs.plan_dataset(10, 4) or [])
    two = jobs.plan_id(_job(), jobs.plan_dataset(12, 4) or [])
    assert one != two


def test_the_version_planned_from_is_in_every_chunk_request_and_in_the_plan_id() -> None:
    uri = "s3://datasets/train.jsonl"
    plan = jobs.plan_dataset(10, 4)
    assert plan is not None
    v1, v2 = "version-id:0b8e-1", "version-id:7c2f-2"
    chunks = jobs.chunk_requests(_job(uri=uri), plan, ME, v1)
    assert {c.payload.source_version for c in chunks} == {v1}
    again = jobs.chunk_requests(_job(uri=uri), plan, ME, v2)  # re-planned after an overwrite
    assert again[0].payload.plan_id != chunks[0].payload.plan_id, "never combined"
    assert {c.event_id for c in again}.isdisjoint(c.event_id for c in chunks)
    unpinned = jobs.chunk_requests(_job(), plan, ME)  # a local path: nothing to pin
    assert unpinned[0].payload.source_version is None
    assert unpinned[0].payload.plan_id == jobs.plan_id(_job(), plan)


def test_a_checkpoint_result_lists_every_file_with_its_hash() -> None:
    manifest = Manifest.from_entries(
        [ManifestEntry("b.bin", 3, "ab" * 32), ManifestEntry("a.json", 2, "cd" * 32)]
    )
    event = jobs.checkpoint_computed(_job(), manifest, 0.5, ME)
    assert isinstance(event, HashComputed)
    assert event.payload.hash == manifest.checkpoint_hash
    assert [f.path for f in event.payload.files] == ["a.json", "b.bin"]
    assert event.payload.algorithm == "checkpoint-manifest-v1"
    assert event.payload.bytes_hashed == 5


def test_an_s3_checkpoint_result_names_each_files_version_and_their_pin() -> None:
    """Per file the object version hashed (what an auditor fetches); `source_version` is the
    `objects-sha256` pin of the pairs. The checkpoint hash itself does not depend on them."""
    manifest = Manifest.from_entries(
        [ManifestEntry("b.bin", 3, "ab" * 32), ManifestEntry("a.json", 2, "cd" * 32)]
    )
    versions = {"a.json": "version-id:11111111-aaaa", "b.bin": 'etag:"0123abcd"'}
    event = jobs.checkpoint_computed(_job(), manifest, 0.5, ME, versions=versions)
    assert isinstance(event, HashComputed)
    assert [(f.path, f.version) for f in event.payload.files] == sorted(versions.items())
    expected = pins.of_objects([(k, pins.Pin.parse(v)) for k, v in versions.items()])
    assert event.payload.source_version == str(expected)
    assert event.payload.hash == manifest.checkpoint_hash
    changed = jobs.checkpoint_computed(
        _job(), manifest, 0.5, ME, versions={**versions, "b.bin": 'etag:"4567"'}
    )
    assert isinstance(changed, HashComputed)
    assert changed.payload.source_version not in (None, event.payload.source_version)
    local = jobs.checkpoint_computed(_job(), manifest, 0.5, ME)
    assert isinstance(local, HashComputed)
    assert local.payload.source_version is None
    assert all(f.version is None for f in local.payload.files)


def test_a_manifest_too_large_to_publish_is_a_hash_failed_gap_not_a_retry_loop() -> None:
    """A result over the topics' message limit could never be published: it is recorded as
    a failure that names the size and the limit (and keeps the checkpoint hash)."""
    manifest = Manifest.from_entries(
        [ManifestEntry(f"shard-{i:05d}.safetensors", i, "ab" * 32) for i in range(200)]
    )
    whole = jobs.checkpoint_computed(_job(), manifest, 0.5, ME)
    size = len(encode(whole))
    fits = jobs.checkpoint_computed(_job(), manifest, 0.5, ME, limit=size)
    assert isinstance(fits, HashComputed) and fits.payload == whole.payload
    gap = jobs.checkpoint_computed(_job(), manifest, 0.5, ME, limit=size - 1)
    assert isinstance(gap, HashFailed)
    assert gap.event_id == whole.event_id  # the job's one result, whichever it is
    assert f"the manifest of 200 files makes a {size:,}-byte result" in gap.payload.reason
    assert f"{size - 1:,}-byte message limit" in gap.payload.reason
    assert manifest.checkpoint_hash in gap.payload.reason
    assert jobs.MAX_RESULT_BYTES < 32 * 1024 * 1024
