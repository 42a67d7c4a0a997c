"""View tests: the Django test client; htmx requests are plain requests with the HX-Request header."""

from __future__ import annotations

import pytest

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def htmx_headers():
    return dict(HTMX)


@pytest.fixture
def visitor(client) -> str:
    """The test client's anonymous visitor key: rows made with it are this client's own."""
    from advisor.views.access import VISITOR_SESSION_KEY

    session = client.session
    session[VISITOR_SESSION_KEY] = "visitor-of-the-test-client"
    session.save()
    return "visitor-of-the-test-client"
