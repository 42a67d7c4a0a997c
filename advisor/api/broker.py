"""Work that needs a worker checks the broker first, so a dead Redis is a clear 503, not a hang
or a row queued forever."""

from __future__ import annotations

from django.conf import settings

from advisor.api.exceptions import BrokerUnavailable
from advisor.services.health import OK, broker_status


def require_broker() -> None:
    """Raise ``BrokerUnavailable`` (503) unless the broker answers within the health timeout."""
    if broker_status(timeout=float(settings.ADVISOR_HEALTH_TIMEOUT_S)) != OK:
        raise BrokerUnavailable()
