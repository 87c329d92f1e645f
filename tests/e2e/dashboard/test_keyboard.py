"""The whole review with the keyboard alone: Tab to move, Enter or Space to act, typing
into fields; no click anywhere. Sign in, open the run from the list, open a checkpoint
from the graph, annotate it, approve the run and seal it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from .browsing import Pages, tab_to
from .site import REVIEWER, Site


def test_the_review_can_be_done_with_the_keyboard_alone(
    page: Page, site: Site, pages: Pages
) -> None:
    run_id = site.runs.keyboard
    page.goto("/signin")
    tab_to(page, page.get_by_label("API key"))
    page.keyboard.type(site.keys.reviewer)
    page.keyboard.press("Enter")
    expect(page.locator("header")).to_contain_text(REVIEWER.name)

    runs = page.get_by_role("table", name="Runs")
    tab_to(page, runs.get_by_role("link", name=run_id))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(run_id)

    graph = page.get_by_role("region", name="Lineage graph")
    tab_to(page, graph.get_by_role("button", name="ckpt_step_12", exact=True))
    page.keyboard.press("Enter")
    details = page.get_by_role("region", name="Node details")
    expect(details).to_contain_text("ckpt_step_12")
    expect(details.get_by_role("table", name="Files")).to_be_visible()
    pages.check(page, "11 keyboard node details")

    note = "Reviewed from the keyboard: manifest complete."
    tab_to(page, page.get_by_role("textbox", name="Annotation"))
    page.keyboard.type(note)
    tab_to(page, page.get_by_role("button", name="Annotate", exact=True))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Annotation on ckpt_step_12 recorded.")).to_be_visible()

    tab_to(page, page.get_by_role("textbox", name="Comment"))
    page.keyboard.type("Approved after keyboard review.")
    tab_to(page, page.get_by_role("button", name="Approve"))
    page.keyboard.press("Space")
    expect(page.get_by_text("Approval recorded.")).to_be_visible()

    tab_to(page, page.get_by_role("button", name="Seal run"))
    page.keyboard.press("Enter")
    expect(page.get_by_text("Sealed — read-only")).to_be_visible(timeout=60_000)
    pages.check(page, "12 keyboard sealed")
    run = site.run(run_id)
    assert run["status"] == "AUDIT_SEALED", run["status"]
    assert [a["node_id"] for a in site.annotations(run_id) if a["text"] == note] == ["ckpt_step_12"]
