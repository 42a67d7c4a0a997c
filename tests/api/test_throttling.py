"""The sliding-window throttle: counts per window, the previous window weighted by its overlap."""

import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIRequestFactory

from advisor.api.throttling import SettingsScopedRateThrottle
from tests.api.factories import make_user, throttle_rates


class View:
    throttle_scope = "recommendations"


@pytest.fixture
def request_of(db):
    user = make_user()
    request = APIRequestFactory().post("/api/v1/recommendations/")
    request.user = user
    return request


def allowed_at(request, times: list[float]) -> list[bool]:
    out = []
    for now in times:
        throttle = SettingsScopedRateThrottle()
        throttle.timer = lambda now=now: now
        out.append(throttle.allow_request(request, View()))
    return out


@override_settings(REST_FRAMEWORK=throttle_rates(recommendations="3/min"))
def test_it_allows_the_rate_per_window_and_refuses_the_next(request_of):
    assert allowed_at(request_of, [600.0, 601.0, 602.0, 603.0]) == [True, True, True, False]


@override_settings(REST_FRAMEWORK=throttle_rates(recommendations="3/min"))
def test_the_previous_window_still_counts_across_the_boundary(request_of):
    # Three at the end of one minute; just after the boundary the previous minute still weighs
    # almost fully, so the next request is refused, and a minute later it is allowed again.
    assert allowed_at(request_of, [657.0, 658.0, 659.0, 661.0]) == [True, True, True, False]
    assert allowed_at(request_of, [719.5]) == [True]


@override_settings(REST_FRAMEWORK=throttle_rates(recommendations="3/min"))
def test_it_says_how_long_to_wait(request_of):
    allowed_at(request_of, [600.0, 601.0, 602.0])
    throttle = SettingsScopedRateThrottle()
    throttle.timer = lambda: 610.0
    assert throttle.allow_request(request_of, View()) is False
    assert throttle.wait() == pytest.approx(50.0)


@override_settings(REST_FRAMEWORK=throttle_rates(recommendations="1000000/min"))
def test_what_it_stores_does_not_grow_with_the_rate(request_of):
    """DRF's own throttle keeps a list of every request time in the window; this keeps a count."""
    assert all(allowed_at(request_of, [600.0 + i / 1000 for i in range(2000)]))
    throttle = SettingsScopedRateThrottle()
    throttle.timer = lambda: 603.0
    throttle.allow_request(request_of, View())
    assert cache.get(f"{throttle.key}_10") == 2001  # minute 10: one count, not 2,001 times
