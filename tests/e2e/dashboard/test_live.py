"""Live: what happens to a run while its page is open appears without reloading (server-sent
events from the dashboard, fed from Kafka)."""

from __future__ import annotations

import json
import re
import urllib.request

from playwright.sync_api import Page, expect

from .browsing import sign_in
from .site import ADMIN, Site


def test_an_annotation_made_elsewhere_appears_on_the_open_run_page(page: Page, site: Site) -> None:
    run_id = site.runs.pending
    sign_in(page, site.url, site.keys.reviewer)
    page.goto(f"/runs/{run_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(run_id)
    # Connected to the stream before anything happens (else there is nothing to prove).
    expect(page.get_by_role("status").filter(has_text=re.compile(r"^\W*Live$"))).to_be_visible()
    note = "Asked the data team which records changed between the two registrations."
    # Another person, elsewhere: the admin annotates through ingest's API directly.
    request = urllib.request.Request(
        f"{site.services['ingest'].url}/v1/runs/{run_id}/annotations",
        data=json.dumps({"node_id": "ds_triage-notes_1.0", "text": note}).encode(),
        headers={"Authorization": f"Bearer {site.keys.admin}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert answer.status == 201, answer.status
    live = page.get_by_role("region", name="Live events")
    expect(live).to_contain_text("annotation.added", timeout=20_000)
    annotations = page.get_by_role("region", name="Review thread")
    expect(annotations).to_contain_text(note, timeout=20_000)
    expect(annotations).to_contain_text(ADMIN.name)
