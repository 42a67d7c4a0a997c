import pytest
from django.core.cache import cache

from tests.api.factories import client_for, make_token, make_user


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    """Throttle counters live in the (local-memory) cache: each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def user(db):
    return make_user()


@pytest.fixture
def api(user):
    """A client authenticated with a live token of ``user``."""
    return client_for(make_token(user))


@pytest.fixture
def anon(db):
    return client_for(None)
