"""Request bodies the API cannot take: nesting too deep (400) and too large (413), each in the
one error shape, never a 500 or Django's HTML page."""

import pytest

from advisor.jsontext import MAX_DEPTH, JsonTooDeep, json_depth_check, json_loads

pytestmark = pytest.mark.django_db


def deep_object(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/hardware-reports/", "[" * 1000 + "]" * 1000),
        ("/api/v1/hardware-reports/", '{"schema_version": 1, "host": ' + deep_object(1000) + "}"),
        ("/api/v1/recommendations/", '{"model": "x", "custom_model": ' + deep_object(1000) + "}"),
        ("/api/v1/recommendations/", '{"model": "x", "hardware": ' + deep_object(200) + "}"),
        ("/api/v1/estimates/", '{"model": "llama-3.1-8b", "config": ' + deep_object(1000) + "}"),
        ("/api/v1/load-tests/", '{"base_url": "http://127.0.0.1:9", "model": ' + "[" * 999 + "]" * 999 + "}"),
    ],
)  # fmt: skip
def test_it_refuses_deep_nesting_with_a_400_in_the_error_shape(api, path, body):
    response = api.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"message", "errors"}
    assert f"nested deeper than {MAX_DEPTH} levels" in response.json()["message"]


def test_it_refuses_a_3_mb_body_with_a_413_in_the_error_shape(api):
    body = '{"model": "' + "x" * 3_000_000 + '"}'
    response = api.post("/api/v1/recommendations/", body, content_type="application/json")
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert "larger than" in response.json()["message"] and set(response.json()) == {
        "message",
        "errors",
    }


def test_the_depth_check_counts_levels_without_recursing():
    assert json_loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(JsonTooDeep):
        json_loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    nested: list = []
    for _ in range(100_000):  # far past the interpreter's recursion limit
        nested = [nested]
    with pytest.raises(JsonTooDeep):
        json_depth_check(nested)
