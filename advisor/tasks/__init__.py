"""Celery tasks: thin entry points that take ids and call one service each.

Each area has its own module; import it here so autodiscovery finds it.
"""

from advisor import metrics  # noqa: F401  (Celery signal handlers that count tasks)
from advisor.tasks.health import ping  # noqa: F401
from advisor.tasks.loadtests import reap_load_tests, run_load_test  # noqa: F401
from advisor.tasks.probes import probe_host  # noqa: F401
from advisor.tasks.sessions import clear_sessions  # noqa: F401
