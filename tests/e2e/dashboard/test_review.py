"""The compliance reviewer's whole job in a browser (the walkthrough's Step 5 and Step 6):
sign in, find the run, read its lineage, open a checkpoint and check its files, annotate,
approve, seal, export the PDF and check the downloaded bytes against the hash shown, and
see the page become read-only; and a run that cannot be sealed says why."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .browsing import Pages, drawn_within, screenshot, sign_in
from .site import PROJECT, REVIEWER, Site

ACTIONS = ("Annotate", "Approve", "Reject", "Seal run")


def files_of(directory: Path) -> dict[str, str]:
    """Each file of a checkpoint directory as written by the Trainer: path -> sha256."""
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def every_node_drawn(graph: Locator, lineage: dict[str, Any]) -> None:
    """Each node of the run drawn inside the graph's pane, not only present in the page."""
    for node in lineage["nodes"]:
        button = graph.get_by_role("button", name=node["id"], exact=True)
        wait_for(partial(drawn_within, graph, button), f"{node['id']} drawn in the graph", 10)


def wait_for(probe: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while not probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.25)


def test_a_reviewer_reviews_seals_and_exports_the_walkthrough_run(
    page: Page, site: Site, pages: Pages, tmp_path: Path
) -> None:
    run_id = site.runs.walkthrough
    page.goto("/signin")
    expect(page.get_by_label("API key")).to_be_visible()
    pages.check(page, "01 sign in")
    sign_in(page, site.url, site.keys.reviewer)
    header = page.locator("header")
    expect(header).to_contain_text(site.workspace)
    expect(header).to_contain_text(REVIEWER.name)
    expect(header).to_contain_text("reviewer")

    # Find the walkthrough run among the workspace's runs.
    page.goto("/runs")
    runs = page.get_by_role("table", name="Runs")
    expect(runs.get_by_role("link", name=run_id)).to_be_visible()
    pages.check(page, "02 runs")
    page.get_by_label("Search").fill(run_id)
    expect(runs.get_by_role("link")).to_have_count(1)
    expect(runs).to_contain_text(PROJECT)
    runs.get_by_role("link", name=run_id).click()

    # The graph shows every node of the run, each a button named by its node id.
    expect(page.get_by_role("heading", level=1)).to_have_text(run_id)
    lineage = site.lineage(run_id)
    graph = page.get_by_role("region", name="Lineage graph")
    kinds = {n["type"] for n in lineage["nodes"]}
    assert kinds == {"dataset", "config", "checkpoint", "eval", "model"}, kinds
    for node in lineage["nodes"]:
        expect(graph.get_by_role("button", name=node["id"], exact=True)).to_be_visible()
    every_node_drawn(graph, lineage)
    for region in ("Findings", "Metrics", "Event chain"):
        expect(page.get_by_role("region", name=region)).to_be_visible()
    expect(page.get_by_role("region", name="Event chain")).to_contain_text(
        re.compile("verified", re.I)
    )
    for control in ("Fit to screen", "Zoom in", "Zoom out"):
        expect(page.get_by_role("button", name=control)).to_be_visible()
    pages.check(page, "03 run")

    # A checkpoint: its full hash (copyable) and every file with the sha256 of its bytes.
    graph.get_by_role("button", name="ckpt_step_12", exact=True).click()
    details = page.get_by_role("region", name="Node details")
    expect(details).to_be_visible()
    (checkpoint,) = [n for n in lineage["nodes"] if n["id"] == "ckpt_step_12"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", checkpoint["hash"]), checkpoint
    expect(details).to_contain_text(checkpoint["hash"])
    expect(details.get_by_role("button", name="Copy hash")).to_be_visible()
    files = details.get_by_role("table", name="Files")
    on_disk = files_of(site.data / "walkthrough" / "output" / "checkpoint-12")
    assert len(on_disk) >= 3, on_disk
    expect(files.locator("tbody tr")).to_have_count(len(on_disk))
    for path, sha256 in on_disk.items():
        row = files.locator("tbody tr", has=page.get_by_text(path, exact=True))
        expect(row).to_contain_text(sha256)
    pages.check(page, "04 checkpoint details")
    screenshot(page, "readme run page", full_page=False)  # docs/img/dashboard-run.png

    # Annotate the checkpoint; the annotation carries the key holder's name.
    note = "Checkpoint 12 weights match the manifest; asking ML for the LR warm-up rationale."
    page.get_by_role("textbox", name="Annotation").fill(note)
    page.get_by_role("button", name="Annotate", exact=True).click()
    expect(page.get_by_text(note).first).to_be_visible()

    def annotated() -> bool:
        return any(a["text"] == note for a in site.annotations(run_id))

    wait_for(annotated, "the annotation in lineage")
    (recorded,) = [a for a in site.annotations(run_id) if a["text"] == note]
    assert recorded["node_id"] == "ckpt_step_12"
    assert recorded["author"] == {"name": REVIEWER.name, "role": REVIEWER.title}, recorded

    # Approve with a comment.
    page.get_by_role("textbox", name="Comment").fill("Provenance and evaluation reviewed.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("Approval recorded.")).to_be_visible()

    def approved() -> bool:
        return bool(site.approvals(run_id))

    wait_for(approved, "the approval in lineage")
    (approval,) = site.approvals(run_id)
    assert approval["decision"] == "approved", approval
    assert approval["reviewer"]["name"] == REVIEWER.name, approval
    assert approval["comment"] == "Provenance and evaluation reviewed."

    # Seal: the page turns read-only.
    page.get_by_role("button", name="Seal run").click()
    expect(page.get_by_text("Sealed — read-only")).to_be_visible(timeout=60_000)
    assert site.run(run_id)["status"] == "AUDIT_SEALED"
    for action in ACTIONS:
        button = page.get_by_role("button", name=action, exact=True)
        assert button.count() == 0 or button.is_disabled(), f"{action} still enabled after the seal"
    for box in ("Annotation", "Comment"):
        field = page.get_by_role("textbox", name=box, exact=True)
        assert field.count() == 0 or field.is_disabled(), f"{box} still editable after the seal"

    screenshot(page, "05a run sealed")
    every_node_drawn(graph, lineage)

    # Export the PDF (healthcare template); the downloaded bytes hash to the SHA-256 shown.
    page.get_by_label("Format").select_option("pdf")
    page.get_by_label("Template").select_option("healthcare")
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_text("Signature verified")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Signature NOT verified")).to_have_count(0)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^Download PDF")).click()
    saved = tmp_path / "package.pdf"
    download.value.save_as(saved)
    pdf = saved.read_bytes()
    assert pdf.startswith(b"%PDF-"), pdf[:20]
    digest = hashlib.sha256(pdf).hexdigest()
    shown = page.locator("code", has_text=re.compile(r"[0-9a-f]{64}")).all_inner_texts()
    assert any(digest in text for text in shown), (digest, shown)
    pages.check(page, "05 run sealed and exported")
    every_node_drawn(graph, lineage)

    # Read-only after a reload too: nothing to change, the seal stated.
    page.reload()
    expect(page.get_by_text("Sealed — read-only")).to_be_visible()
    for action in ACTIONS:
        button = page.get_by_role("button", name=action, exact=True)
        assert button.count() == 0 or button.is_disabled(), f"{action} enabled on a sealed run"


def test_a_run_with_a_pending_problem_says_every_reason_it_cannot_be_sealed(
    page: Page, site: Site, pages: Pages
) -> None:
    run_id = site.runs.pending
    sign_in(page, site.url, site.keys.reviewer)
    page.goto(f"/runs/{run_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(run_id)
    findings = page.get_by_role("region", name="Findings")
    expect(findings).to_contain_text("ds_triage-notes_1.0")
    page.get_by_role("button", name="Seal run").click()
    refusal = page.get_by_role("alert", name="Cannot seal yet")
    expect(refusal).to_be_visible(timeout=30_000)
    reasons = refusal.get_by_role("listitem")
    expect(reasons).to_have_count(2)
    expect(refusal).to_contain_text("undocumented dataset change: ds_triage-notes_1.0")
    expect(refusal).to_contain_text("approval missing")
    pages.check(page, "06 cannot seal yet")
    assert site.run(run_id)["status"] == "completed"
