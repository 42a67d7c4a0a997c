"""Stored rows: hardware reports, assessments with their recommendation, load tests, API tokens.

Rows hold the results of the pure core as JSON (the dataclasses' ``as_dict()``), plus the few
columns that lists and filters need. Behaviour lives in ``advisor/services``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from probes.kinds import Backend

BACKEND_CHOICES = [(backend.value, backend.label) for backend in Backend]


class HardwareSource(models.TextChoices):
    LOCAL = "local", "Probed on the advisor's host"
    UPLOAD = "upload", "Uploaded report"
    REMOTE = "remote", "Probed by a remote worker"


class HardwareReport(models.Model):
    """One ``python -m probes --json`` report (schema documented in the README)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Made anonymously: the browser session's visitor key (advisor.views.access.visitor_of).
    visitor = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=16, choices=HardwareSource.choices)
    host_name = models.CharField(max_length=255, blank=True)
    schema_version = models.PositiveIntegerField(default=1)
    report = models.JSONField()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.host_name or 'unknown host'} ({self.get_source_display()})"


class LoadTestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class LoadTest(models.Model):
    """A load test run against one endpoint; its levels are ``LoadTestLevel`` rows."""

    FINISHED = (LoadTestStatus.SUCCEEDED, LoadTestStatus.FAILED, LoadTestStatus.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Made anonymously: the browser session's visitor key (advisor.views.access.visitor_of).
    visitor = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # the reaper's liveness signal
    status = models.CharField(
        max_length=16, choices=LoadTestStatus.choices, default=LoadTestStatus.QUEUED
    )
    base_url = models.URLField(max_length=500)
    api = models.CharField(max_length=16, default="auto")  # auto | openai | ollama
    backend_kind = models.CharField(max_length=32, blank=True)  # ollama | vllm | llamacpp | openai
    model_name = models.CharField(max_length=255, blank=True)
    queue = models.CharField(max_length=128, blank=True)  # host.<name> to run next to the server
    config = models.JSONField(default=dict)  # levels, requests, SLOs, prompt and output lengths
    progress = models.JSONField(default=dict)  # levels_done/total, requests_done/total
    result = models.JSONField(null=True, blank=True)  # the engine's whole result, as JSON
    # The hardware it ran on (advisor.rules.measured_on.MeasuredOn.as_dict()), set when created;
    # null for rows stored before it existed, which then count as unknown hardware.
    measured_on = models.JSONField(null=True, blank=True)
    stopped_reason = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    task_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.backend_kind or self.api} {self.base_url} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class LoadTestLevel(models.Model):
    """One level of a sweep: a concurrency (closed loop) or an arrival rate (open loop)."""

    load_test = models.ForeignKey(LoadTest, related_name="levels", on_delete=models.CASCADE)
    index = models.PositiveIntegerField()
    concurrency = models.PositiveIntegerField(null=True, blank=True)
    request_rate = models.FloatField(null=True, blank=True)
    requests = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    duration_s = models.FloatField(default=0.0)
    request_throughput = models.FloatField(default=0.0)
    output_token_throughput = models.FloatField(default=0.0)
    metrics = models.JSONField(default=dict)  # ttft_ms, itl_ms, tpot_ms, e2el_ms, errors, goodput

    class Meta:
        ordering = ["load_test", "index"]
        constraints = [
            models.UniqueConstraint(fields=["load_test", "index"], name="unique_level_index")
        ]


class Assessment(models.Model):
    """A user's questionnaire answers, with the hardware report and load tests attached to them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Made anonymously: the browser session's visitor key (advisor.views.access.visitor_of).
    visitor = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    title = models.CharField(max_length=200, blank=True)
    answers = models.JSONField()
    hardware_report = models.ForeignKey(
        HardwareReport, null=True, blank=True, on_delete=models.SET_NULL
    )
    load_tests = models.ManyToManyField(LoadTest, blank=True, related_name="assessments")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title or f"Assessment {self.id}"


class Recommendation(models.Model):
    """The rules engine's verdict for one assessment, with the capacity estimate behind it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    assessment = models.ForeignKey(
        Assessment, related_name="recommendations", on_delete=models.CASCADE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    backend = models.CharField(max_length=16, choices=BACKEND_CHOICES)
    confidence = models.FloatField()
    result = models.JSONField()  # the Recommendation dataclass as JSON
    estimate = models.JSONField(null=True, blank=True)  # the capacity estimate as JSON

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_backend_display()} ({self.confidence:.0%})"


class ApiToken(models.Model):
    """A named API token for scripts. Only a hash of the secret is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="api_tokens", on_delete=models.CASCADE
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)  # shown in lists, never the secret
    key_hash = models.CharField(max_length=128, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
