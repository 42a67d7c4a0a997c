"""Logins (ADVISOR_REQUIRE_LOGIN) and error pages that are ours, never Django's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from tests.web.factories import make_assessment

pytestmark = pytest.mark.django_db


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_sends_anonymous_visitors_to_sign_in_when_logins_are_on(client):
    response = client.get("/assess/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_shows_each_user_only_their_own_assessments(client):
    alice = get_user_model().objects.create_user("alice", password="pw-alice-123")
    theirs = make_assessment(title="someone else's")
    client.force_login(alice)
    assert client.get(f"/assessments/{theirs.pk}/").status_code == 404
    assert "someone else" not in client.get("/history/").content.decode()


def test_it_shows_our_404_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and "Go to the start page" in html


def test_it_answers_a_missing_csrf_token_with_our_page():
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post("/assess/", {})
    assert response.status_code == 403 and "The form expired" in response.content.decode()


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_lets_a_signed_in_user_in_and_offers_to_sign_out(client):
    client.force_login(get_user_model().objects.create_user("bob", password="pw-bob-12345"))
    html = client.get("/assess/").content.decode()
    assert "Signed in as bob" in html and 'action="/accounts/logout/"' in html


def test_it_shows_our_500_page_when_something_breaks(client):
    from unittest import mock

    client.raise_request_exception = False
    with mock.patch("advisor.views.rules.rules_table", side_effect=RuntimeError("boom")):
        response = client.get("/how-we-decide/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html and "boom" not in html
