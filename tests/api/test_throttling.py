"""The scoped throttle: the rate per window from settings, how long to wait, open when the cache fails."""

from unittest import mock

import pytest
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
    assert allowed_at(request_of, [660.5]) == [True]  # the first one left the last minute


@override_settings(REST_FRAMEWORK=throttle_rates(recommendations="3/min"))
def test_it_says_how_long_to_wait(request_of):
    allowed_at(request_of, [600.0, 601.0, 602.0])
    throttle = SettingsScopedRateThrottle()
    throttle.timer = lambda: 610.0
    assert throttle.allow_request(request_of, View()) is False
    assert throttle.wait() == pytest.approx(50.0)


@override_settings(REST_FRAMEWORK=throttle_rates(recommendations="3/min"))
def test_it_lets_requests_through_when_the_cache_fails(request_of):
    with mock.patch.object(SettingsScopedRateThrottle, "cache") as cache:
        cache.get.side_effect = ConnectionError("cache down")
        assert allowed_at(request_of, [600.0] * 5) == [True] * 5
