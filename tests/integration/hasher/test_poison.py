"""A message on the jobs topic that is not a job is dead-lettered alone (rejected_by
`hasher`), and the jobs behind it on the same partition are done."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka import TopicPartition
from cognify_events import DeadLetter, HashTarget, encode
from cognify_events.deadletter import letter_id
from cognify_hasher.kafka import dead_letter_topic
from cognify_hasher.settings import HasherSettings
from cognify_kafka import KafkaSettings, consumer, producer

from .harness import all_answered, collect, job, results_for, running

pytestmark = pytest.mark.integration


async def _letters(kafka: KafkaSettings, topic: str, n: int) -> list[DeadLetter]:
    cons = consumer(kafka, group_id=None)
    await cons.start()
    try:
        tp = TopicPartition(topic, 0)
        cons.assign([tp])
        await cons.seek_to_beginning(tp)
        out: list[DeadLetter] = []
        for _ in range(120):
            batch = await cons.getmany(timeout_ms=500)
            out += [DeadLetter.model_validate_json(m.value) for ms in batch.values() for m in ms]
            if len(out) >= n:
                break
        return out
    finally:
        await cons.stop()


async def test_a_message_that_is_not_a_job_is_dead_lettered_and_the_jobs_behind_it_are_done(
    root: Path, kafka: KafkaSettings, hasher: HasherSettings
) -> None:
    data = root / "notes.jsonl"
    data.write_text("".join(f'{{"id": {i}}}\n' for i in range(50)))
    jobs = [job(HashTarget.DATASET, str(data)) for _ in range(3)]
    ids = {j.payload.job_id for j in jobs}
    poison = b'{"type": "hash.job_requested", "payload": '
    async with running(hasher) as settings:
        prod = producer(kafka)
        await prod.start()
        try:  # one partition: the poison sits between the jobs
            sent = [
                await prod.send(settings.topics.jobs, value, partition=0)
                for value in [encode(jobs[0]), poison, encode(jobs[1]), encode(jobs[2])]
            ]
            for future in sent:
                await future
            offset = (await sent[1]).offset
        finally:
            await prod.stop()
        events = await collect(kafka, settings.topics.events, all_answered(ids))
        dlq = dead_letter_topic(settings.topics)
        letters = await _letters(kafka, dlq, 1)

    assert all(r[0]["type"] == "hash.computed" for r in results_for(events, ids).values())
    assert len(letters) == 1
    letter = letters[0]
    assert letter.rejected_by == "hasher" and letter.original == poison
    assert letter.reason.startswith("InvalidEvent: ")
    assert letter.letter_id == letter_id(settings.topics.jobs, 0, offset)
