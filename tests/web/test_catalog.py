"""Catalog pickers: datalist options for htmx, a searchable page without it."""

from __future__ import annotations

import pytest

from advisor.views.catalog import MAX_OPTIONS, catalog_search
from tests.web.conftest import HTMX

pytestmark = pytest.mark.django_db


def test_it_answers_htmx_with_options_matching_every_word(client):
    response = client.get("/catalog/models/", {"model": "llama 8b"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and '<option value="llama-3.1-8b">' in html
    assert "qwen" not in html.lower()


def test_it_finds_models_by_hugging_face_repo_and_ollama_tag():
    assert "llama-3.1-8b" in [m.id for m in catalog_search("models", "meta-llama/Llama-3.1-8B")]
    assert "llama-3.1-8b" in [m.id for m in catalog_search("models", "llama3.1:8b")]


def test_it_finds_gpus_by_the_name_the_driver_reports(client):
    html = client.get("/catalog/gpus/", {"gpu": "H100 80GB HBM3"}, **HTMX).content.decode()
    assert 'value="h100-sxm-80gb"' in html


def test_it_caps_the_options_a_datalist_gets(client):
    html = client.get("/catalog/models/", **HTMX).content.decode()
    assert html.count("<option") == min(MAX_OPTIONS, len(catalog_search("models", "")))


def test_it_shows_a_search_page_without_htmx(client):
    html = client.get("/catalog/gpus/", {"q": "mi300"}).content.decode()
    assert "<h1>GPUs catalog</h1>" in html and "mi300x" in html
    assert 'name="q" value="mi300"' in html


def test_it_says_when_nothing_matches(client):
    html = client.get("/catalog/models/", {"q": "zzzz-nothing"}).content.decode()
    assert "Nothing matches" in html


def test_it_answers_404_for_an_unknown_catalog(client):
    response = client.get("/catalog/spaceships/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()  # our page, not Django's


def test_it_matches_words_from_their_start_so_m3_finds_apple_chips_not_hbm3():
    found = [g.id for g in catalog_search("gpus", "m3")]
    assert found and all("m3" in g for g in found)
    assert not any("h100" in g for g in found)
    assert "h100-sxm-80gb" in [g.id for g in catalog_search("gpus", "h100 80gb")]
    assert "llama-3.1-8b" in [m.id for m in catalog_search("models", "llama31")]


def test_it_offers_each_unified_memory_size_an_apple_chip_ships_with():
    found = {g.id: g.memory_bytes for g in catalog_search("gpus", "m3 max")}
    assert {"apple-m3-max-36gb", "apple-m3-max-64gb", "apple-m3-max-128gb"} <= set(found)
    assert found["apple-m3-max-64gb"] == 64 * 1024**3
