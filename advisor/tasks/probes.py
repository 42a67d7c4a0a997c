"""The probe task: a worker probes the host it runs on and answers with the report."""

from celery import shared_task

from advisor.services.hardware import hardware_report_collect

# A probe run takes under 5 s even with a hung NVML (probes.base); these limits only catch worse.
PROBE_SOFT_TIME_LIMIT_S = 30
PROBE_TIME_LIMIT_S = 60


@shared_task(
    name="advisor.probe_host",
    acks_late=False,  # probing again is cheap; a lost run is simply asked for again
    ignore_result=False,
    soft_time_limit=PROBE_SOFT_TIME_LIMIT_S,
    time_limit=PROBE_TIME_LIMIT_S,
)
def probe_host(server_urls: list[str] | None = None) -> dict:
    """Probe the host this worker runs on and return the report (the caller stores it).

    Sent to queue ``probes`` (the local worker) or ``host.<name>`` (a worker on that host).
    """
    return hardware_report_collect(server_urls=server_urls or [])
