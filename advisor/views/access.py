"""Who may see which page: open on a single-user install, per-user with ADVISOR_REQUIRE_LOGIN on.

``LoginRequiredWhenEnabled`` closes every page to anonymous visitors when logins are on (the API
authenticates with its own tokens); ``visible`` and ``owned`` scope rows to the signed-in user, or
to the anonymous browser session that made them (``visitor_of``), so visitors of an open install
see only theirs.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from rest_framework.views import APIView


def login_enforced() -> bool:
    """True when the deployment is shared and every page needs a signed-in user."""
    return bool(getattr(settings, "ADVISOR_REQUIRE_LOGIN", False))


class LoginRequiredWhenEnabled(LoginRequiredMiddleware):
    """Django's ``LoginRequiredMiddleware`` (deny by default), on when ADVISOR_REQUIRE_LOGIN is.

    Every view needs a signed-in user unless it is marked ``@login_not_required`` (sign-in,
    ``/healthz``, ``/metrics``); a URL added later is closed without anyone remembering to close
    it. The REST API is left to its own deny-by-default: DRF's token authentication and the
    ``HasApiToken`` permission (settings.REST_FRAMEWORK), with the catalogs, the rule table and the
    schema opened explicitly. The setting is read per request, so a test can switch it.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not login_enforced():
            return None
        view_class = getattr(view_func, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, APIView):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def owner_of(request: HttpRequest):
    """The user to record as owner of what this request creates (None when nobody signed in)."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


# The session key holding an anonymous visitor's key (random, never shown in a page).
VISITOR_SESSION_KEY = "advisor_visitor"


def visitor_of(request: HttpRequest) -> str:
    """The key that marks rows an anonymous visitor creates as theirs ("" when signed in).

    Made on first use and kept in the session (so it survives ``cycle_key`` at sign-in); a
    visitor who drops the session cookie starts over with a new key and sees none of the old rows.
    """
    if owner_of(request) is not None:
        return ""
    key = request.session.get(VISITOR_SESSION_KEY)
    if not key:
        key = request.session[VISITOR_SESSION_KEY] = secrets.token_urlsafe(24)
    return key


def _own(request: HttpRequest) -> Q:
    user = owner_of(request)
    if user is not None:
        return Q(owner=user)
    key = request.session.get(VISITOR_SESSION_KEY) if hasattr(request, "session") else None
    return Q(owner__isnull=True, visitor=key) if key else Q(pk__in=[])


def visible(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """Rows this visitor may see: their own (a signed-in user's, or this browser session's when
    anonymous) and, on an open install, the shared rows nobody owns (the command line's, e.g.
    ``manage.py probe --save`` or the demo); with logins required only their own. Staff: all."""
    if getattr(request.user, "is_staff", False):
        return queryset
    if login_enforced():
        return queryset.filter(_own(request))
    return queryset.filter(_own(request) | Q(owner__isnull=True, visitor=""))


def owned(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """Rows this visitor may change (cancel a load test): only their own. Staff: all."""
    if getattr(request.user, "is_staff", False):
        return queryset
    return queryset.filter(_own(request))


def by_id(queryset: QuerySet, raw: str | None):
    """The row of ``queryset`` with primary key ``raw``, or None (also for a malformed id)."""
    if not raw:
        return None
    try:
        return queryset.filter(pk=raw).first()
    except (ValidationError, ValueError):
        return None
