"""The hardware a load test runs on, recorded when it is created (``LoadTest.measured_on``).

The target host's stored probe says it when there is one; else what the user states (the API's
``measured_on``, or the questionnaire the test was started for); else nothing does, and the test
counts as unknown hardware. ``advisor.rules.measured_on`` decides which measurements a
recommendation may use.
"""

from __future__ import annotations

import contextlib
import ipaddress
import urllib.parse
from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from advisor.loadtest import LoadTestConfig
from advisor.models import Assessment, HardwareReport, HardwareSource
from advisor.rules.answers import AUTO, Answers
from advisor.rules.hardware import effective_hardware, report_gpus
from advisor.rules.measured_on import MeasuredOn, MeasuredOnSource, Setup, setup_of
from probes import servers

# Stored reports searched for the target host's probe, newest first: a handful of hosts, each
# probed now and then; an older report than this describes hardware long since re-probed.
PROBES_SEARCHED = 50


def loadtest_measured_on(
    *,
    owner_id,
    visitor: str,
    config: LoadTestConfig,
    queue: str,
    stated: Mapping[str, Any] | None = None,
    assessment: Assessment | None = None,
) -> MeasuredOn | None:
    """The hardware a test of ``config`` runs on: the GPUs of the target host's probe when one is
    stored (``_target_probe``), else those the user states (``stated``, then the assessment's);
    the model is the one measured (``config.model``) and the quantization the stated one, else
    ``auto`` (the server's default for that model). None when nothing says (unknown hardware,
    which never calibrates a prediction). Raises ``AdvisorError(field="measured_on.<field>")``
    for a bad statement, also when a probe wins over it.
    """
    said = None
    if stated is not None:
        said = setup_of(
            gpu=stated.get("gpu"),  # absent or null: CPU only
            gpu_count=stated.get("gpu_count", 1 if stated.get("gpu") else 0),
            model=config.model,
            quantization=stated.get("quantization", AUTO),
        )
    elif assessment is not None:
        said = _assessment_setup(assessment, model=config.model)
    report = _target_probe(owner_id=owner_id, visitor=visitor, base_url=config.base, queue=queue)
    if report is not None:
        gpu, count, _ = report_gpus(report.report)
        probed = setup_of(
            gpu=gpu.id if gpu is not None else None,
            gpu_count=count,
            model=config.model,
            quantization=said.quantization if said is not None else AUTO,
        )
        return MeasuredOn(probed, MeasuredOnSource.PROBE)
    return MeasuredOn(said, MeasuredOnSource.STATED) if said is not None else None


def _assessment_setup(assessment: Assessment, *, model: str) -> Setup:
    """The hardware an assessment's answers (and its attached report) describe, with ``model``."""
    report = assessment.hardware_report.report if assessment.hardware_report_id else None
    answers = Answers.parse(assessment.answers, hardware_report_attached=report is not None)
    gpu, count, _, _ = effective_hardware(answers, report)
    return setup_of(
        gpu=gpu.id if gpu is not None else None,
        gpu_count=count,
        model=model,
        quantization=answers.quantization,
    )


def _target_probe(*, owner_id, visitor: str, base_url: str, queue: str) -> HardwareReport | None:
    """The newest stored report (the caller's or nobody's) of the host the server at ``base_url``
    runs on. With a ``host.<name>`` queue the test runs on that host: its remote report. Without
    one, a loopback URL is the advisor's own host (where its workers run): its local report.
    Otherwise the report that found a server at ``base_url``. None when no report says."""
    try:
        url = servers.normalize_url(base_url)
    except ValueError:
        return None
    loopback = _is_loopback(url)
    reports = HardwareReport.objects.filter(
        Q(owner_id=owner_id, visitor=visitor) | Q(owner__isnull=True, visitor="")
    ).order_by("-created_at")
    if queue:
        reports = reports.filter(source=HardwareSource.REMOTE)
    elif loopback:
        reports = reports.filter(source=HardwareSource.LOCAL)
    for report in reports[:PROBES_SEARCHED]:
        host = report.host_name
        if queue and queue not in (f"host.{host}", f"host.{host.split('.')[0]}"):
            continue
        if loopback or url in _listed_urls(report.report):
            return report
    return None


def _listed_urls(report: dict) -> set[str]:
    urls = set()
    for server in report.get("servers") or ():  # a report whose server probe found none has []
        with contextlib.suppress(ValueError):
            urls.add(servers.normalize_url(server["base_url"]))
    return urls


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
