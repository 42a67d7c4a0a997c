"""Celery tasks: thin entry points that take ids and call one service each.

Each area has its own module; import it here so autodiscovery finds it.
"""

from advisor.tasks.health import ping  # noqa: F401
