"""Odd input anywhere gets a page or a clear error, never a 500 or Django's error page."""

from __future__ import annotations

import pytest

from tests.web.factories import make_assessment, make_load_test

pytestmark = pytest.mark.django_db

ODD_GETS = [
    "/catalog/quantizations/",
    "/catalog/models/?q=" + "x" * 5000,
    "/assess/?hardware_report=not-a-uuid",
    "/assess/?from=00000000-0000-0000-0000-000000000000",
    "/loadtests/new/?assessment=not-a-uuid&base_url=javascript:alert(1)",
    "/loadtests/compare/",
    "/loadtests/compare/?assessment=not-a-uuid",
    "/history/?page=999999",
    "/loadtests/not-a-uuid/",
    "/recommendations/not-a-uuid/bundle/",
]


@pytest.mark.parametrize("url", ODD_GETS)
def test_it_never_answers_odd_urls_with_a_server_error(client, url):
    response = client.get(url)
    assert response.status_code in (200, 400, 404)
    assert b"Traceback" not in response.content


def test_it_compares_with_an_assessments_prediction(client):
    assessment = make_assessment()
    run = make_load_test()
    html = client.get(
        "/loadtests/compare/", {"id": run.pk, "assessment": assessment.pk}
    ).content.decode()
    assert "vLLM predicted" in html and "vLLM measured" in html


@pytest.mark.parametrize(
    ("url", "method"),
    [("/assess/", "put"), ("/hardware/probe/", "get"), ("/loadtests/new/", "delete")],
)
def test_it_answers_a_wrong_method_with_405(client, url, method):
    assert getattr(client, method)(url).status_code == 405


DEEP = '{"a":' * 1000 + "1" + "}" * 1000  # Python's json parser gives up (RecursionError) here


def test_a_deeply_nested_upload_is_a_field_error_not_a_500(client):
    for data in ({"text": DEEP}, {"text": "[" * 100 + "]" * 100}):
        response = client.post("/hardware/upload/", data)
        assert response.status_code == 400
        assert "nested deeper than 64 levels" in response.content.decode()


def test_a_deeply_nested_custom_model_is_a_field_error_not_a_500(client):
    answers = {"model": "llama-3.1-8b", "gpu": "h100-sxm-80gb", "gpu_count": "1"}
    response = client.post("/assess/", answers | {"custom_model": DEEP})
    assert response.status_code == 400
    assert "nested deeper" in response.context["form"].errors["custom_model"][0]
