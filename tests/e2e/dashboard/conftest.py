"""The dashboard's browser tests: Debian's chromium, headless, driven by Playwright against
the real stack and services (site.py). Nothing here is skipped: a missing browser, stack or
service fails the session with what to do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from .browsing import AXE, BUILT, CHROMIUM, Pages
from .site import Site, started

# Assertions wait as long as actions do: on 2 shared cores at load 10+, a page's data can
# take more than Playwright's default 5 s to arrive.
expect.set_options(timeout=15_000)


# Package scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is started, and every later test that calls asyncio.run() (the
# integration and unit tests collected after these) would fail; the site's services stop
# as soon as the browser tests are done, too.
@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with started(tmp_path_factory.mktemp("dashboard")) as s:
        yield s


@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: deploy/bootstrap-tools installs Debian's chromium",
            pytrace=False,
        )
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: npm ci in services/dashboard/web", pytrace=False)
    if not BUILT.exists():
        pytest.fail(
            f"{BUILT} is missing: deploy/bootstrap-tools builds the web app (npm ci; build)",
            pytrace=False,
        )
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
    yield b
    b.close()


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    """A fresh browser context (its own cookies) per test, at a laptop's size."""
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, accept_downloads=True, base_url=site.url
    )
    context.set_default_timeout(15_000)
    p = context.new_page()
    yield p
    context.close()


@pytest.fixture
def pages() -> Iterator[Pages]:
    """Screenshots and axe-core of the pages a test shows; serious or critical violations
    fail the test once it has run to its end."""
    checked = Pages()
    yield checked
    if checked.found:
        pytest.fail(checked.report(), pytrace=False)
