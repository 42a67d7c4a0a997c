"""Catalog endpoints: public, paginated, the same entries as the capacity model's catalog."""

import pytest

from advisor.capacity.catalog import list_gpus, list_models

pytestmark = pytest.mark.django_db


def test_it_lists_models_anonymously(anon):
    response = anon.get("/api/v1/catalog/models/?page_size=200")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == len(list_models())
    first = body["results"][0]
    assert first["id"] == list_models()[0].id
    assert {"hf_repo", "ollama_tag", "params_total", "max_context", "source"} <= set(first)


def test_it_lists_gpus_anonymously_with_vendor_and_memory(anon):
    body = anon.get("/api/v1/catalog/gpus/?page_size=200").json()
    assert body["count"] == len(list_gpus())
    assert {g["vendor"] for g in body["results"]} <= {"nvidia", "amd", "apple", "intel"}
    assert all(g["memory_bytes"] > 0 for g in body["results"])


def test_it_paginates_the_catalog(anon):
    page = anon.get("/api/v1/catalog/models/?page_size=5&page=2").json()
    assert len(page["results"]) == 5 and page["previous"] and page["next"]
    assert page["results"][0]["id"] == list_models()[5].id


def test_it_answers_404_in_the_error_shape_past_the_last_page(anon):
    response = anon.get("/api/v1/catalog/gpus/?page=999")
    assert response.status_code == 404
    assert response.json()["message"] and "non_field_errors" in response.json()["errors"]


def test_it_refuses_writes_to_the_catalog(api):
    response = api.post("/api/v1/catalog/models/", {"id": "x"}, format="json")
    assert response.status_code == 405
    assert response.json()["message"].startswith('Method "POST" not allowed')


def test_it_answers_unknown_api_paths_with_a_json_404(anon):
    response = anon.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["message"].startswith("No API endpoint at /api/v1/no-such-thing/")


def test_it_names_an_unknown_query_parameter(anon):
    response = anon.get("/api/v1/catalog/models/?pagesize=5")
    assert response.status_code == 400
    assert response.json()["errors"] == {"pagesize": ["Unknown query parameter."]}


@pytest.mark.parametrize("page_size", ["0", "201", "ten", "-1"])
def test_it_names_a_bad_page_size(anon, page_size):
    response = anon.get(f"/api/v1/catalog/models/?page_size={page_size}")
    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]
