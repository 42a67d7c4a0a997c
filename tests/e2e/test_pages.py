"""Browser: every page renders in Chromium against the live app, with screenshots of each."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import snap

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_it_shows_the_home_page_with_the_system_status_in_words(page):
    page.goto("/")
    # The status loads through htmx after the page: the worker answers the ping for real.
    page.locator("#status").get_by_text("answering").wait_for()
    assert page.get_by_role("link", name="Start an assessment").is_visible()
    snap(page, "home")


def test_it_shows_upload_errors_by_field_and_stores_nothing(page, tmp_path):
    page.goto("/hardware/")
    page.get_by_role("button", name="Probe this host").click()
    page.get_by_role("heading", name="Hardware report").wait_for()
    snap(page, "hardware-report")
    page.goto("/hardware/")
    bad = {"schema_version": 1, "gpus": [{"vendor": "nvidia", "memory_total_bytes": -1}]}
    page.get_by_label("…or paste the report").fill(json.dumps(bad))
    page.get_by_role("button", name="Upload the report").click()
    errors = page.locator(".report-errors")
    errors.wait_for()
    assert "gpus.0" in errors.inner_text()
    snap(page, "hardware-upload-errors")


def test_it_shows_the_rule_table(page):
    page.goto("/how-we-decide/")
    assert page.locator("tr[id^=rule-]").count() >= 10
    snap(page, "how-we-decide")
