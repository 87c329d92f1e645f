"""Compare two runs of a project, differences only: configuration, dataset roots and record
counts, checkpoint hashes, evaluation results."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .browsing import Pages, sign_in
from .site import Site


def test_compare_shows_what_differs_between_two_runs_of_the_project(
    page: Page, site: Site, pages: Pages
) -> None:
    a, b = site.runs.walkthrough, site.runs.second
    sign_in(page, site.url, site.keys.reviewer)
    page.goto("/compare")
    page.get_by_label("Run A").select_option(a)
    page.get_by_label("Run B").select_option(b)
    only = page.get_by_role("checkbox", name="Differences only")
    only.check()
    table = page.get_by_role("table", name="Differences")
    rows = table.locator("tbody tr")
    expect(rows.first).to_contain_text("differs")
    for section in ("Configuration", "Datasets", "Checkpoints", "Evaluations"):
        expect(table).to_contain_text(section)
    expect(rows.filter(has_text="same")).to_have_count(0)
    # The checkpoint hashes and dataset roots that differ are the ones lineage holds.
    for run_id in (a, b):
        lineage = site.lineage(run_id)
        (ckpt,) = [n for n in lineage["nodes"] if n["id"] == "ckpt_step_12"]
        expect(table).to_contain_text(ckpt["hash"].removeprefix("sha256:")[:12])
    expect(table).to_contain_text("3.1")
    expect(table).to_contain_text("3.2")
    pages.check(page, "10 compare")
    differing = rows.count()
    only.uncheck()
    expect(only).not_to_be_checked()
    assert rows.count() >= differing
