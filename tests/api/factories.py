"""Factories for API tests: users, their tokens and clients that send them."""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from advisor.services.tokens import api_token_create

_names = itertools.count(1)


def make_user(username: str | None = None, **extra):
    return get_user_model().objects.create_user(username=username or f"user{next(_names)}", **extra)


def make_token(user=None, name: str = "script") -> str:
    """A live token's secret for ``user`` (a new user when None)."""
    return api_token_create(user=user or make_user(), name=name).secret


def client_for(secret: str | None = None, *, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    if secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def throttle_rates(**rates: str) -> dict:
    """``REST_FRAMEWORK`` with some scopes' rates replaced, for ``override_settings``."""
    from django.conf import settings

    current = settings.REST_FRAMEWORK
    return current | {"DEFAULT_THROTTLE_RATES": current["DEFAULT_THROTTLE_RATES"] | rates}


def probe_report(**host) -> dict:
    """A real report of this machine (the probes take ~0.1 s), with one catalog GPU added."""
    from probes import collect_report

    report = collect_report(server_urls=[])
    report["host"] = {**report["host"], **host}
    report["gpus"] = [
        {
            "vendor": "nvidia",
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "memory_total_bytes": 85520809984,
        }
    ]
    return report
