"""``manage.py apitoken``: create prints the secret once, list shows prefixes, revoke works."""

import io

import pytest
from django.core.management import CommandError, call_command

from advisor.models import ApiToken
from advisor.services.tokens import api_token_authenticate
from tests.api.factories import make_user

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("apitoken", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_it_creates_a_token_that_authenticates():
    make_user("ci")
    secret = run("create", "--user", "ci", "--name", "pipeline").strip()
    assert api_token_authenticate(secret=secret).user.username == "ci"


def test_it_creates_the_user_when_asked():
    secret = run("create", "--user", "robot", "--name", "nightly", "--create-user").strip()
    token = api_token_authenticate(secret=secret)
    assert token.user.username == "robot" and not token.user.has_usable_password()


def test_it_refuses_an_unknown_user_without_create_user():
    with pytest.raises(CommandError, match="No user 'ghost'"):
        run("create", "--user", "ghost", "--name", "x")


def test_it_lists_without_secrets_and_revokes():
    make_user("ci")
    secret = run("create", "--user", "ci", "--name", "pipeline").strip()
    token = ApiToken.objects.get()
    listing = run("list", "--user", "ci")
    assert token.prefix in listing and secret not in listing and "live" in listing
    assert "Revoked" in run("revoke", "--user", "ci", str(token.pk))
    assert api_token_authenticate(secret=secret) is None
    assert "revoked" in run("list", "--user", "ci")


def test_it_names_the_field_for_a_blank_name():
    make_user("ci")
    with pytest.raises(CommandError, match="name"):
        run("create", "--user", "ci", "--name", " ")


def test_it_refuses_to_revoke_another_users_token():
    make_user("ci")
    make_user("other")
    run("create", "--user", "other", "--name", "theirs")
    with pytest.raises(CommandError, match="token"):
        run("revoke", "--user", "ci", str(ApiToken.objects.get().pk))
