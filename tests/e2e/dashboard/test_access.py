"""Who may do what, as the browser shows it and as the services enforce it: a writer key
reads but cannot approve, a key of another workspace finds nothing (the not-found page), a
reviewer has no admin page, an admin edits the workspace documentation and reads the access
log, and signing out ends the session."""

from __future__ import annotations

import time

from playwright.sync_api import Page, expect

from .browsing import Pages, sign_in
from .site import ADMIN, OTHER, Site


def csrf(page: Page) -> dict[str, str]:
    (token,) = [c["value"] for c in page.context.cookies() if c["name"] == "cognify_csrf"]
    return {"X-CSRF-Token": token}


def test_a_writer_key_can_read_a_run_but_cannot_approve_it(
    page: Page, site: Site, pages: Pages
) -> None:
    run_id = site.runs.second
    sign_in(page, site.url, site.keys.writer)
    expect(page.locator("header")).to_contain_text("writer")
    page.goto(f"/runs/{run_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(run_id)
    graph = page.get_by_role("region", name="Lineage graph")
    expect(graph.get_by_role("button", name="ckpt_step_12", exact=True)).to_be_visible()
    expect(page.get_by_text("This is a writer key")).to_be_visible()
    approve = page.get_by_role("button", name="Approve")
    assert approve.count() == 0 or approve.is_disabled(), "a writer is offered Approve"
    pages.check(page, "07 run as writer")
    # Not only hidden: ingest refuses the writer's approval sent through the dashboard.
    answer = page.request.post(
        f"/api/ingest/v1/runs/{run_id}/approve", data={"comment": "ok"}, headers=csrf(page)
    )
    assert answer.status == 403, (answer.status, answer.text())
    assert site.approvals(run_id) == []


def test_a_key_of_another_workspace_gets_the_not_found_page(
    page: Page, site: Site, pages: Pages
) -> None:
    sign_in(page, site.url, site.keys.other_workspace_reviewer)
    header = page.locator("header")
    expect(header).to_contain_text(site.other_workspace)
    expect(header).to_contain_text(OTHER.name)
    page.goto("/runs")
    expect(page.get_by_role("table", name="Runs")).not_to_contain_text(site.runs.walkthrough)
    page.goto(f"/runs/{site.runs.walkthrough}")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("region", name="Lineage graph")).to_have_count(0)
    pages.check(page, "08 not found")
    answer = page.request.get(f"/api/lineage/v1/runs/{site.runs.walkthrough}/lineage")
    assert answer.status == 404, answer.status


def test_a_reviewer_has_no_admin_page(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.keys.reviewer)
    page.goto("/admin")
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    expect(page.get_by_role("region", name="Access log")).to_have_count(0)


def test_an_admin_reads_the_access_log_and_saves_the_documentation(
    page: Page, site: Site, pages: Pages
) -> None:
    sign_in(page, site.url, site.keys.admin)
    expect(page.locator("header")).to_contain_text(ADMIN.name)
    page.goto("/admin")
    log = page.get_by_role("region", name="Access log")
    expect(log.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("region", name="Retention")).to_be_visible()
    docs = page.get_by_role("region", name="Documentation")
    written = {
        "Intended use": "Drafting discharge summaries for clinician review; never autonomous.",
        "Known limitations": "English notes only; not evaluated on paediatric wards.",
        "Deployment restrictions": "Inside the hospital network, behind clinician sign-off.",
        "Incident policy URL": "https://example.org/incident-policy",
    }
    for label, text in written.items():
        docs.get_by_role("textbox", name=label).fill(text)
    docs.get_by_role("button", name="Save documentation").click()
    expect(docs.get_by_text("Documentation saved")).to_be_visible()
    pages.check(page, "09 admin")
    # Kept: the exporter folds the saved documentation from the event log; a reload shows it.
    deadline = time.monotonic() + 30
    while True:
        page.reload()
        docs = page.get_by_role("region", name="Documentation")
        box = docs.get_by_role("textbox", name="Intended use")
        expect(box).to_be_visible()
        if box.input_value() or time.monotonic() > deadline:
            break
        time.sleep(1)
    for label, text in written.items():
        expect(docs.get_by_role("textbox", name=label)).to_have_value(text)
    expect(log.get_by_role("row").nth(1)).to_be_visible()
    # The admin's own reads, named once: the key is labelled with its role ("admin").
    expect(log.get_by_role("cell", name=f"{ADMIN.name} (admin)", exact=True).first).to_be_visible()
    expect(log).not_to_contain_text("(admin) (admin)")


def test_signing_out_ends_the_session(page: Page, site: Site) -> None:
    sign_in(page, site.url, site.keys.reviewer)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.request.get("/api/session").status == 401
    page.goto(f"/runs/{site.runs.walkthrough}")
    expect(page.get_by_label("API key")).to_be_visible()
    expect(page.get_by_role("region", name="Lineage graph")).to_have_count(0)
