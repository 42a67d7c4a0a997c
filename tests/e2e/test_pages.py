"""Browser: every page renders in Chromium against the live app, with screenshots of each."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import snap
from tests.e2e.harness import host_queue

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


def test_it_probes_a_remote_host_through_the_broker(page):
    # The e2e worker also listens on host.<this host's name>, as a worker on a GPU server would.
    page.goto("/hardware/")
    page.locator("#remote-form").get_by_label("Host name").fill(host_queue().removeprefix("host."))
    page.get_by_role("button", name="Probe the remote host").click()
    page.get_by_role("heading", name="Hardware report").wait_for(timeout=90_000)
    assert "Probed by a remote worker" in page.content()


def test_it_says_which_remote_host_did_not_answer(page):
    page.goto("/hardware/")
    page.locator("#remote-form").get_by_label("Host name").fill("bad name!")
    page.get_by_role("button", name="Probe the remote host").click()
    assert "host name" in page.locator("#error-remote-host").inner_text().lower()
