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


def private_celery_app(broker_url: str, result_backend: str, transport_options: dict):
    """A Celery app with the project's config on its own broker, and a fresh name for a private
    queue (``host.<name>``) that no other worker consumes. Returns ``(app, name)``."""
    import uuid

    from advisor.celery import create_app

    name = f"test-{uuid.uuid4().hex[:8]}"
    app = create_app(
        broker_url=broker_url,
        result_backend=result_backend,
        broker_transport_options=transport_options,
        task_default_queue=f"unused-{name}",
    )
    return app, name


@pytest.fixture(scope="session")
def tls_pair(tmp_path_factory):
    """(server context, client context trusting it) for a self-signed 127.0.0.1 certificate."""
    from advisor.loadtest.testserver import self_signed_tls

    try:
        return self_signed_tls(tmp_path_factory.mktemp("tls"))
    except RuntimeError as exc:
        pytest.skip(str(exc))
