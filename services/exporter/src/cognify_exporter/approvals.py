"""Each reviewer's decision as a statement signed by the workspace key (pure: no I/O).

21 CFR 11.50 and EU AI Act Annex IV 2(g) ask for records "dated and signed by the
responsible persons", showing the signer's printed name, the time, and the meaning of the
signature. Every approval and rejection in a package is therefore also an in-toto
Statement v1 (predicate `https://cognify.dev/approval/v1`) in a DSSE envelope signed with
the workspace's seal key, naming the person (printed name, title, the id of the key they
acted with), the time, the meaning (`approved`, `rejected`), the run's chain head and
length and its lineage digest (the graph) they decided on, and whether the decision still
counted at the seal. The package's
own statement lists the SHA-256 of each of these statements, so every format binds them.
Each annotation is likewise a statement of meaning `reviewed` (predicate
`https://cognify.dev/review/v1`): who noted what, on which node.
Spec and test vector: docs/spec/package.md, "Approval statements".
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import cognify_events as ev
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import attestation

if TYPE_CHECKING:
    from .report import Report

PREDICATE_TYPE = "https://cognify.dev/approval/v1"
NOTE_PREDICATE_TYPE = "https://cognify.dev/review/v1"
MEANINGS = ("reviewed", "approved", "rejected")  # reviewed: an annotation


def entry(
    event_id: str,
    decision: str,
    name: str,
    title: str,
    time: str,
    comment: str | None,
    event: ev.RunApproved | ev.RunRejected | None = None,
    stale: str | None = None,
    lineage_digest: str | None = None,
) -> dict[str, Any]:
    """A decision as the package lists it: who (from the key), when, what it means, on
    which state of the run, and whether it counted at the seal (`stale`: why not)."""
    p = event.payload if event is not None else None
    reviewed = None
    if p is not None and p.reviewed_chain_head and p.reviewed_chain_length is not None:
        reviewed = {"head": p.reviewed_chain_head, "length": p.reviewed_chain_length}
    return {
        "event_id": event_id,
        "decision": decision,
        "reviewer": {"name": name, "role": title},
        "reviewer_key_id": p.reviewer.key_id if p is not None else None,
        "comment": comment,
        "time": time,
        "reviewed_chain": reviewed,
        "lineage_digest": lineage_digest,
        "stale": stale is not None,
        "stale_reason": stale,
    }


def statement(report: Report, approval: Mapping[str, Any]) -> bytes:
    """The Statement's bytes (sorted keys, no whitespace): the same decision in the same
    sealed run always gives the same bytes, and the same signature."""
    run_id = report.run["run_id"]
    subjects = [attestation.Subject(f"chain-head:{run_id}", report.seal.chain_head)]
    reviewed = approval.get("reviewed_chain")
    if reviewed:
        subjects.append(
            attestation.Subject(
                f"reviewed-chain-head:{run_id}@{reviewed['length']}", reviewed["head"]
            )
        )
    predicate = {
        "workspace_id": report.run["workspace_id"],
        "run_id": run_id,
        "decision_event_id": approval["event_id"],
        "meaning": approval["decision"],
        "signer": {
            "name": approval["reviewer"]["name"],
            "title": approval["reviewer"]["role"],
            "key_id": approval.get("reviewer_key_id"),
        },
        "time": approval["time"],
        "comment": approval.get("comment"),
        "reviewed_chain": reviewed,
        "reviewed_lineage_digest": approval.get("lineage_digest"),
        "sealed_chain": {"head": report.seal.chain_head, "length": report.seal.event_count},
        "counted_at_seal": not approval.get("stale", False),
        "stale_reason": approval.get("stale_reason"),
        "signed_by": report.seal.key_id,
    }
    body = {
        "_type": attestation.STATEMENT_TYPE,
        "subject": [s.json() for s in subjects],
        "predicateType": PREDICATE_TYPE,
        "predicate": predicate,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def note_statement(report: Report, note: Mapping[str, Any]) -> bytes:
    """A reviewer's annotation as a statement of meaning `reviewed` (predicate
    `https://cognify.dev/review/v1`): who noted what on which node of the sealed run."""
    run_id = report.run["run_id"]
    predicate = {
        "workspace_id": report.run["workspace_id"],
        "run_id": run_id,
        "annotation_id": note["annotation_id"],
        "event_id": note.get("event_id"),
        "meaning": "reviewed",
        "node_id": note["node_id"],
        "text": note["text"],
        "signer": {
            "name": note["author"]["name"],
            "title": note["author"]["role"],
            "key_id": note.get("author_key_id"),
        },
        "time": note["time"],
        "sealed_chain": {"head": report.seal.chain_head, "length": report.seal.event_count},
        "signed_by": report.seal.key_id,
    }
    body = {
        "_type": attestation.STATEMENT_TYPE,
        "subject": [attestation.Subject(f"chain-head:{run_id}", report.seal.chain_head).json()],
        "predicateType": NOTE_PREDICATE_TYPE,
        "predicate": predicate,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def signed(report: Report, key: Ed25519PrivateKey) -> Report:
    """The report whose approvals and annotations each carry their signed statement
    (`statement`: the DSSE envelope); `report.seal.key_id` must already name `key`
    (package.signed_by)."""
    decisions, notes = [], []
    for a in report.approvals:
        plain = {k: v for k, v in a.items() if k != "statement"}
        decisions.append({**plain, "statement": attestation.sign(statement(report, plain), key)})
    for n in report.annotations:
        plain = {k: v for k, v in n.items() if k != "statement"}
        notes.append({**plain, "statement": attestation.sign(note_statement(report, plain), key)})
    return replace(report, approvals=decisions, annotations=notes)


def statement_sha256(approval: Mapping[str, Any]) -> str | None:
    """The SHA-256 of an approval's signed statement (its payload), None when unsigned."""
    envelope = approval.get("statement")
    if not envelope:
        return None
    return "sha256:" + hashlib.sha256(base64.b64decode(envelope["payload"])).hexdigest()


def digests(report: Report) -> list[dict[str, str | None]]:
    """What the package's statement lists: each approval statement's payload SHA-256."""
    return [
        {"event_id": a["event_id"], "statement_sha256": statement_sha256(a)}
        for a in report.approvals
    ]


def note_digests(report: Report) -> list[dict[str, str | None]]:
    """What the package's statement lists: each annotation statement's payload SHA-256."""
    return [
        {"annotation_id": n["annotation_id"], "statement_sha256": statement_sha256(n)}
        for n in report.annotations
    ]
