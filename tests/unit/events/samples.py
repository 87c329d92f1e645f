"""One realistic instance of every event type, shared by the contract tests."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import cognify_events as ev

WHEN = datetime(2025, 9, 12, 14, 30, 22, tzinfo=UTC)
SDK = ev.Producer(kind=ev.ProducerKind.SDK, id="gpu-node-7:4242", version="0.1.0")
SERVICE = ev.Producer(kind=ev.ProducerKind.HASHER, id="hasher-1:17", version="0.1.0")
ROOT = "sha256:" + "8f4a2c" + "0" * 58
CKPT = "sha256:" + "c7f9a4" + "0" * 58
REVIEWER = ev.Reviewer(name="Dr. Ana Ortiz", role="compliance officer")


def _env(n: int, producer: ev.Producer = SDK, seq: int | None = None) -> dict[str, object]:
    return {
        "event_id": UUID(int=n),
        "workspace_id": "ws-clinical",
        "project": "clinical-nlp-v2",
        "run_id": "run_20250912_143022_a7f3c",
        "seq": seq,
        "time": WHEN,
        "producer": producer,
    }


def all_samples() -> list[ev.Event]:
    files = [ev.FileEntry(path="model.safetensors", size=1024), ev.FileEntry(path="c.json", size=9)]
    return [
        ev.RunStarted(
            **_env(1, seq=0),
            payload=ev.RunStartedPayload(
                run_name="discharge-summary", tags={"team": "ml-platform"}, sdk_version="0.1.0"
            ),
        ),
        ev.ConfigCaptured(
            **_env(2, seq=1),
            payload=ev.ConfigCapturedPayload(
                config_id="cfg_llama3_8b_lora_r16",
                training_args={"learning_rate": 2e-5, "hub_token": "<redacted>"},
                model_architecture={"model_type": "llama"},
                parameter_count=8_030_261_248,
                optimizer="adamw_torch",
                lr_scheduler="cosine",
                redacted_keys=["hub_token"],
            ),
        ),
        ev.SystemInfoCaptured(
            **_env(3, seq=2),
            payload=ev.SystemInfoPayload(
                host="gpu-node-7",
                os="Linux-6.1",
                python_version="3.11.7",
                packages={"torch": "2.9.1"},
                gpu_model="NVIDIA H100",
                gpu_count=8,
                cuda_version="12.8",
                git_commit="a" * 40,
                git_dirty=False,
                world_size=8,
            ),
        ),
        ev.Heartbeat(**_env(4, seq=3), payload=ev.HeartbeatPayload(step=10, interval_s=5.0)),
        ev.MetricsLogged(
            **_env(5, seq=4),
            payload=ev.MetricsLoggedPayload(
                step=10, epoch=0.5, metrics={"loss": 1.25, "learning_rate": 1.9e-5}
            ),
        ),
        ev.EvaluationRecorded(
            **_env(6, seq=5),
            payload=ev.EvaluationRecordedPayload(
                eval_id="eval_clinical-safety-v2_2.3",
                source=ev.EvaluationSource.BENCHMARK,
                metrics={"accuracy": 0.921, "false_negative_rate": 0.041},
                benchmark_name="clinical-safety-v2",
                benchmark_version="2.3",
                eval_dataset_id="ds_clinical-notes-eval_3.1",
                notes="FNR within policy.",
            ),
        ),
        ev.RunEnded(
            **_env(7, seq=9),
            payload=ev.RunEndedPayload(status=ev.RunStatus.COMPLETED, global_step=2500, last_seq=9),
        ),
        ev.DatasetRegistered(
            **_env(8, seq=6),
            payload=ev.DatasetRegisteredPayload(
                dataset_id="ds_clinical-notes_3.1",
                name="clinical-notes",
                version="3.1",
                role="train",
                source_uri="/data/clinical-notes-v3.1/train",
                record_count=142000,
                record_schema={"text": "string"},
                provenance={"deidentification_method": "safe_harbor", "record_count": 142000},
                format="save_to_disk",
            ),
        ),
        ev.CheckpointSaved(
            **_env(9, seq=7),
            payload=ev.CheckpointSavedPayload(
                checkpoint_id="ckpt_step_2500",
                step=2500,
                path="/out/checkpoint-2500",
                files=files,
                total_bytes=1033,
            ),
        ),
        ev.ModelRegistered(
            **_env(10, seq=8),
            payload=ev.ModelRegisteredPayload(
                model_id="model_final",
                path="/out/final",
                checkpoint_id="ckpt_step_2500",
                files=files,
            ),
        ),
        ev.HashJobRequested(
            **_env(11, ev.Producer(kind="ingest", id="ingest-1")),
            payload=ev.HashJobRequestedPayload(
                job_id="job-ckpt_step_2500",
                target=ev.HashTarget.CHECKPOINT,
                target_id="ckpt_step_2500",
                source_uri="/out/checkpoint-2500",
            ),
        ),
        ev.HashComputed(
            **_env(12, SERVICE),
            payload=ev.HashComputedPayload(
                job_id="job-ckpt_step_2500",
                target=ev.HashTarget.CHECKPOINT,
                target_id="ckpt_step_2500",
                hash=CKPT,
                algorithm="checkpoint-manifest-v1",
                files=[ev.FileHash(path="model.safetensors", size=1024, sha256="ab" * 32)],
                bytes_hashed=1024,
                duration_s=0.01,
            ),
        ),
        ev.HashComputed(  # an s3:// source: the version that was hashed
            **_env(29, SERVICE),
            payload=ev.HashComputedPayload(
                job_id="job-ds_clinical-notes_3.3",
                target=ev.HashTarget.DATASET,
                target_id="ds_clinical-notes_3.3",
                hash=ROOT,
                algorithm="merkle-rfc6962-v1",
                record_count=4_194_304,
                bytes_hashed=860_000_000,
                duration_s=12.5,
                source_version="version-id:b2b7f26d-922e-4424-a56b-3f582251d7aa",
            ),
        ),
        ev.HashFailed(
            **_env(13, SERVICE),
            payload=ev.HashFailedPayload(
                job_id="job-ckpt_step_500",
                target=ev.HashTarget.CHECKPOINT,
                target_id="ckpt_step_500",
                reason="checkpoint directory no longer exists "
                "(rotated away by save_total_limit before it was hashed)",
            ),
        ),
        ev.HashChunkRequested(
            **_env(24, SERVICE),
            payload=ev.HashChunkRequestedPayload(
                job_id="job-ds_clinical-notes_3.2",
                plan_id="5e1f" + "0" * 12,
                chunk_index=1,
                chunk_count=4,
                target=ev.HashTarget.DATASET,
                target_id="ds_clinical-notes_3.2",
                source_uri="/data/clinical-notes/3.2/train.jsonl",
                record_offset=1_048_576,
                record_count=1_048_576,
            ),
        ),
        ev.HashChunkRequested(  # an s3:// source: the version it was planned from
            **_env(28, SERVICE),
            payload=ev.HashChunkRequestedPayload(
                job_id="job-ds_clinical-notes_3.3",
                plan_id="7a2b" + "0" * 12,
                chunk_index=2,
                chunk_count=4,
                target=ev.HashTarget.DATASET,
                target_id="ds_clinical-notes_3.3",
                source_uri="s3://datasets/clinical-notes/3.3/train.jsonl",
                record_offset=2_097_152,
                record_count=1_048_576,
                byte_offset=409_512_337,
                source_version="version-id:b2b7f26d-922e-4424-a56b-3f582251d7aa",
            ),
        ),
        ev.HashChunkComputed(
            **_env(25, SERVICE),
            payload=ev.HashChunkComputedPayload(
                job_id="job-ds_clinical-notes_3.2",
                plan_id="5e1f" + "0" * 12,
                chunk_index=1,
                chunk_count=4,
                target=ev.HashTarget.DATASET,
                target_id="ds_clinical-notes_3.2",
                record_offset=1_048_576,
                record_count=1_048_576,
                root=ROOT,
                record_schema={"columns": [{"name": "text", "type": "string"}]},
                bytes_hashed=215_000_000,
                duration_s=2.5,
            ),
        ),
        ev.HashChunkFailed(
            **_env(26, SERVICE),
            payload=ev.HashChunkFailedPayload(
                job_id="job-ckpt_step_2500",
                plan_id="77aa" + "0" * 12,
                chunk_index=0,
                chunk_count=2,
                target=ev.HashTarget.CHECKPOINT,
                target_id="ckpt_step_2500",
                reason="file 'model-00001-of-00002.safetensors' disappeared while it was hashed",
            ),
        ),
        ev.HashProgress(
            **_env(27, SERVICE),
            payload=ev.HashProgressPayload(
                job_id="job-ckpt_step_2500",
                target=ev.HashTarget.CHECKPOINT,
                target_id="ckpt_step_2500",
                bytes_done=8_388_608,
                bytes_total=16_060_522_496,
            ),
        ),
        ev.DatasetChanged(
            **_env(14, ev.Producer(kind="lineage", id="lineage-1")),
            payload=ev.DatasetChangedPayload(
                dataset_id="ds_clinical-notes_3.1",
                name="clinical-notes",
                previous_root=ROOT,
                new_root=CKPT,
                previous_run_id="run_20250801_090000_b1b1b",
            ),
        ),
        ev.DatasetProvenanceIncomplete(
            **_env(41, ev.Producer(kind="ingest", id="ingest-1")),
            payload=ev.DatasetProvenanceIncompletePayload(
                dataset_id="ds_clinical-notes_3.1",
                name="clinical-notes",
                tier="healthcare",
                missing=["deidentification_method"],
                requested_by_event="00000000-0000-0000-0000-00000000000d",
            ),
        ),
        ev.DatasetDiffDocumented(
            **_env(15, ev.Producer(kind="api", id="ingest-1")),
            payload=ev.DatasetDiffDocumentedPayload(
                dataset_id="ds_clinical-notes_3.1",
                description="Removed 12 duplicated notes.",
                documented_by="Sam Lee",
            ),
        ),
        ev.AnnotationAdded(
            **_env(16, ev.Producer(kind="api", id="ingest-1")),
            payload=ev.AnnotationAddedPayload(
                annotation_id="ann-1",
                node_id="ds_clinical-notes_3.1",
                author=REVIEWER,
                text="Please confirm the extraction date.",
            ),
        ),
        ev.RunApproved(
            **_env(17, ev.Producer(kind="api", id="ingest-1")),
            payload=ev.DecisionPayload(reviewer=REVIEWER, comment="Approved for release."),
        ),
        ev.RunRejected(
            **_env(18, ev.Producer(kind="api", id="ingest-1")),
            payload=ev.DecisionPayload(reviewer=REVIEWER, comment="FNR too high."),
        ),
        ev.SealRequested(
            **_env(19, ev.Producer(kind="api", id="ingest-1")),
            payload=ev.SealRequestedPayload(
                requested_by="Sam Lee",
                formats=["pdf", "json"],
                template=ev.ExportTemplate.HEALTHCARE,
            ),
        ),
        ev.RunSealed(
            **_env(20, ev.Producer(kind="exporter", id="exporter-1")),
            payload=ev.RunSealedPayload(
                sealed_at=WHEN, sealed_by="Sam Lee", chain_head=ROOT, event_count=42
            ),
        ),
        ev.SealRefused(
            **_env(40, ev.Producer(kind="exporter", id="exporter-1")),
            payload=ev.SealRefusedPayload(
                reasons=[
                    "approval missing: the workspace policy requires 1 approval(s), the run has 0"
                ],
                request_id=UUID(int=19),
                requested_by="Sam Lee",
            ),
        ),
        ev.ExportCompleted(
            **_env(21, ev.Producer(kind="exporter", id="exporter-1")),
            payload=ev.ExportCompletedPayload(
                format=ev.ExportFormat.PDF,
                template=ev.ExportTemplate.HEALTHCARE,
                bucket="cognify-audit",
                object_key="ws-clinical/run_20250912_143022_a7f3c/audit.pdf",
                package_hash=ROOT,
                size=123456,
                retain_until=datetime(2032, 9, 12, tzinfo=UTC),
            ),
        ),
        ev.RetentionUpdated(
            **{**_env(22, ev.Producer(kind="api", id="ingest-1")), "run_id": None},
            payload=ev.RetentionUpdatedPayload(
                retention_years=7,
                archive_after_days=90,
                auto_export_on_seal=True,
                auto_export_format="json",
                updated_by="admin",
            ),
        ),
        ev.AccessRecorded(
            **_env(23, ev.Producer(kind="api", id="ingest-1")),
            payload=ev.AccessRecordedPayload(
                actor="Dr. Ana Ortiz",
                role="reviewer",
                action="run.read",
                object_id="run_20250912_143022_a7f3c",
                address="198.51.100.7",
            ),
        ),
        ev.DocumentationUpdated(
            **{**_env(24, ev.Producer(kind="api", id="ingest-1")), "run_id": None},
            payload=ev.DocumentationUpdatedPayload(
                set={ev.DocField.INTENDED_USE: "Drafting discharge summaries for review"},
                cleared=[ev.DocField.PHI_HANDLING],
                updated_by="Dr. Ana Ortiz",
                key_id="0123456789ab",
            ),
        ),
        ev.WorkspaceTierChanged(
            **{**_env(25, ev.Producer(kind="api", id="ingest-1")), "run_id": None},
            payload=ev.WorkspaceTierChangedPayload(
                previous_tier="standard",
                tier="healthcare",
                changed_by="Dr. Ana Ortiz",
                key_id="0123456789ab",
            ),
        ),
    ]
