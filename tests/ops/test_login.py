"""ADVISOR_REQUIRE_LOGIN: pages send anonymous visitors to the login view, which signs them in;
the API keeps using tokens; an open install needs no account."""

import pytest
from django.test import override_settings

from tests.api.factories import make_user

pytestmark = pytest.mark.django_db


def test_it_needs_no_account_on_an_open_install(client):
    assert client.get("/").status_code == 200


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_sends_anonymous_visitors_to_the_login_page_and_back(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
    assert client.get("/accounts/login/").status_code == 200
    make_user("alice", password="correct horse battery")
    signed_in = client.post(
        "/accounts/login/?next=/",
        {"username": "alice", "password": "correct horse battery", "next": "/"},
    )
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    assert client.get("/").status_code == 200


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_shows_a_form_error_for_a_wrong_password(client):
    make_user("alice", password="correct horse battery")
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert response.context["form"].errors


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_signs_out_with_a_post(client):
    user = make_user("alice")
    client.force_login(user)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_leaves_machine_endpoints_open(client):
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/catalog/gpus/").status_code == 200
    assert client.get("/api/v1/recommendations/").status_code == 401  # tokens, not sessions
