"""Hardware reports: probe this host or a remote one, or take an uploaded report, and store it.

Every report, wherever it comes from, is validated field by field (``probes.schema``) and its
GPUs are matched again to this advisor's catalog before it is stored: a report from a standalone
host has ``catalog_id: null``, and a catalog id from elsewhere is not trusted.

Remote hosts: a Celery worker started on a GPU server with ``-Q host.<name>`` (and the same
broker) answers the ``advisor.probe_host`` task sent to queue ``host.<name>``; the web side
stores what it returns. Errors are ``AdvisorError`` with the field at fault: ``report`` for the
whole upload, a dotted path such as ``gpus.0.memory_total_bytes`` inside it, ``host`` or
``server_urls`` for the probe requests.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import asdict, dataclass

from celery.exceptions import TimeoutError as CeleryTimeout
from django.conf import settings
from django.db.models import Q, QuerySet

from advisor.celery import app
from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.jsontext import JsonTooDeep, json_loads
from advisor.loadtest.policy import AllowList, check_target
from advisor.models import HardwareReport, HardwareSource
from probes import collect_report, servers
from probes.gpu_catalog import match_gpus
from probes.schema import ReportError, validate_report

MAX_REPORT_BYTES = 1_000_000  # a real report is ~5 KiB; a host with 8 GPUs and many models ~50 KiB
PROBE_TASK = "advisor.probe_host"
HOST_QUEUE_PREFIX = "host."
# The probes finish in under 5 s even when NVML hangs; the rest is broker and worker latency.
REMOTE_PROBE_TIMEOUT_S = 20.0
# `inspect` broadcasts and waits this long for replies: every live worker answers in milliseconds.
INSPECT_TIMEOUT_S = 1.0
HOST_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")  # a hostname-like queue suffix
REPORT_FIELD = "report"


@dataclass(frozen=True)
class RemoteHost:
    """A host whose worker listens on ``queue`` (``host.<name>``)."""

    name: str
    queue: str
    workers: tuple[str, ...]

    def as_dict(self) -> dict:
        return asdict(self)


class HardwareReportInvalid(AdvisorValidationError):
    """A report that failed validation: ``errors`` maps each dotted field path to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        field, messages = next(iter(self.errors.items()))
        more = sum(len(m) for m in self.errors.values()) - 1
        self.message = f"Invalid report: {field}: {messages[0]}" + (
            f" (and {more} more)" if more else ""
        )
        self.args = (self.message,)


def hardware_report_load_json(*, text: str | bytes) -> dict:
    """Parse an uploaded report file. Raises AdvisorError(field="report") if it is not JSON."""
    if len(text) > MAX_REPORT_BYTES:
        raise AdvisorError(
            f"The report is larger than {MAX_REPORT_BYTES // 1000} kB.", field=REPORT_FIELD
        )
    try:
        data = json_loads(text)
    except UnicodeDecodeError:
        raise AdvisorError("The report is not UTF-8 text.", field=REPORT_FIELD) from None
    except json.JSONDecodeError as exc:
        raise AdvisorError(
            f"The report is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
            field=REPORT_FIELD,
        ) from None
    except JsonTooDeep as exc:
        raise AdvisorError(
            f"The report is not a hardware report: {exc}.", field=REPORT_FIELD
        ) from None
    return data


def hardware_report_validate(*, report: object) -> dict:
    """Validate a report and match its GPUs to the catalog; returns the normalized report.

    Raises HardwareReportInvalid (an AdvisorValidationError) mapping each bad field's dotted path (``gpus.0.name``) to its
    messages (``report`` when the whole thing is wrong).
    """
    try:
        size = len(json.dumps(report))
    except (TypeError, ValueError):
        raise AdvisorError("The report is not JSON data.", field=REPORT_FIELD) from None
    if size > MAX_REPORT_BYTES:
        raise AdvisorError(
            f"The report is larger than {MAX_REPORT_BYTES // 1000} kB.", field=REPORT_FIELD
        )
    try:
        validated = validate_report(report)
    except ReportError as exc:
        errors: dict[str, list[str]] = {}
        for field, message in exc.errors:
            errors.setdefault(field or REPORT_FIELD, []).append(message)
        raise HardwareReportInvalid(errors) from None
    validated["gpus"] = match_gpus([{**gpu, "catalog_id": None} for gpu in validated["gpus"]])
    return validated


def hardware_report_create(
    *, report: object, source: HardwareSource | str, owner=None, visitor: str = ""
) -> HardwareReport:
    """Validate ``report`` (see ``hardware_report_validate``) and store it; nothing is stored when
    it is invalid. Raises AdvisorError(field="source") for an unknown source."""
    try:
        source = HardwareSource(source)
    except ValueError:
        choices = ", ".join(HardwareSource.values)
        raise AdvisorError(
            f"Unknown source {source!r}; use one of {choices}.", field="source"
        ) from None
    return hardware_report_store(
        report=hardware_report_validate(report=report), source=source, owner=owner, visitor=visitor
    )


def hardware_report_store(
    *, report: dict, source: HardwareSource, owner=None, visitor: str = ""
) -> HardwareReport:
    """Store a report ``hardware_report_validate`` returned (the caller owns the transaction)."""
    return HardwareReport.objects.create(
        owner=owner,
        visitor="" if owner is not None else visitor,
        source=source,
        host_name=report["host"]["hostname"][:255],
        schema_version=report["schema_version"],
        report=report,
    )


def _server_urls(urls: list[str] | tuple[str, ...]) -> list[str]:
    """Normalize user-given server URLs and hold them to the load-test allow-list
    (``ADVISOR_LOADTEST_ALLOWED_HOSTS``, loopback by default): probing is a GET from this host,
    so an arbitrary URL would let a user reach internal services. AdvisorError(field="server_urls").
    """
    checked = []
    for url in urls:
        try:
            normalized = servers.normalize_url(url)
            check_target(normalized, allowed_hosts=settings.ADVISOR_LOADTEST_ALLOWED_HOSTS)
        except ValueError as exc:
            raise AdvisorError(str(exc), field="server_urls") from None
        except AdvisorError as exc:
            raise AdvisorError(exc.message, field="server_urls") from None
        checked.append(normalized)
    return checked


def hardware_report_collect(*, server_urls: list[str] | tuple[str, ...] = ()) -> dict:
    """Run the probes on this host and return the report (not stored); what a worker answers.

    Raises AdvisorError(field="server_urls") for a URL that is not http(s).
    """
    # Checked twice: here for a clear field error before anything runs, and by the probe itself on
    # the addresses it connects to (probes/outbound.py), so a name that resolves elsewhere by
    # then reaches nothing.
    allowed = AllowList.parse(settings.ADVISOR_LOADTEST_ALLOWED_HOSTS)
    return collect_report(server_urls=_server_urls(server_urls), server_check=allowed.check)


def hardware_report_probe_local(
    *, owner=None, visitor: str = "", server_urls: list[str] | tuple[str, ...] = ()
) -> HardwareReport:
    """Probe the advisor's own host, in this process, and store the report (source ``local``)."""
    report = hardware_report_collect(server_urls=server_urls)
    return hardware_report_create(
        report=report, source=HardwareSource.LOCAL, owner=owner, visitor=visitor
    )


def hardware_report_probe_remote(
    *,
    host: str,
    owner=None,
    visitor: str = "",
    server_urls: list[str] | tuple[str, ...] = (),
    timeout: float = REMOTE_PROBE_TIMEOUT_S,
) -> HardwareReport:
    """Ask the worker listening on ``host.<host>`` to probe its machine; store what it answers.

    Waits up to ``timeout`` seconds. Raises AdvisorError(field="host") for a bad name, when no
    worker answers in time (the message says how to start one) or when the probe failed there.
    """
    if not HOST_NAME_PATTERN.match(host or ""):
        raise AdvisorError(
            "A host name is letters, digits, '.', '_' or '-' (at most 100).", field="host"
        )
    urls = _server_urls(server_urls)
    queue = f"{HOST_QUEUE_PREFIX}{host}"
    try:
        result = app.send_task(
            PROBE_TASK, kwargs={"server_urls": urls}, queue=queue, expires=timeout
        )
    except Exception as exc:  # broker down or unreachable: say so instead of a server error
        raise AdvisorError(f"The message broker is unavailable: {exc}", field="host") from None
    try:
        report = result.get(timeout=timeout, propagate=True, disable_sync_subtasks=False)
    except CeleryTimeout:
        raise AdvisorError(
            f"No worker answered on queue {queue} within {timeout:g} s. Start one on that host "
            f"with: celery -A advisor worker -Q {queue}",
            field="host",
        ) from None
    except Exception as exc:
        raise AdvisorError(f"The probe failed on {host}: {exc}", field="host") from None
    finally:
        with contextlib.suppress(Exception):
            result.forget()  # the report is kept in the database, not in the result backend
    return hardware_report_create(
        report=report, source=HardwareSource.REMOTE, owner=owner, visitor=visitor
    )


def hardware_hosts_list(*, timeout: float = INSPECT_TIMEOUT_S) -> list[RemoteHost]:
    """Hosts with a live worker on a ``host.<name>`` queue, by name; [] when the broker cannot
    broadcast (the embedded filesystem broker) or nobody answers within ``timeout``."""
    try:
        replies = app.control.inspect(timeout=timeout).active_queues() or {}
    except Exception:  # no broadcast support, broker down: no remote hosts to offer
        return []
    workers_by_host: dict[str, list[str]] = {}
    for worker, queues in replies.items():
        for queue in queues or []:
            name = str(queue.get("name", ""))
            if name.startswith(HOST_QUEUE_PREFIX) and len(name) > len(HOST_QUEUE_PREFIX):
                workers_by_host.setdefault(name[len(HOST_QUEUE_PREFIX) :], []).append(worker)
    return [
        RemoteHost(name=name, queue=f"{HOST_QUEUE_PREFIX}{name}", workers=tuple(sorted(workers)))
        for name, workers in sorted(workers_by_host.items())
    ]


def hardware_report_list(*, owner=None) -> QuerySet[HardwareReport]:
    """Stored reports, newest first; only ``owner``'s (and unowned ones) when an owner is given."""
    reports = HardwareReport.objects.all()
    if owner is not None:
        reports = reports.filter(Q(owner=owner) | Q(owner__isnull=True))
    return reports.order_by("-created_at")
