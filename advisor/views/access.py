"""Who owns and sees what: open on a single-user install, per-user with ADVISOR_REQUIRE_LOGIN on.

Sign-in itself is enforced by ``advisor.login.RequireLoginMiddleware`` (issue 10) for every page,
so views need no decorator; these helpers only scope rows to the signed-in user.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest


def login_enforced() -> bool:
    """True when the deployment is shared and every page needs a signed-in user."""
    return bool(getattr(settings, "ADVISOR_REQUIRE_LOGIN", False))


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
