"""What the SDK records: redacted secrets, provenance warnings, dataset identity, settings."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import cognify
import pytest
from cognify.config import ConfigurationError, Settings
from cognify.dataset_ref import DatasetError, describe
from cognify.provenance import ProvenanceWarning
from cognify.redaction import REDACTED, redact
from cognify_hashing import hash_dataset
from datasets import Dataset, DatasetDict


def test_secrets_are_redacted_by_name_at_any_depth() -> None:
    config = {
        "learning_rate": 2e-5,
        "hub_token": "hf_abc",
        "push_to_hub_token": None,
        "deepspeed": {"api_key": "k", "stage": 3},
        "pad_token_id": 0,
        "db_password": "hunter2",
        "report_to": ["wandb"],
        "nan": float("nan"),
    }
    clean, redacted = redact(config)
    assert clean["hub_token"] == REDACTED and clean["db_password"] == REDACTED
    assert clean["deepspeed"] == {"api_key": REDACTED, "stage": 3}
    assert clean["pad_token_id"] == 0 and clean["learning_rate"] == 2e-5
    assert clean["push_to_hub_token"] is None  # nothing to hide
    assert clean["nan"] == "nan"
    assert sorted(redacted) == ["db_password", "deepspeed.api_key", "hub_token"]
    assert "hf_abc" not in json.dumps(clean) and "hunter2" not in json.dumps(clean)


def test_healthcare_provenance_without_its_required_fields_warns_naming_them() -> None:
    ds = Dataset.from_list([{"text": "a"}])
    with pytest.warns(ProvenanceWarning, match="deidentification_method, authorized_use"):
        reg = describe(ds, "notes", "1", None, {"source_system": "ehr"}, "healthcare")
    assert reg.payload.provenance_warnings and reg.ref.warnings


def test_complete_healthcare_provenance_does_not_warn() -> None:
    ds = Dataset.from_list([{"text": "a"}])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        describe(
            ds,
            "notes",
            "1",
            None,
            {"deidentification_method": "safe_harbor", "authorized_use": "x"},
            "healthcare",
        )


def test_an_in_memory_dataset_is_hashed_like_the_same_records_on_disk(tmp_path: Path) -> None:
    rows = [{"id": i, "text": f"note {i}", "score": i / 4} for i in range(50)]
    ds = Dataset.from_list(rows)
    reg = describe(ds, "notes", "1", None, {}, "standard")
    jsonl = tmp_path / "notes.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert reg.ref.merkle_root == hash_dataset(jsonl).root
    assert reg.payload.record_count == 50 and reg.payload.merkle_root == reg.ref.merkle_root


def test_a_selected_subset_is_hashed_as_the_subset() -> None:
    ds = Dataset.from_list([{"i": i} for i in range(10)])
    subset = describe(ds.select([7, 3]), "n", "1", None, {}, "standard")
    direct = describe(Dataset.from_list([{"i": 7}, {"i": 3}]), "n", "1", None, {}, "standard")
    assert subset.ref.merkle_root == direct.ref.merkle_root


def test_a_dataset_with_a_source_path_leaves_the_root_to_the_hasher(tmp_path: Path) -> None:
    ds = Dataset.from_list([{"text": "a"}, {"text": "b"}])
    ds.save_to_disk(str(tmp_path / "train"))
    reg = describe(ds, "notes", "3.1", tmp_path / "train", {}, "standard", "train")
    assert reg.payload.merkle_root is None
    assert reg.payload.source_uri == str((tmp_path / "train").resolve())
    assert reg.payload.record_count == 2 and reg.payload.dataset_id == "ds_notes_3.1"


@pytest.mark.parametrize("kind", ["jsonl", "parquet", "save_to_disk"])
def test_paths_of_every_supported_format_register(tmp_path: Path, kind: str) -> None:
    ds = Dataset.from_list([{"text": "a"}, {"text": "b"}, {"text": "c"}])
    path = {
        "jsonl": tmp_path / "d.jsonl",
        "parquet": tmp_path / "d.parquet",
        "save_to_disk": tmp_path / "d",
    }[kind]
    {
        "jsonl": lambda: ds.to_json(str(path), lines=True),
        "parquet": lambda: ds.to_parquet(str(path)),
        "save_to_disk": lambda: ds.save_to_disk(str(path)),
    }[kind]()
    reg = describe(str(path), "d", "1", None, {}, "standard")
    assert reg.payload.record_count == 3
    assert reg.payload.source_uri == str(path.resolve())


def test_a_missing_path_or_an_unsupported_object_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        describe(str(tmp_path / "nope.jsonl"), "d", "1", None, {}, "standard")
    with pytest.raises(DatasetError, match=r"got a list; expected a datasets\.Dataset"):
        describe([{"a": 1}], "d", "1", None, {}, "standard")


def test_missing_settings_are_named() -> None:
    with pytest.raises(ConfigurationError, match=r"workspace_id .* api_key .* project"):
        Settings.resolve(None, None, None)
    with pytest.raises(ConfigurationError, match=r"tier 'gold'"):
        Settings.resolve("ws", "k", "p", compliance_tier="gold")


def test_the_raw_topic_takes_the_prefix_the_services_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COGNIFY_TOPIC_PREFIX", raising=False)
    assert Settings.resolve("ws", "k", "p").raw_topic == "cognify.events.raw"
    monkeypatch.setenv("COGNIFY_TOPIC_PREFIX", "t1234.")
    assert Settings.resolve("ws", "k", "p").raw_topic == "t1234.cognify.events.raw"


def test_dataset_dicts_register_one_dataset_per_split(tmp_path: Path) -> None:
    from cognify.dataset_ref import split_items

    dd = DatasetDict(
        {"train": Dataset.from_list([{"a": 1}]), "test": Dataset.from_list([{"a": 2}, {"a": 3}])}
    )
    items = split_items(dd, None)
    assert items is not None and [s for s, _, _ in items] == ["test", "train"]
    dd.save_to_disk(str(tmp_path / "dd"))
    on_disk = split_items(str(tmp_path / "dd"), None)
    assert on_disk is not None and [s for s, _, _ in on_disk] == ["test", "train"]


def test_the_walkthrough_api_is_importable_as_written() -> None:
    from cognify.integrations.huggingface import CognifyTrainerCallback

    assert callable(cognify.init) and callable(cognify.dataset) and callable(cognify.eval)
    assert CognifyTrainerCallback(capture_hyperparams=True).capture_checkpoints
    with pytest.raises(cognify.CognifyError, match=r"exporter service"):
        cognify.export_audit()
