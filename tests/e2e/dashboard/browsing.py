"""What every browser test does on the way: sign in, check a page with axe-core, keep a
screenshot of it, and drive it from the keyboard alone."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "services/dashboard/web/node_modules/axe-core/axe.min.js"
ARTIFACTS = Path(os.environ.get("COGNIFY_ARTIFACTS") or Path(__file__).with_name("artifacts"))
BLOCKING = ("serious", "critical")


def sign_in(page: Page, url: str, key: str) -> None:
    """Sign in through the form, as a person does; ends on the page the app lands on."""
    page.goto(f"{url}/signin")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def accessible(page: Page, what: str) -> None:
    """axe-core (from the web app's committed lockfile) on the page as it is now: no
    serious or critical violation."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: `npm ci` in services/dashboard/web")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    report: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [v for v in report["violations"] if v.get("impact") in BLOCKING]
    assert not bad, f"axe on {what}:\n" + "\n".join(
        f"- {v['impact']} {v['id']}: {v['help']} "
        f"({', '.join(str(n['target']) for n in v['nodes'][:5])})"
        for v in bad
    )


def screenshot(page: Page, name: str) -> Path:
    """The page as the reviewer sees it, full length, under ARTIFACTS (or $COGNIFY_ARTIFACTS)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def checked(page: Page, name: str) -> None:
    """axe-core and a screenshot: what every page of the dashboard gets."""
    screenshot(page, name)
    accessible(page, name)


def tab_to(page: Page, target: Locator, limit: int = 400) -> None:
    """Press Tab until `target` has the focus (Shift+Tab never needed: the page is short)."""
    handle = target.element_handle(timeout=10_000)
    assert handle is not None
    for _ in range(limit):
        if page.evaluate("(el) => document.activeElement === el", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never got the focus in {limit} presses of Tab")
