"""Who may call what: rows and writes need a token; catalog, rules and the schema are public."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from advisor.models import ApiToken


class HasApiToken(BasePermission):
    """The request carries a live API token (authentication already rejected bad ones)."""

    message = "This endpoint needs an API token: send 'Authorization: Bearer <token>'."

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiToken) and bool(request.user and request.user.is_active)
