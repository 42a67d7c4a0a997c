"""Scoped throttles with rates read from settings at request time (env: ADVISOR_THROTTLE_*).

DRF's ``ScopedRateThrottle``: a log of the request times in the last window, per user and scope,
in Django's cache (per process with the default local-memory cache, shared between processes and
hosts when ``ADVISOR_CACHE_URL`` points at Redis). DRF documents it as approximate: it reads and
writes that log without a lock, "which may sometimes result in some fuzziness"
(https://www.django-rest-framework.org/api-guide/throttling/). If the cache is down the request is
let through (and logged): throttling protects capacity, it must not take the API down with it.
"""

from __future__ import annotations

import logging

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class ThrottleScope:
    """Scope names used by views (``throttle_scope``) and by ``REST_FRAMEWORK`` rates."""

    RECOMMENDATIONS = "recommendations"
    LOAD_TESTS = "load_tests"
    PROBES = "probes"


class SettingsScopedRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` that re-reads the rates on each request (so tests and reloads apply)
    and lets requests through when the cache fails."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception:
            logger.warning("throttle cache unavailable; letting the request through", exc_info=True)
            return True
