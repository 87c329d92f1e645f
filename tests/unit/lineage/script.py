"""A scripted fine-tuning run as the SDK would report it, and the hasher's answers.

Shared by the unit tests (folded in memory) and the integration tests (sent through ingest
and lineage for real), so both check the same expected DAG.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import cognify_events as ev

SDK = ev.Producer(kind=ev.ProducerKind.SDK, id="gpu-node-7:4242", version="0.1.0")
HASHER = ev.Producer(kind=ev.ProducerKind.HASHER, id="hasher-1:17", version="0.1.0")
EXPORTER = ev.Producer(kind=ev.ProducerKind.EXPORTER, id="exporter-1:9", version="0.1.0")
T0 = datetime(2025, 9, 12, 14, 30, 22, tzinfo=UTC)


def root(n: int) -> str:
    return "sha256:" + f"{n:064x}"


class Script:
    """Events of one run, numbered as the SDK numbers them (seq 0, 1, 2, ...)."""

    def __init__(
        self, workspace: str, run_id: str, project: str = "clinical-nlp", t0: datetime = T0
    ) -> None:
        self.workspace, self.run_id, self.project = workspace, run_id, project
        self.t0, self.seq, self.tick = t0, 0, 0

    def env(self, producer: ev.Producer = SDK, numbered: bool = True) -> dict[str, object]:
        self.tick += 1
        out: dict[str, object] = {
            "event_id": uuid.uuid4(),
            "workspace_id": self.workspace,
            "project": self.project,
            "run_id": self.run_id,
            "seq": self.seq if numbered else None,
            "time": self.t0 + timedelta(seconds=self.tick),
            "producer": producer,
        }
        if numbered:
            self.seq += 1
        return out

    def started(self) -> ev.RunStarted:
        return ev.RunStarted(
            **self.env(),
            payload=ev.RunStartedPayload(
                run_name="discharge-summary", tags={"team": "ml"}, sdk_version="0.1.0"
            ),
        )

    def config(self, config_id: str = "cfg_lora_r16") -> ev.ConfigCaptured:
        return ev.ConfigCaptured(
            **self.env(),
            payload=ev.ConfigCapturedPayload(
                config_id=config_id,
                training_args={"learning_rate": 2e-5},
                model_type="llama",
                parameter_count=1000,
                optimizer="adamw_torch",
            ),
        )

    def dataset(
        self,
        dataset_id: str,
        name: str = "notes",
        merkle_root: str | None = None,
        role: str = "train",
        source_uri: str | None = "/data/notes",
        provenance: dict[str, str] | None = None,
    ) -> ev.DatasetRegistered:
        return ev.DatasetRegistered(
            **self.env(),
            payload=ev.DatasetRegisteredPayload(
                dataset_id=dataset_id,
                name=name,
                version="3",
                role=role,
                source_uri=source_uri,
                record_count=100,
                merkle_root=merkle_root,
                provenance=provenance or {},
            ),
        )

    def heartbeat(self, step: int) -> ev.Heartbeat:
        return ev.Heartbeat(**self.env(), payload=ev.HeartbeatPayload(step=step, interval_s=5.0))

    def metrics(self, step: int, loss: float) -> ev.MetricsLogged:
        return ev.MetricsLogged(
            **self.env(),
            payload=ev.MetricsLoggedPayload(
                step=step, epoch=step / 100, metrics={"loss": loss, "lr": 1e-5}
            ),
        )

    def checkpoint(self, step: int) -> ev.CheckpointSaved:
        return ev.CheckpointSaved(
            **self.env(),
            payload=ev.CheckpointSavedPayload(
                checkpoint_id=f"ckpt_step_{step}",
                step=step,
                path=f"/out/checkpoint-{step}",
                files=[ev.FileEntry(path="model.safetensors", size=10)],
                total_bytes=10,
            ),
        )

    def evaluation(self, step: int, eval_id: str | None = None) -> ev.EvaluationRecorded:
        return ev.EvaluationRecorded(
            **self.env(),
            payload=ev.EvaluationRecordedPayload(
                eval_id=eval_id or f"eval_step_{step}",
                source=ev.EvaluationSource.TRAINER,
                step=step,
                metrics={"eval_loss": 0.5},
            ),
        )

    def model(self, checkpoint_id: str) -> ev.ModelRegistered:
        return ev.ModelRegistered(
            **self.env(),
            payload=ev.ModelRegisteredPayload(
                model_id="model_final", path="/out/final", checkpoint_id=checkpoint_id
            ),
        )

    def ended(
        self, status: ev.RunStatus = ev.RunStatus.COMPLETED, last_seq: int | None = None
    ) -> ev.RunEnded:
        env = self.env()
        seq = env["seq"]
        assert isinstance(seq, int)
        return ev.RunEnded(
            **env,
            payload=ev.RunEndedPayload(
                status=status, global_step=200, last_seq=seq if last_seq is None else last_seq
            ),
        )

    def hashed(
        self,
        target: ev.HashTarget,
        target_id: str,
        digest: str,
        source_version: str | None = None,
    ) -> ev.HashComputed:
        return ev.HashComputed(
            **self.env(HASHER, numbered=False),
            payload=ev.HashComputedPayload(
                job_id=f"job-{self.run_id}-{target_id}",
                target=target,
                target_id=target_id,
                hash=digest,
                algorithm="checkpoint-manifest-v1",
                record_count=100 if target == "dataset" else None,
                source_version=source_version,
            ),
        )

    def hash_failed(self, target: ev.HashTarget, target_id: str) -> ev.HashFailed:
        return ev.HashFailed(
            **self.env(HASHER, numbered=False),
            payload=ev.HashFailedPayload(
                job_id=f"job-{self.run_id}-{target_id}",
                target=target,
                target_id=target_id,
                reason="checkpoint directory no longer exists",
            ),
        )

    def sealed(self, head: str, count: int) -> ev.RunSealed:
        env = self.env(EXPORTER, numbered=False)
        when = env["time"]
        assert isinstance(when, datetime)
        return ev.RunSealed(
            **env,
            payload=ev.RunSealedPayload(
                sealed_at=when, sealed_by="exporter", chain_head=head, event_count=count
            ),
        )


def training(s: Script) -> list[ev.Event]:
    """The SDK's events of a complete run: config, two datasets (one hashed in the SDK, one
    to be hashed by the pool), an eval dataset, two checkpoints, evaluations, the model."""
    return [
        s.started(),
        s.config(),
        s.dataset("ds_notes_v3", merkle_root=root(1)),
        s.dataset("ds_extra_v1", name="extra", source_uri="/data/extra"),
        s.dataset(
            "ds_eval_v1",
            name="eval-notes",
            role="eval",
            source_uri="/data/eval",
            merkle_root=root(2),
        ),
        s.heartbeat(0),
        s.metrics(10, 1.5),
        s.metrics(20, 1.2),
        s.checkpoint(100),
        s.evaluation(100),
        s.metrics(150, 0.9),
        s.checkpoint(200),
        s.evaluation(200),
        s.model("ckpt_step_200"),
        s.ended(),
    ]


def hash_results(s: Script) -> list[ev.Event]:
    """What the hasher pool answers for the training events' jobs."""
    return [
        s.hashed(ev.HashTarget.DATASET, "ds_extra_v1", root(3)),
        s.hashed(ev.HashTarget.CHECKPOINT, "ckpt_step_100", root(4)),
        s.hashed(ev.HashTarget.CHECKPOINT, "ckpt_step_200", root(5)),
        s.hashed(ev.HashTarget.MODEL, "model_final", root(6)),
    ]


EXPECTED_NODES = [
    ("config", "cfg_lora_r16"),
    ("dataset", "ds_notes_v3"),
    ("dataset", "ds_extra_v1"),
    ("dataset", "ds_eval_v1"),
    ("checkpoint", "ckpt_step_100"),
    ("eval", "eval_step_100"),
    ("checkpoint", "ckpt_step_200"),
    ("eval", "eval_step_200"),
    ("model", "model_final"),
]
EXPECTED_EDGES = {
    ("cfg_lora_r16", "ckpt_step_100"),
    ("ds_notes_v3", "ckpt_step_100"),
    ("ds_extra_v1", "ckpt_step_100"),
    ("ckpt_step_100", "eval_step_100"),
    ("cfg_lora_r16", "ckpt_step_200"),
    ("ds_notes_v3", "ckpt_step_200"),
    ("ds_extra_v1", "ckpt_step_200"),
    ("ckpt_step_200", "eval_step_200"),
    ("ckpt_step_200", "model_final"),
}
