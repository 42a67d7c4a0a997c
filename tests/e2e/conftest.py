"""Browser tests: a live app (gunicorn + a real Celery worker) and Debian's Chromium via Playwright.

Under ``CI=true`` a missing Chromium or Playwright is a failure, never a skip.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, LiveApp

# Viewports for screenshots: a laptop and a common phone (CSS pixels).
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = ARTIFACTS / "screenshots"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def _missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}: browser tests must run under CI=true (.ci/run installs Chromium)")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def live_app(tmp_path_factory) -> Iterator[LiveApp]:
    """One app for all browser tests, stopped when they are done (not at the end of the run)."""
    app = LiveApp(var_dir=tmp_path_factory.mktemp("e2e-var"))
    try:
        app.start()
        yield app
    finally:
        app.stop()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -r requirements-dev.txt)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_app):
    """A fresh browser tab at desktop size with downloads allowed; base URL is the live app."""
    context = browser.new_context(
        viewport=DESKTOP, base_url=live_app.url, accept_downloads=True, service_workers="block"
    )
    # Generous: a busy 2-core machine renders and answers slowly; a missing element still fails.
    context.set_default_timeout(60_000)
    blocked: list[str] = []

    def loopback_only(route):
        # Nothing may leave the machine: a page that reaches for a CDN fails the test.
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK_HOSTS:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", loopback_only)
    tab = context.new_page()
    try:
        yield tab
        assert not blocked, f"the page tried to reach beyond loopback: {blocked}"
    finally:
        context.close()


DOM_CHECKS = """() => {
  const problems = [];
  const seen = new Set();
  for (const el of document.querySelectorAll('[id]')) {
    if (seen.has(el.id)) problems.push('duplicate id ' + el.id);
    seen.add(el.id);
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.labels && el.labels.length) || el.getAttribute('aria-label');
    if (!labelled) problems.push('unlabelled ' + (el.name || el.id));
  }
  return problems;
}"""


WIDER_THAN_THEIR_BOX = """() => {
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth) wide.push('the page');
  for (const el of document.querySelectorAll('.table-wrap')) {
    if (el.scrollWidth > el.clientWidth + 1) wide.push(el.querySelector('caption')?.textContent || 'a table');
  }
  return wide;
}"""


def snap(tab, name: str) -> None:
    """Save full-page screenshots at desktop and phone widths, checking the page on the way:
    no duplicate ids (labels and aria references must point at one element), every form
    control labelled, and no horizontal scrolling on a phone."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    problems = tab.evaluate(DOM_CHECKS)
    assert not problems, f"{name}: {problems}"
    tab.set_viewport_size(DESKTOP)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
    # No table or chart hides a column behind a sideways scroll on a laptop either.
    wide = tab.evaluate(WIDER_THAN_THEIR_BOX)
    assert not wide, f"{name}: scrolls sideways at {DESKTOP['width']}px: {wide}"
    tab.set_viewport_size(PHONE)
    tab.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    # Usable on a phone: wide tables and code scroll inside their own boxes, the page never does.
    width = tab.evaluate("() => document.documentElement.scrollWidth")
    tab.set_viewport_size(DESKTOP)
    assert width <= PHONE["width"], f"{name} is {width}px wide on a {PHONE['width']}px phone"
