"""Who may see which page: open on a single-user install, per-user with ADVISOR_REQUIRE_LOGIN on.

``page`` guards every UI view (advisor/views/urls.py wraps them all; the API authenticates with
its own tokens); ``visible`` and ``owner_of`` scope rows to the signed-in user.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse


def login_enforced() -> bool:
    """True when the deployment is shared and every page needs a signed-in user."""
    return bool(getattr(settings, "ADVISOR_REQUIRE_LOGIN", False))


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Guard a page: with logins on, anonymous visitors go to ``settings.LOGIN_URL`` and back.

    The setting is read per request, so a test (or a restarted server) can switch it.
    """

    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if login_enforced() and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return guarded


def owner_of(request: HttpRequest):
    """The user to record as owner of what this request creates (None when nobody signed in)."""
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


def visible(queryset: QuerySet, request: HttpRequest) -> QuerySet:
    """Rows this visitor may see: everything on an open install, else their own (staff: all)."""
    if not login_enforced():
        return queryset
    user = request.user
    if user.is_staff:
        return queryset
    return queryset.filter(owner=user)


def by_id(queryset: QuerySet, raw: str | None):
    """The row of ``queryset`` with primary key ``raw``, or None (also for a malformed id)."""
    if not raw:
        return None
    try:
        return queryset.filter(pk=raw).first()
    except (ValidationError, ValueError):
        return None
