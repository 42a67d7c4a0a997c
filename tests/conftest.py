"""Suite-wide set-up: a private var/ folder so tests never share a broker or database with `make run`."""

import os
import tempfile

os.environ["ADVISOR_VAR_DIR"] = tempfile.mkdtemp(prefix="advisor-test-var-")

import pytest  # noqa: E402


def redis_url_or_skip() -> str:
    """The Redis URL for tests that need a real Redis; under CI=true a missing Redis is a failure."""
    url = os.environ.get("REDIS_URL", "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("REDIS_URL is not set under CI=true: Redis-backed tests must run")
    pytest.skip("REDIS_URL not set (make test runs these when Redis is configured)")
