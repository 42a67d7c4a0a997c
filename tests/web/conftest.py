"""View tests: the Django test client; htmx requests are plain requests with the HX-Request header."""

from __future__ import annotations

import pytest

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def htmx_headers():
    return dict(HTMX)
