"""Home page and system status."""

from __future__ import annotations

from unittest import mock

import pytest

from advisor.services.health import Health
from tests.web.conftest import HTMX
from tests.web.factories import make_assessment

pytestmark = pytest.mark.django_db

DOWN = Health(database="ok", broker="unavailable", worker="unavailable", version="0.1.0")
UP = Health(database="ok", broker="ok", worker="ok", version="0.1.0")


def test_it_shows_the_start_button_and_recent_assessments(client):
    assessment = make_assessment(title="Support bot")
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'href="/assess/"' in html
    assert "Support bot" in html
    assert f'href="/assessments/{assessment.pk}/"' in html


def test_it_loads_the_status_separately_with_a_link_that_works_without_javascript(client):
    html = client.get("/").content.decode()
    assert 'href="/status/"' in html and 'hx-get="/status/"' in html


@mock.patch("advisor.views.home.health_check", autospec=True, return_value=DOWN)
def test_it_says_in_words_what_is_down(health_check, client):
    html = client.get("/status/").content.decode()
    assert "not reachable" in html and "load tests and remote probes cannot start" in html
    assert "<html" in html  # a full page without htmx


@mock.patch("advisor.views.home.health_check", autospec=True, return_value=UP)
def test_it_answers_htmx_with_the_status_part_only(health_check, client):
    response = client.get("/status/", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="status"' in html and "answering" in html


def test_it_refuses_a_post_to_the_home_page_without_an_error_page(client):
    response = client.post("/")
    assert response.status_code == 405


def test_it_links_the_api_token_page_and_a_favicon_from_every_page(client):
    html = client.get("/").content.decode()
    assert 'href="/api-tokens/"' in html
    assert 'rel="icon"' in html and "favicon.svg" in html
