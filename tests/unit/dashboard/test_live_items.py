"""What a Kafka message means to an open live stream (pure)."""

from __future__ import annotations

import asyncio
import json

from cognify_dashboard.live import Hub, Item, item_of, sse
from cognify_kafka import KafkaSettings


def message(type_: str, run_id: str | None = "run-1", **payload: object) -> bytes:
    return json.dumps(
        {
            "event_id": "e1",
            "workspace_id": "ws-a",
            "project": "p",
            "run_id": run_id,
            "type": type_,
            "seq": 4,
            "time": "2025-01-01T00:00:00Z",
            "payload": payload,
        }
    ).encode()


def test_an_event_becomes_an_event_item() -> None:
    (item,) = item_of(message("checkpoint.saved"), progress=False)
    assert item == Item(
        "event",
        {
            "event_type": "checkpoint.saved",
            "seq": 4,
            "time": "2025-01-01T00:00:00Z",
            "event_id": "e1",
            "run_id": "run-1",
        },
        "ws-a",
        "run-1",
    )
    assert sse(item).startswith(b"event: event\ndata: {")
    assert sse(item).endswith(b"\n\n")


def test_a_hash_result_is_also_a_hash_item() -> None:
    body = message("hash.computed", job_id="j1", target_id="ckpt_step_5", bytes_hashed=10)
    names = [(i.name, i.data.get("state")) for i in item_of(body, progress=False)]
    assert names == [("event", None), ("hash", "computed")]


def test_progress_becomes_a_hash_item() -> None:
    body = message(
        "hash.progress", job_id="j1", target_id="ckpt_step_5", bytes_done=5, bytes_total=10
    )
    (item,) = item_of(body, progress=True)
    assert item.data == {
        "job_id": "j1",
        "node_id": "ckpt_step_5",
        "bytes_done": 5,
        "bytes_total": 10,
        "state": "hashing",
    }


def test_unreadable_messages_mean_nothing() -> None:
    for value in (None, b"", b"not json", b"[]", b'{"type": "x"}', b'{"workspace_id": 1}'):
        assert item_of(value, progress=False) == []


async def test_a_stream_gets_its_workspace_and_run_only() -> None:
    hub = Hub(KafkaSettings(), "t", "p")
    run_sub = hub.subscribe("ws-a", "run-1")
    ws_sub = hub.subscribe("ws-a", None)
    other = hub.subscribe("ws-b", None)
    for raw in (message("run.heartbeat"), message("run.heartbeat", run_id="run-2")):
        for item in item_of(raw, progress=False):
            hub.publish(item)
    assert run_sub.queue.qsize() == 1
    assert ws_sub.queue.qsize() == 2
    assert other.queue.qsize() == 0


async def test_a_stream_that_falls_behind_is_ended() -> None:
    hub = Hub(KafkaSettings(), "t", "p")
    sub = hub.subscribe("ws-a", None)
    (item,) = item_of(message("run.heartbeat"), progress=False)
    for _ in range(sub.queue.maxsize + 1):
        hub.publish(item)
    assert sub.overflowed
    chunks = [chunk async for chunk in hub.stream(sub)]
    assert chunks[0].startswith(b"retry:")
    assert len(chunks) <= 2
    assert hub._subs == {}  # unsubscribed when the stream ends
    await asyncio.sleep(0)
