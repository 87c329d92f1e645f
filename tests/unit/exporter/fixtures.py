"""A sealed run in memory: the lineage script folded, approved and sealed, and its report."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import timedelta

import cognify_events as ev
from cognify_exporter import report, seal
from cognify_lineage import dag
from cognify_lineage_model.model import Run, iso

from tests.unit.lineage.script import Script, hash_results, training

REVIEWER = ev.Producer(kind=ev.ProducerKind.API, id="ingest-1:1", version="0.1.0")


def approval(
    s: Script, name: str = "Dana Reyes", approve: bool = True
) -> ev.RunApproved | ev.RunRejected:
    env = s.env(REVIEWER, numbered=False)
    payload = ev.DecisionPayload(reviewer=ev.Reviewer(name=name, role="compliance-officer"))
    if approve:
        return ev.RunApproved(**env, payload=payload)
    return ev.RunRejected(**env, payload=payload)


def annotation(s: Script) -> ev.AnnotationAdded:
    return ev.AnnotationAdded(
        **s.env(REVIEWER, numbered=False),
        payload=ev.AnnotationAddedPayload(
            annotation_id="ann-1",
            node_id="ds_notes_v3",
            author=ev.Reviewer(name="Dana Reyes", role="compliance-officer"),
            text="Source system confirmed with the data owner.",
        ),
    )


def events(s: Script) -> list[ev.Event]:
    return [*training(s), *hash_results(s), annotation(s), approval(s)]


def folded(evs: Iterable[ev.Event], run_id: str = "run-1") -> Run:
    return dag.fold_all(evs).runs[run_id]


@functools.cache
def _scripted() -> tuple[Script, list[ev.Event]]:
    s = Script("ws-1", "run-1")
    return s, events(s)


def sealed_report() -> report.Report:
    """Built afresh on every call from the same events (event ids are random per script)."""
    s, evs = _scripted()
    run = folded(evs)
    chain = seal.Chain("sha256:" + "ab" * 32, len(evs))
    when = s.t0 + timedelta(hours=2)
    sealed = seal.seal_event(run, chain, "exporter", when, REVIEWER)
    run = folded([*evs, sealed])
    return report.build(
        run,
        evs,
        report.Seal(
            str(sealed.event_id), iso(when), "exporter", chain.head, chain.length, "ed25519:00"
        ),
        {"intended_use": "Drafting discharge summaries for clinician review."},
    )
