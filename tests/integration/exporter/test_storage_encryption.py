"""The HIPAA package's encryption at rest is read from the storage, not typed: a MinIO of
the test's own, started by `deploy/stack up minio` (its static KMS key, the bucket's SSE-S3
default encryption set by the stack), answers GetBucketEncryption, and the PDF names the
algorithm with the bucket and the time it was asked. The checkpoints' bucket has no
default encryption: the PDF says the API states none there, and only then prints the
organisation's typed statement, labelled as typed.

A test's own MinIO, not the shared one: the stack's server only gains its KMS key when it
is restarted, and tests never restart the shared stack."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cognify_events as ev
from cognify_kafka import KafkaSettings
from cognify_objectstore import ObjectStore, StoreSettings

from tests.integration.lineage.harness import eventually, free_port, http, signed
from tests.unit.lineage.script import Script, hash_results, training

from .conftest import Cluster, approve, cluster

ROOT = Path(__file__).resolve().parents[3]
PLAIN = "ckpts-plain"  # the checkpoints' bucket: no default encryption


@contextlib.contextmanager
def own_minio(state: Path) -> Iterator[StoreSettings]:
    """`deploy/stack up minio` on a state directory and ports of the test's own."""
    port, console = free_port(), free_port()
    env = {
        **os.environ,
        "COGNIFY_STATE": str(state),
        "COGNIFY_MINIO_PORT": str(port),
        "COGNIFY_MINIO_CONSOLE_PORT": str(console),
    }
    stack = str(ROOT / "deploy/stack")
    up = subprocess.run(
        [stack, "up", "minio"], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "default encryption AES256" in up.stderr, up.stderr
        assert (state / "minio" / "kms.key").stat().st_mode & 0o077 == 0  # owner only
        yield StoreSettings(endpoint=f"127.0.0.1:{port}", bucket="cognify-audit")
    finally:
        subprocess.run([stack, "down", "minio"], env=env, capture_output=True, check=False)


def _on_s3(e: ev.Event) -> ev.Event:
    """The run's checkpoints and model kept in the unencrypted bucket."""
    if isinstance(e, ev.CheckpointSaved | ev.ModelRegistered):
        path = f"s3://{PLAIN}/run{e.payload.path}"
        return e.model_copy(update={"payload": e.payload.model_copy(update={"path": path})})
    return e


async def _trained(c: Cluster, run_id: str) -> None:
    script = Script(c.workspace, run_id)
    await c.s.send_raw([signed(_on_s3(e), c.keys.writer) for e in training(script)])
    await c.s.send_events(hash_results(script))

    async def folded() -> bool:
        run = (await c.s.runs(run_id, full=False)).get(run_id)
        done = run is not None and all(n.hash_status == "computed" for n in run.nodes.values())
        return done and run is not None and len(run.nodes) == 9 and run.status == "completed"

    await eventually(folded, f"run {run_id} folded")


def _pdf_text(url: str, key: str, out: Path) -> str:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        out.write_bytes(answer.read())
    text = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, check=True, text=True
    ).stdout
    return " ".join(text.split())


async def test_the_hipaa_pdf_names_the_encryption_the_bucket_states(
    kafka: KafkaSettings, unique: str, tmp_path: Path
) -> None:
    with own_minio(tmp_path / "state") as settings:
        plain = ObjectStore(StoreSettings(endpoint=settings.endpoint, bucket=PLAIN))
        await asyncio.to_thread(plain.ensure_bucket)  # no default encryption on this one
        async with cluster(kafka, unique, settings) as c:
            typed = "Checkpoint volumes are LUKS-encrypted (AES-256-XTS)."
            status, body = await http(
                "PATCH",
                f"{c.s.ingest_url}/v2/workspaces/{c.workspace}/documentation",
                c.keys.admin,
                {"encryption_at_rest": typed},
            )
            assert status == 200, body

            async def documented() -> bool:
                found = await c.s.pool.fetchval(
                    "SELECT count(*) FROM events WHERE chain_id = $1 "
                    "AND type = 'documentation.updated'",
                    f"workspace:{c.workspace}",
                )
                return int(found) == 1

            await eventually(documented, "the documentation change stored")
            run_id = f"run-{unique}"
            await _trained(c, run_id)
            await approve(c, run_id)
            status, body = await http(
                "POST",
                f"{c.exporter_url}/v1/runs/{run_id}/seal",
                c.keys.reviewer,
                {"formats": ["pdf"], "template": "hipaa"},
            )
            assert status == 200, body
            url = f"{c.exporter_url}/v1/runs/{run_id}/exports/hipaa/pdf"
            text = await asyncio.to_thread(_pdf_text, url, c.keys.reviewer, tmp_path / "h.pdf")

    # The packages' bucket: what GetBucketEncryption answered, with the bucket and time.
    assert "bucket cognify-audit (audit packages)" in text
    assert "SSE-S3 (AES256) default encryption (AES256)" in text
    assert "s3:GetBucketEncryption on bucket cognify-audit at 20" in text
    # The checkpoints' bucket: none stated, so the typed statement, said to be typed.
    assert f"bucket {PLAIN} (checkpoints and model)" in text
    assert "the S3 API states no default encryption for this bucket" in text
    assert f"s3:GetBucketEncryption on bucket {PLAIN} at 20" in text
    assert "typed, used because the S3 API did not state the encryption of all of it" in text
    assert typed in text
