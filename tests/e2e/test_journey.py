"""Browser: the core path, questionnaire -> recommendation -> bundle -> zip, with inline checks."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.e2e.conftest import snap

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_it_fills_the_questionnaire_sees_the_recommendation_and_downloads_the_bundle(page):
    page.goto("/assess/")
    snap(page, "questionnaire")
    users = page.get_by_label("Peak concurrent users (users)")
    # Inline validation: a bad answer gets its error under the field as soon as it changes.
    users.fill("0")
    users.press("Tab")
    page.locator("#error-peak_concurrent_users", has_text="at least 1").wait_for()
    snap(page, "questionnaire-inline-error")
    users.fill("40")
    users.press("Tab")
    page.wait_for_function(
        "() => document.querySelector('#error-peak_concurrent_users').textContent.trim() === ''"
    )
    # The model picker searches the catalog (htmx fills the datalist as you type).
    model = page.get_by_label("Model", exact=True)
    model.fill("qwen")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#models-options option')]"
        ".every(o => (o.value + o.textContent).toLowerCase().includes('qwen'))"
    )
    model.fill("llama-3.1-8b")
    page.get_by_label("Hardware report", exact=False).select_option("")
    page.get_by_label("GPU", exact=True).fill("h100-sxm-80gb")
    page.get_by_label("Number of GPUs (GPUs)").fill("1")
    page.get_by_label("What is it for?").select_option("production")
    page.get_by_role("button", name="Get the recommendation").click()

    page.wait_for_url("**/assessments/*/")
    verdict = page.locator("#verdict-heading")
    assert "vLLM" in verdict.inner_text()
    assert page.locator("#decisive-heading").is_visible()
    assert page.get_by_role("heading", name="Side by side, with your numbers").is_visible()
    page.locator("canvas[data-chart-ready='1']").first.wait_for()  # the prediction is charted
    snap(page, "recommendation")

    page.get_by_role("link", name="Preview the files").click()
    page.locator("#preview .highlight").wait_for()
    first = page.locator("#preview-heading").inner_text()
    page.locator(".file-tree a[data-path$='.yaml']").first.click()  # htmx swaps the preview
    page.wait_for_function(
        f"() => document.querySelector('#preview-heading').textContent.trim() !== {first!r}"
    )
    assert page.locator(".file-tree a[aria-current='true']").count() == 1
    assert page.get_by_role("button", name="Copy").is_visible()
    snap(page, "bundle")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download all files").click()
    path = download_info.value.path()
    with zipfile.ZipFile(io.BytesIO(open(path, "rb").read())) as archive:  # noqa: SIM115
        names = archive.namelist()
        assert archive.testzip() is None
    assert any(name.endswith("README.md") for name in names)
    assert any("vllm" in name.lower() or "compose" in name for name in names)


def test_it_keeps_the_core_path_working_without_javascript(browser, live_app):
    context = browser.new_context(base_url=live_app.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/assess/")
        page.get_by_label("Peak concurrent users (users)").fill("0")
        page.get_by_label("GPU", exact=True).fill("h100-sxm-80gb")
        page.get_by_role("button", name="Get the recommendation").click()
        assert "at least 1" in page.locator("#error-peak_concurrent_users").inner_text()
        page.get_by_label("Peak concurrent users (users)").fill("1")
        page.get_by_role("button", name="Get the recommendation").click()
        page.wait_for_url("**/assessments/*/")
        href = page.get_by_role("link", name="Download the deployment files (zip)").get_attribute(
            "href"
        )
        response = page.request.get(href)
        assert response.status == 200
        assert response.headers["content-type"] == "application/zip"
    finally:
        context.close()
