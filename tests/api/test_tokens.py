"""Tokens: the service, the header formats, revocation, and the /tokens/ endpoints."""

from datetime import timedelta

import pytest
from django.utils import timezone

from advisor.errors import AdvisorError
from advisor.models import ApiToken
from advisor.services.tokens import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
)
from tests.api.factories import client_for, make_token, make_user

pytestmark = pytest.mark.django_db


def test_it_stores_only_a_hash_of_the_secret():
    issued = api_token_create(user=make_user(), name="CI")
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.secret.startswith("adv_") and len(issued.secret) > 40
    assert issued.secret not in row.key_hash
    assert row.prefix == issued.secret[:12]


def test_it_authenticates_a_live_token_and_touches_last_used():
    issued = api_token_create(user=make_user(), name="CI")
    token = api_token_authenticate(secret=issued.secret)
    assert token == issued.token
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_it_writes_last_used_at_most_once_a_minute():
    issued = api_token_create(user=make_user(), name="CI")
    api_token_authenticate(secret=issued.secret)
    first = ApiToken.objects.get(pk=issued.token.pk).last_used_at
    api_token_authenticate(secret=issued.secret)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at == first
    ApiToken.objects.filter(pk=issued.token.pk).update(last_used_at=first - timedelta(minutes=2))
    api_token_authenticate(secret=issued.secret)
    assert ApiToken.objects.get(pk=issued.token.pk).last_used_at > first - timedelta(minutes=2)


def test_it_refuses_revoked_unknown_and_inactive_users_tokens():
    user = make_user()
    issued = api_token_create(user=user, name="CI")
    assert api_token_authenticate(secret="adv_unknown") is None
    assert api_token_authenticate(secret="not-even-a-token") is None
    user.is_active = False
    user.save()
    assert api_token_authenticate(secret=issued.secret) is None
    user.is_active = True
    user.save()
    api_token_revoke(token=issued.token)
    assert api_token_authenticate(secret=issued.secret) is None


def test_it_keeps_the_first_revocation_time():
    issued = api_token_create(user=make_user(), name="CI")
    first = api_token_revoke(token=issued.token).revoked_at
    assert api_token_revoke(token=issued.token).revoked_at == first


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_it_names_the_field_for_a_bad_name(name):
    with pytest.raises(AdvisorError) as caught:
        api_token_create(user=make_user(), name=name)
    assert caught.value.field == "name"


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_it_accepts_bearer_and_token_headers(keyword):
    response = client_for(make_token(), keyword=keyword).get("/api/v1/tokens/")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_it_answers_401_in_the_error_shape_without_a_token(anon):
    response = anon.get("/api/v1/tokens/")
    assert response.status_code == 401
    body = response.json()
    assert body["message"].startswith("Authentication credentials were not provided")
    assert body["errors"] == {"non_field_errors": [body["message"]]}
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer adv_wrong", "Bearer", "Bearer a b", "Token not-a-token"],
)
def test_it_answers_401_for_a_bad_token(anon, header):
    anon.credentials(HTTP_AUTHORIZATION=header)
    response = anon.get("/api/v1/tokens/")
    assert response.status_code == 401
    assert response.json()["message"]


def test_it_answers_401_once_the_token_is_revoked():
    user = make_user()
    issued = api_token_create(user=user, name="CI")
    client = client_for(issued.secret)
    assert client.get("/api/v1/tokens/").status_code == 200
    api_token_revoke(token=issued.token)
    assert client.get("/api/v1/tokens/").status_code == 401


def test_it_lists_only_the_callers_tokens(user, api):
    make_token(user, name="second")
    make_token(make_user(), name="someone else's")
    response = api.get("/api/v1/tokens/")
    names = sorted(t["name"] for t in response.json()["results"])
    assert names == ["script", "second"]
    assert all("secret" not in t and "key_hash" not in t for t in response.json()["results"])


def test_it_revokes_a_token_through_the_api(user, api):
    other = api_token_create(user=user, name="old").token
    response = api.post(f"/api/v1/tokens/{other.pk}/revoke/")
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert ApiToken.objects.get(pk=other.pk).revoked_at <= timezone.now()


def test_it_answers_404_for_someone_elses_token(api):
    foreign = api_token_create(user=make_user(), name="theirs").token
    response = api.post(f"/api/v1/tokens/{foreign.pk}/revoke/")
    assert response.status_code == 404
    assert ApiToken.objects.get(pk=foreign.pk).revoked_at is None
    assert set(response.json()) == {"message", "errors"}


def test_it_paginates_lists(user, api):
    for index in range(3):
        make_token(user, name=f"t{index}")
    page = api.get("/api/v1/tokens/?page_size=2").json()
    assert page["count"] == 4 and len(page["results"]) == 2 and page["next"]
    assert api.get("/api/v1/tokens/?page=9").status_code == 404
