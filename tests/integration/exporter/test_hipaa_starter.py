"""The HIPAA access control section names who started the training run: the person and host
the SDK put in `run.started`, and the key and address ingest recorded for that very event
(`run.start`, from the key whose signature verified and the address of the request it came
in). A later write by another key from another place is not taken for the starter; a run
started through Kafka is said to have no address ingest could see."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
from pathlib import Path

import cognify_events as ev
from cognify_access.keys import key_id_of
from cognify_kafka import KafkaSettings

from tests.integration.lineage.harness import eventually, http, signed
from tests.unit.lineage.script import Script, hash_results, training

from .conftest import Cluster, approve, cluster


def _started_by(e: ev.Event) -> ev.Event:
    if isinstance(e, ev.RunStarted):
        payload = e.payload.model_copy(update={"started_by": "priya", "host": "gpu-node-7"})
        return e.model_copy(update={"payload": payload})
    return e


async def _run(c: Cluster, run_id: str, *, over_http: bool) -> None:
    script = Script(c.workspace, run_id)
    events = [_started_by(e) for e in training(script)]
    if over_http:  # run.started through POST /v1/events, the rest through Kafka (the SDK)
        _, body = signed(events[0], c.keys.writer)
        status, answer = await http("POST", f"{c.s.ingest_url}/v1/events", c.keys.writer, raw=body)
        assert status == 202, answer
        events = events[1:]
    await c.s.send_raw([signed(e, c.keys.writer) for e in events])
    await c.s.send_events(hash_results(script))

    async def folded() -> bool:
        run = (await c.s.runs(run_id, full=False)).get(run_id)
        if run is None or len(run.nodes) != 9 or run.status != "completed":
            return False
        return all(n.hash_status == "computed" for n in run.nodes.values())

    await eventually(folded, f"run {run_id} folded")
    # a reviewer decides on the run with a key of their own: recorded, not its starter
    await approve(c, run_id)


def _get(url: str, key: str) -> bytes:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return bytes(answer.read())


async def _hipaa(c: Cluster, run_id: str, out: Path) -> tuple[dict[str, str], str]:
    status, body = await http(
        "POST",
        f"{c.exporter_url}/v1/runs/{run_id}/seal",
        c.keys.reviewer,
        {"formats": ["json", "pdf"], "template": "hipaa"},
    )
    assert status == 200, body
    base = f"{c.exporter_url}/v1/runs/{run_id}/exports/hipaa"
    package = json.loads(await asyncio.to_thread(_get, f"{base}/json", c.keys.reviewer))
    out.write_bytes(await asyncio.to_thread(_get, f"{base}/pdf", c.keys.reviewer))
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, check=True, text=True)
    (point,) = [p for p in package["compliance"] if p["title"] == "§164.312(a) Access control"]
    return {f["label"]: f["value"] for f in point["fields"]}, " ".join(text.stdout.split())


async def test_the_hipaa_access_control_names_the_starter_key_and_address(
    kafka: KafkaSettings, unique: str, tmp_path: Path
) -> None:
    async with cluster(kafka, unique) as c:
        await _run(c, f"run-http-{unique}", over_http=True)
        await _run(c, f"run-kafka-{unique}", over_http=False)
        by_http, text = await _hipaa(c, f"run-http-{unique}", tmp_path / "http.pdf")
        by_kafka, _ = await _hipaa(c, f"run-kafka-{unique}", tmp_path / "kafka.pdf")

    writer = f"key:{key_id_of(c.keys.writer)} (writer)"
    assert by_http["run started by"] == "priya" and by_http["host"] == "gpu-node-7"
    assert by_http["with key"] == writer
    assert by_http["from address"] == "127.0.0.1"
    assert by_http["at"].startswith("20")
    for shown in ("priya", writer, "gpu-node-7", "access.recorded run.start by ingest"):
        assert shown in text, shown
    assert by_kafka["with key"] == writer
    assert by_kafka["from address"].startswith("none seen by ingest: run.started came through")
