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
BUILT = ROOT / "services/dashboard/web/dist/index.html"
ARTIFACTS = Path(os.environ.get("COGNIFY_ARTIFACTS") or Path(__file__).with_name("artifacts"))
BLOCKING = ("serious", "critical")


def sign_in(page: Page, url: str, key: str) -> None:
    """Sign in through the form, as a person does; ends on the page the app lands on."""
    page.goto(f"{url}/signin")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def violations(page: Page) -> list[str]:
    """axe-core (from the web app's committed lockfile) on the page as it is now: its
    serious and critical violations, one line each."""
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: `npm ci` in services/dashboard/web")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated through the DevTools protocol: a <script> tag (add_script_tag) is inline
        # script, which the dashboard's CSP refuses, as it should.
        page.evaluate(AXE.read_text())
    report: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} "
        f"({', '.join(str(n['target']) for n in v['nodes'][:5])})"
        for v in report["violations"]
        if v.get("impact") in BLOCKING
    ]


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """The page as the reviewer sees it (full length, or the window alone), under
    ARTIFACTS (or $COGNIFY_ARTIFACTS)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


class Pages:
    """Every page a test shows gets a screenshot and axe-core. Violations are gathered and
    fail the test at its end, all of them together, so that one run names every page's
    problems and the rest of the flow is still exercised."""

    def __init__(self) -> None:
        self.found: dict[str, list[str]] = {}

    def check(self, page: Page, name: str) -> None:
        screenshot(page, name)
        bad = violations(page)
        wide = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if wide > 0:
            bad.append(f"layout: the page is {wide} px wider than the window (scrolls sideways)")
        if bad:
            self.found[name] = bad

    def report(self) -> str:
        return "\n".join(
            f"on {name}:\n" + "\n".join(f"  - {v}" for v in bad) for name, bad in self.found.items()
        )


def drawn_within(region: Locator, item: Locator) -> bool:
    """Whether `item` is drawn inside `region`'s box (a graph node panned out of its pane is
    in the document, visible to Playwright, and nowhere a person can see it)."""
    outer, inner = region.bounding_box(), item.bounding_box()
    if outer is None or inner is None:
        return False
    return (
        inner["x"] < outer["x"] + outer["width"]
        and inner["x"] + inner["width"] > outer["x"]
        and inner["y"] < outer["y"] + outer["height"]
        and inner["y"] + inner["height"] > outer["y"]
    )


def tab_to(page: Page, target: Locator, limit: int = 400) -> None:
    """Press Tab until `target` has the focus (Shift+Tab never needed: the page is short)."""
    handle = target.element_handle(timeout=10_000)
    assert handle is not None
    for _ in range(limit):
        if page.evaluate("(el) => document.activeElement === el", handle):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{target} never got the focus in {limit} presses of Tab")
