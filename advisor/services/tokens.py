"""API tokens for scripts: create, list, revoke, authenticate. Only a hash of each secret is stored.

A token reads ``adv_<43 url-safe characters>`` (256 random bits). Because the secret is random and
long, a single SHA-256 is the right hash (a slow password hash would only slow every API call down);
lookups go by the hash, which the database indexes as unique.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.utils import timezone

from advisor.errors import AdvisorError
from advisor.models import ApiToken

TOKEN_PREFIX = "adv_"
# 32 bytes = 256 bits of randomness, the size Python's secrets module recommends for tokens.
TOKEN_BYTES = 32
# The stored ``prefix`` column holds 12 characters: "adv_" plus 8 of the secret, enough to tell
# tokens apart in a list without revealing anything useful.
SHOWN_PREFIX_LENGTH = 12
# ``last_used_at`` is written at most once a minute per token so that a busy script does not turn
# every API read into a database write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_NAME_LENGTH = ApiToken._meta.get_field("name").max_length


@dataclass(frozen=True)
class IssuedToken:
    """A newly created token: ``secret`` is shown once and never stored."""

    token: ApiToken
    secret: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user, name: str) -> IssuedToken:
    """Create a token for ``user``; returns the row and the secret (show it once).

    Raises AdvisorError(field="name") for an empty or too long name.
    """
    name = (name or "").strip()
    if not name:
        raise AdvisorError("Give the token a name, e.g. the script that will use it.", field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise AdvisorError(
            f"The name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}.",
            field="name",
        )
    for _ in range(3):  # a hash collision of 256-bit secrets will not happen; be robust anyway
        secret = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        try:
            token = ApiToken.objects.create(
                user=user,
                name=name,
                prefix=secret[:SHOWN_PREFIX_LENGTH],
                key_hash=_hash(secret),
            )
        except IntegrityError:
            continue
        return IssuedToken(token=token, secret=secret)
    raise AdvisorError("Could not create a unique token; try again.")  # pragma: no cover


def api_token_list(*, user) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included (they show when they were revoked)."""
    return list(ApiToken.objects.filter(user=user))


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke ``token`` now; revoking twice keeps the first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_get_for_user(*, user, token_id: int) -> ApiToken:
    """One of ``user``'s tokens by id; AdvisorError(field="token") when there is none."""
    try:
        return ApiToken.objects.get(user=user, pk=token_id)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise AdvisorError(f"No token {token_id} for this user.", field="token") from None


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The live token whose secret this is, with its user; None for unknown or revoked secrets.

    Inactive users' tokens do not authenticate. Touches ``last_used_at`` (at most once a minute).
    """
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    # get(), not filter().first(): the hash is unique, and first() would add an ORDER BY that
    # costs query-building time on every API call.
    live = ApiToken.objects.select_related("user").filter(revoked_at__isnull=True)
    try:
        token = live.get(key_hash=_hash(secret))
    except ApiToken.DoesNotExist:
        return None
    if not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


# On an open single-user install (ADVISOR_REQUIRE_LOGIN off) nobody signs in, but a token needs a
# user: the browser's tokens belong to this one, created without a usable password.
LOCAL_USERNAME = "local"


def api_token_owner(*, user):
    """Who owns the tokens made in the browser: the signed-in user, else the ``local`` user."""
    if user is not None and user.is_authenticated:
        return user
    users = get_user_model()
    owner, created = users.objects.get_or_create(username=LOCAL_USERNAME)
    if created:
        owner.set_unusable_password()
        owner.save(update_fields=["password"])
    return owner
