"""The SDK warns about provenance against the workspace's compliance tier, as ingest reports
it, without waiting on ingest for long (a fake answer here; the real ingest is in
tests/integration/sdk/test_provenance_tier.py)."""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import cognify
import pytest
from cognify import tier
from cognify.provenance import ProvenanceWarning
from cognify.tier import TierLookup
from datasets import Dataset

HEALTHCARE = {
    "workspace_id": "ws-1",
    "compliance_tier": "healthcare",
    "required_provenance": ["deidentification_method", "authorized_use"],
}


def answer(found: Mapping[str, Any]) -> tier.Fetch:
    def fetch(url: str, key: str, timeout_s: float) -> Mapping[str, Any]:
        assert (url, key) == ("http://ingest", "cgk_unit")
        return found

    return fetch


def test_the_workspaces_tier_governs_whatever_is_configured_here() -> None:
    lookup = TierLookup("http://ingest", "cgk_unit", "standard", fetch=answer(HEALTHCARE))
    assert lookup.finished.wait(5)
    assert lookup.requirement() == ("healthcare", ("deidentification_method", "authorized_use"))
    assert lookup.learned is not None


def test_ingest_out_of_reach_leaves_the_configured_tier_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refused(url: str, key: str, timeout_s: float) -> Mapping[str, Any]:
        raise ConnectionRefusedError("connection refused")

    with caplog.at_level(logging.WARNING, "cognify"):
        lookup = TierLookup("http://ingest", "cgk_unit", "finance", fetch=refused)
        assert lookup.finished.wait(5)
        assert lookup.requirement() == ("finance", ("source_system", "authorized_use"))
    assert lookup.learned is None
    (said,) = [r.getMessage() for r in caplog.records if "compliance tier" in r.getMessage()]
    assert "could not learn the workspace's compliance tier" in said and "finance" in said


def test_a_slow_ingest_does_not_hold_the_dataset_and_warns_when_it_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    go = threading.Event()

    def slow(url: str, key: str, timeout_s: float) -> Mapping[str, Any]:
        go.wait(10)
        return HEALTHCARE

    lookup = TierLookup("http://ingest", "cgk_unit", "standard", fetch=slow)
    t0 = time.perf_counter()
    assert lookup.check({"authorized_use": "IRB"}, "notes") == ("standard", ())
    assert lookup.requirement() == ("standard", ())
    assert time.perf_counter() - t0 < 0.1  # what is known now; ingest is not waited for
    with caplog.at_level(logging.WARNING, "cognify"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warned from another thread: the log shows it
        go.set()
        assert lookup.finished.wait(5)
    (late,) = [r.getMessage() for r in caplog.records]
    assert "'notes': provenance is missing deidentification_method" in late
    assert "provenance-incomplete finding" in late


def test_a_tier_changed_during_a_long_run_is_learned_at_the_next_dataset(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The answer is asked again once older than refresh_s, in the background: the dataset
    that asked is checked now against the old tier and again when the new answer comes."""
    answers = [{**HEALTHCARE, "compliance_tier": "standard", "required_provenance": []}]
    answers.append(HEALTHCARE)

    def changing(url: str, key: str, timeout_s: float) -> Mapping[str, Any]:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    lookup = TierLookup("http://ingest", "cgk_unit", "standard", fetch=changing, refresh_s=0.2)
    assert lookup.finished.wait(5)
    assert lookup.check({}, "first") == ("standard", ())  # fresh: not asked again
    assert lookup.finished.is_set()
    time.sleep(0.25)
    with caplog.at_level(logging.WARNING, "cognify"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert lookup.check({"authorized_use": "IRB"}, "second") == ("standard", ())
        assert lookup.finished.wait(5)
    said = [r.getMessage() for r in caplog.records]
    assert any("compliance tier is now healthcare (it was standard)" in m for m in said), said
    assert any("'second': provenance is missing deidentification_method" in m for m in said)
    assert lookup.requirement() == ("healthcare", ("deidentification_method", "authorized_use"))


def test_a_failed_refresh_keeps_what_was_learned() -> None:
    calls = []

    def once(url: str, key: str, timeout_s: float) -> Mapping[str, Any]:
        calls.append(url)
        if len(calls) > 1:
            raise ConnectionRefusedError("ingest went away")
        return HEALTHCARE

    lookup = TierLookup("http://ingest", "cgk_unit", "standard", fetch=once, refresh_s=0.0)
    assert lookup.finished.wait(5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lookup.check({}, "notes")
        assert lookup.finished.wait(5)
    assert len(calls) == 2
    assert lookup.requirement()[0] == "healthcare"


@pytest.fixture
def started(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("COGNIFY_COMPLIANCE_TIER", raising=False)
    monkeypatch.setenv("COGNIFY_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("COGNIFY_INGEST_URL", "http://ingest")
    monkeypatch.setattr(tier, "fetch_whoami", answer(HEALTHCARE))

    class Sink:
        async def start(self) -> None:
            return None

        async def send(self, records: list[tuple[bytes, bytes]]) -> None:
            return None

        async def stop(self) -> None:
            return None

    run = cognify.init("ws-1", "cgk_unit", "notes", transport=Sink)
    assert run is not None and run.tier.finished.wait(5)  # ingest (a fake) has answered
    yield
    cognify.finish(0)


@pytest.mark.usefixtures("started")
def test_cognify_dataset_warns_in_a_healthcare_workspace_without_any_tier_configured() -> None:
    ds = Dataset.from_list([{"text": "a"}])
    with pytest.warns(
        ProvenanceWarning, match="missing deidentification_method, required for"
    ) as w:
        ref = cognify.dataset(ds, "notes", "1", provenance={"authorized_use": "IRB-2025-114"})
    assert "healthcare compliance tier of the workspace" in str(w[0].message)
    assert list(ref.warnings) == [str(w[0].message)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = {"deidentification_method": "safe_harbor", "authorized_use": "IRB-2025-114"}
        cognify.dataset(ds, "notes", "2", provenance=full)


def test_off_asks_no_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from cognify.config import ingest_url

    monkeypatch.setenv("COGNIFY_INGEST_URL", "off")
    assert ingest_url() is None
    monkeypatch.delenv("COGNIFY_INGEST_URL")
    assert ingest_url() == "http://127.0.0.1:8080"
