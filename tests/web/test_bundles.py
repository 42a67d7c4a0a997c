"""The bundle page: file tree, highlighted preview, htmx swap of one file, the zip."""

from __future__ import annotations

import io
import zipfile
from unittest import mock

import pytest

from advisor.errors import AdvisorError
from tests.web.conftest import HTMX
from tests.web.factories import make_assessment

pytestmark = pytest.mark.django_db


@pytest.fixture
def recommendation():
    return make_assessment(peak_concurrent_users=40).recommendations.get()


def test_it_shows_the_tree_and_previews_the_readme_first(client, recommendation):
    html = client.get(f"/recommendations/{recommendation.pk}/bundle/").content.decode()
    assert "<code>README.md</code>" in html and 'class="highlight"' in html
    assert 'data-copy-target="file-content" hidden' in html  # shown by JavaScript only
    assert f'href="/recommendations/{recommendation.pk}/bundle.zip"' in html


def test_it_highlights_a_chosen_file_and_escapes_its_text(client, recommendation):
    path = "vllm/compose.nvidia.yaml"
    html = client.get(
        f"/recommendations/{recommendation.pk}/bundle/", {"file": path}
    ).content.decode()
    assert f"<code>{path}</code>" in html and "yaml" in html
    assert '<span class="nt">services</span>' in html


def test_it_swaps_only_the_preview_for_htmx(client, recommendation):
    response = client.get(
        f"/recommendations/{recommendation.pk}/bundle/", {"file": "README.md"}, **HTMX
    )
    html = response.content.decode()
    assert "<html" not in html and 'id="preview"' in html and "file-tree" not in html


def test_it_says_when_a_file_is_not_in_the_bundle(client, recommendation):
    response = client.get(
        f"/recommendations/{recommendation.pk}/bundle/", {"file": "../../etc/passwd"}
    )
    assert response.status_code == 404
    assert "The bundle has no file" in response.content.decode()


def test_it_downloads_a_zip_that_opens(client, recommendation):
    response = client.get(f"/recommendations/{recommendation.pk}/bundle.zip")
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="')
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        assert any(name.endswith("/README.md") for name in archive.namelist())


@mock.patch("advisor.views.bundles.bundle_for_recommendation", autospec=True)
def test_it_shows_why_there_is_no_bundle(build, client, recommendation):
    build.side_effect = AdvisorError("model name has a quote", field="model")
    for url in ("bundle/", "bundle.zip"):
        response = client.get(f"/recommendations/{recommendation.pk}/{url}")
        assert response.status_code == 422
        assert "model name has a quote" in response.content.decode()


def test_it_answers_404_for_an_unknown_recommendation(client):
    response = client.get("/recommendations/00000000-0000-0000-0000-000000000000/bundle.zip")
    assert response.status_code == 404


def test_it_shows_the_other_servers_files_on_request(client, recommendation):
    other = "ollama" if recommendation.backend == "vllm" else "vllm"
    html = client.get(
        f"/recommendations/{recommendation.pk}/bundle/", {"backend": other}
    ).content.decode()
    assert f"bundle.zip?backend={other}" in html
    response = client.get(f"/recommendations/{recommendation.pk}/bundle.zip", {"backend": other})
    assert other in response["Content-Disposition"]


def test_it_refuses_an_unknown_backend_with_a_message(client, recommendation):
    response = client.get(f"/recommendations/{recommendation.pk}/bundle/", {"backend": "tgi"})
    assert response.status_code == 422
    assert "backend must be one of vllm, ollama" in response.content.decode()
