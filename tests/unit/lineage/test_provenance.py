"""A dataset short of the provenance its workspace's tier requires: ingest's fact, the
finding lineage folds it into, and the seal it blocks until a reviewer has annotated it."""

from __future__ import annotations

import cognify_events as ev
from cognify_exporter.seal import Policy, reasons
from cognify_ingest import routing
from cognify_lineage import dag, graph, provenance

from tests.unit.exporter.fixtures import REVIEWER, approval
from tests.unit.lineage.script import Script, hash_results, root, training

INGEST = ev.Producer(kind=ev.ProducerKind.INGEST, id="ingest-1:1", version="0.1.0")
FINDING = "provenance-incomplete:ds_phi_v1"


def _note(
    s: Script, node_id: str, text: str = "De-identified by the data owner (expert)."
) -> ev.AnnotationAdded:
    return ev.AnnotationAdded(
        **s.env(REVIEWER, numbered=False),
        payload=ev.AnnotationAddedPayload(
            annotation_id=f"ann-{s.tick}",
            node_id=node_id,
            author=ev.Reviewer(name="Dana Reyes", role="compliance-officer"),
            text=text,
        ),
    )


def _healthcare_run(s: Script) -> list[ev.Event]:
    """A complete, hashed and approved run whose second training dataset has no
    deidentification_method, as ingest forwards it in a healthcare workspace."""
    phi = s.dataset("ds_phi_v1", name="phi", merkle_root=None, provenance={"authorized_use": "IRB"})
    gap = routing.provenance_gap(phi, "healthcare", INGEST)
    assert gap is not None
    *head, ended = training(s)
    done = s.hashed(ev.HashTarget.DATASET, "ds_phi_v1", root(7))
    return [*head, phi, gap, done, ended, *hash_results(s), approval(s)]


def test_the_finding_names_the_missing_fields_and_blocks_the_seal() -> None:
    s = Script("ws-1", "run-1")
    run = dag.fold_all(_healthcare_run(s)).runs["run-1"]
    finding = run.findings[FINDING]
    assert finding.kind == "provenance-incomplete" and finding.resolved_at is None
    assert finding.detail["missing"] == ["deidentification_method"]
    assert finding.detail["tier"] == "healthcare"
    assert graph.finding_json(finding)["id"] == FINDING
    assert reasons(run, Policy()) == [
        "incomplete provenance: dataset ds_phi_v1 lacks deidentification_method, required for "
        "the workspace's healthcare compliance tier; a reviewer must annotate finding "
        f"{FINDING} before the seal"
    ]


def test_a_reviewers_annotation_of_the_finding_lets_the_seal_go() -> None:
    s = Script("ws-1", "run-1")
    evs = _healthcare_run(s)
    other = _note(s, "ds_phi_v1", "A note on the dataset node is not the finding's.")
    seen = _note(s, FINDING)
    run = dag.fold_all([*evs, other]).runs["run-1"]
    assert run.findings[FINDING].resolved_at is None
    run = dag.fold_all([*evs, other, seen, _note(s, FINDING, "later")]).runs["run-1"]
    finding = run.findings[FINDING]
    assert finding.resolved_at == seen.time
    assert finding.resolution == {
        "seen_by": "Dana Reyes",
        "role": "compliance-officer",
        "annotation_id": seen.payload.annotation_id,
        "note": seen.payload.text,
    }
    assert reasons(run, Policy()) == []


def test_the_fact_delivered_twice_is_one_finding_and_folding_is_the_same_in_pieces() -> None:
    s = Script("ws-1", "run-1")
    evs = _healthcare_run(s)
    gap = next(e for e in evs if isinstance(e, ev.DatasetProvenanceIncomplete))
    seen = _note(s, FINDING)
    whole = dag.fold_all([*evs, seen, gap])
    state = None
    for e in [*evs, seen, gap]:
        state = dag.fold_all([e], state)
    assert state == whole
    assert [
        f.id for f in whole.runs["run-1"].findings.values() if f.kind == "provenance-incomplete"
    ] == [FINDING]
    assert provenance.finding_id("ds_phi_v1") == FINDING
