"""ADVISOR_REQUIRE_LOGIN on: every URL pattern of the site, walked from the root URLconf, refuses
an anonymous visitor (a redirect to sign in, or the API's 401/403) except the few open on purpose.
A URL added later is covered without being listed here."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve

pytestmark = pytest.mark.django_db

# Open on purpose: sign-in, health and metrics (load balancers, Prometheus), the API's public
# catalogs, rule table and schema with its viewers, and the API's JSON 404. Admin's own sign-in.
OPEN = {
    "login",
    "healthz",
    "metrics",
    "api-catalog-models",
    "api-catalog-gpus",
    "api-rules",
    "api-schema",
    "api-docs",
    "api-redoc",
    "api-not-found",
    "admin:login",
}
SAMPLES = {"uuid": str(uuid.uuid4()), "int": "1", "slug": "models", "path": "x", "str": "x"}


def _choice(match: re.Match) -> str:
    """A regex group's sample: its first alternative when that is plain text, else "x"."""
    first = match.group(1)
    return first if re.fullmatch(r"[\w.-]+", first) else "x"


def _sample(route: str) -> str:
    route = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", _choice, route)  # re_path groups
    route = re.sub(r"<(?:(\w+):)?\w+>", lambda m: SAMPLES[m.group(1) or "str"], route)
    return route.lstrip("^").rstrip("$").replace("\\", "")


def every_pattern(resolvers=None, prefix="", namespace=""):
    """(url, name, view) for each pattern, with sample values for its converters."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        route = _sample(str(entry.pattern))
        if isinstance(entry, URLResolver):
            space = f"{entry.namespace}:" if entry.namespace else namespace
            yield from every_pattern(entry.url_patterns, prefix + route, space)
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + route, f"{namespace}{entry.name}", entry.callback


PATTERNS = list(every_pattern())


def test_the_walk_reaches_the_views_it_names():
    assert len(PATTERNS) > 40  # the web UI, the API and the admin
    for url, _name, view in PATTERNS:
        assert resolve(url).func == view, url


@override_settings(ADVISOR_REQUIRE_LOGIN=True)
@pytest.mark.parametrize(("url", "name"), [(url, name) for url, name, _ in PATTERNS])
def test_no_url_is_public_with_logins_required_but_the_open_ones(url, name):
    client = Client(raise_request_exception=False)
    for method in (client.get, client.post):
        response = method(url)
        # The admin keeps its own staff check (its views are open to the middleware by design
        # since Django 5.1 and send anonymous visitors to the admin's sign-in).
        to_sign_in = response.status_code == 302 and response["Location"].startswith(
            ("/accounts/login/", "/admin/login/")
        )
        if name in OPEN:
            assert not to_sign_in, f"{url} ({name}) should be open"
        else:
            refused = to_sign_in or response.status_code in (401, 403)
            assert refused, f"{method.__name__.upper()} {url} ({name}): {response.status_code}"


def _new_page(request):
    from django.http import HttpResponse

    return HttpResponse("a page someone added without thinking of logins")


# This module doubles as a URLconf: the site's patterns plus one page with no decorator at all.
urlpatterns = [*get_resolver().url_patterns]
urlpatterns.insert(0, path("brand-new/", _new_page))


@override_settings(ADVISOR_REQUIRE_LOGIN=True, ROOT_URLCONF=__name__)
def test_a_page_added_without_any_wrapper_is_closed_too(client):
    response = client.get("/brand-new/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@override_settings(ROOT_URLCONF=__name__)
def test_it_stays_open_on_a_single_user_install(client):
    assert client.get("/brand-new/").status_code == 200
