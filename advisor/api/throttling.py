"""Scoped throttles with rates read from settings at request time (env: ADVISOR_THROTTLE_*).

Counters live in Django's cache: per process with the default local-memory cache, shared between
processes and hosts when ``ADVISOR_CACHE_URL`` points at Redis. If the cache is down the request is
let through (and logged): throttling protects capacity, it must not take the API down with it.

The count is a sliding-window estimate (a counter per fixed window; the previous window's count
weighted by how much of it still overlaps the last ``duration`` seconds, rounded up), not DRF's log of every
request time: that log is a list the cache pickles and unpickles on every request, as long as the
rate allows (120 entries at the default rate, tens of thousands at a high one), and it cost more
than the rest of the API layer under load. Two or three cache operations a request, whatever the
rate. Rounding up makes the estimate err towards refusing: right after a burst the limit holds
as the exact log would, and a user at the limit for a long time gets a little under the rate.
"""

from __future__ import annotations

import logging
import math

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

logger = logging.getLogger(__name__)


class ThrottleScope:
    """Scope names used by views (``throttle_scope``) and by ``REST_FRAMEWORK`` rates."""

    RECOMMENDATIONS = "recommendations"
    LOAD_TESTS = "load_tests"
    PROBES = "probes"


class SettingsScopedRateThrottle(ScopedRateThrottle):
    """``ScopedRateThrottle`` with a sliding-window counter (above) that re-reads rates on each
    request (so tests and reloads apply)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def allow_request(self, request, view) -> bool:
        try:
            return self._allow(request, view)
        except Exception:
            logger.warning("throttle cache unavailable; letting the request through", exc_info=True)
            return True

    def _allow(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        self.rate = self.get_rate() if self.scope else None
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        now = self.timer()
        window, position = divmod(now, self.duration)
        current = f"{self.key}_{int(window)}"
        previous = f"{self.key}_{int(window) - 1}"
        counts = self.cache.get_many([current, previous])
        overlap = 1 - position / self.duration  # of the previous window, in the last `duration`
        # Rounded up: the estimate errs towards refusing (a burst at the end of the previous
        # window still counts whole just after it), never towards letting more through.
        earlier = math.ceil(counts.get(previous, 0) * overlap - 1e-9)
        if earlier + counts.get(current, 0) >= self.num_requests:
            self._wait = self.duration - position  # then the current window's count restarts
            return False
        if not self.cache.add(current, 1, math.ceil(2 * self.duration)):
            try:
                self.cache.incr(current)
            except ValueError:  # expired between add and incr
                self.cache.add(current, 1, math.ceil(2 * self.duration))
        return True

    def wait(self) -> float:
        return getattr(self, "_wait", None)
