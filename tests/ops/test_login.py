"""ADVISOR_REQUIRE_LOGIN: pages send anonymous visitors to the login view, which signs them in;
the API keeps using tokens; an open install needs no account."""

import pytest
from django.test import Client, override_settings

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


@pytest.fixture
def fresh_counters():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_locks_a_name_out_after_repeated_wrong_passwords(client, fresh_counters):
    from advisor.views.accounts import FAILURES_PER_USER

    make_user("alice", password="correct horse battery")
    make_user("bob", password="bob's own password")
    for _ in range(FAILURES_PER_USER):
        assert (
            client.post("/accounts/login/", {"username": "alice", "password": "x"}).status_code
            == 200
        )
    right = {"username": "alice", "password": "correct horse battery"}
    locked = client.post("/accounts/login/", right)
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session  # not even the right password gets in now
    # Another name from the same address still signs in (until the address's own cap).
    bob = client.post("/accounts/login/", {"username": "bob", "password": "bob's own password"})
    assert bob.status_code == 302


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_it_locks_an_address_out_that_tries_many_names(client, fresh_counters):
    from advisor.views.accounts import FAILURES_PER_ADDRESS

    make_user("carol", password="carol's password here")
    for index in range(FAILURES_PER_ADDRESS):
        client.post("/accounts/login/", {"username": f"user{index}", "password": "x"})
    response = client.post(
        "/accounts/login/", {"username": "carol", "password": "carol's password here"}
    )
    assert response.status_code == 429
    elsewhere = Client(REMOTE_ADDR="127.0.0.9")  # another address is not affected
    ok = elsewhere.post(
        "/accounts/login/", {"username": "carol", "password": "carol's password here"}
    )
    assert ok.status_code == 302


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
def test_a_successful_sign_in_forgets_earlier_mistakes(client, fresh_counters):
    from advisor.views.accounts import FAILURES_PER_USER

    make_user("dave", password="dave's long password")
    for _ in range(FAILURES_PER_USER - 1):
        client.post("/accounts/login/", {"username": "dave", "password": "x"})
    client.post("/accounts/login/", {"username": "dave", "password": "dave's long password"})
    client.logout()
    for _ in range(FAILURES_PER_USER - 1):
        client.post("/accounts/login/", {"username": "dave", "password": "x"})
    ok = client.post("/accounts/login/", {"username": "dave", "password": "dave's long password"})
    assert ok.status_code == 302


@override_settings(ADVISOR_REQUIRE_LOGIN=True, ADVISOR_TRUST_X_FORWARDED_PROTO=True)
def test_behind_the_proxy_each_client_has_its_own_address_budget(client, fresh_counters):
    """All requests come from the proxy's address; the address the proxy appended counts."""
    from advisor.views.accounts import FAILURES_PER_ADDRESS

    make_user("erin", password="erin's password here")
    attacker = {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}
    for index in range(FAILURES_PER_ADDRESS):
        client.post("/accounts/login/", {"username": f"u{index}", "password": "x"}, **attacker)
    right = {"username": "erin", "password": "erin's password here"}
    assert client.post("/accounts/login/", right, **attacker).status_code == 429
    # A spoofed first entry does not help; another client behind the same proxy still signs in.
    spoofed = {"HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.7"}
    assert client.post("/accounts/login/", right, **spoofed).status_code == 429
    other = Client(HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.post("/accounts/login/", right).status_code == 302
