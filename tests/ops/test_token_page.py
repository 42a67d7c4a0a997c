"""The browser's API token page: create (secret shown once), list, revoke; who owns the tokens."""

import re

import pytest
from django.test import override_settings

from advisor.models import ApiToken
from advisor.services.tokens import LOCAL_USERNAME, api_token_authenticate, api_token_create
from tests.api.factories import make_user

pytestmark = pytest.mark.django_db


def create(client, name="nightly CI"):
    return client.post("/api-tokens/", {"name": name})


def test_it_creates_a_token_and_shows_its_secret_once(client):
    response = create(client)
    assert response.status_code == 200
    secret = re.search(r'<code id="new-token">(adv_[^<]+)</code>', response.content.decode())[1]
    token = api_token_authenticate(secret=secret)
    assert token.name == "nightly CI"
    assert secret not in client.get("/api-tokens/").content.decode()


def test_it_gives_tokens_made_on_an_open_install_to_the_local_user(client):
    create(client)
    owner = ApiToken.objects.get().user
    assert owner.username == LOCAL_USERNAME and not owner.has_usable_password()


def test_it_gives_a_signed_in_users_tokens_to_them(client):
    alice = make_user("alice")
    client.force_login(alice)
    create(client)
    assert ApiToken.objects.get().user == alice


def test_it_shows_a_field_error_for_a_blank_name(client):
    response = create(client, name="  ")
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert not ApiToken.objects.exists()


def test_it_revokes_a_token(client):
    create(client)
    token = ApiToken.objects.get()
    response = client.post(f"/api-tokens/{token.pk}/revoke/", follow=True)
    assert "Revoked the token" in response.content.decode()
    assert ApiToken.objects.get().revoked_at is not None


def test_it_answers_404_for_someone_elses_token(client):
    theirs = make_user("bob")
    token = api_token_create(user=theirs, name="bob's").token
    assert client.post(f"/api-tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get().revoked_at is None


def test_it_refuses_a_revoke_by_get(client):
    create(client)
    assert client.get(f"/api-tokens/{ApiToken.objects.get().pk}/revoke/").status_code == 405


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_needs_a_sign_in_when_logins_are_on(client):
    response = client.get("/api-tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
