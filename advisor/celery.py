"""The Celery application: configured from Django settings (namespace CELERY_)."""

from __future__ import annotations

import os

from celery import Celery

import advisor.fsbroker  # noqa: F401 - filesystem:// writes each message whole

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "advisor.settings")


def create_app(**overrides) -> Celery:
    """Build a Celery app with the project's settings; ``overrides`` replace single keys (tests).

    Tasks are declared with ``shared_task`` in ``advisor.tasks`` so every app built here gets them.
    """
    celery_app = Celery("advisor", set_as_current=not overrides)
    celery_app.config_from_object("django.conf:settings", namespace="CELERY")
    if overrides:
        celery_app.conf.update(overrides)
    celery_app.autodiscover_tasks(["advisor"])
    return celery_app


app = create_app()
