"""``/api/v1/load-tests/``: start one (202), follow its progress and levels, cancel it."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor.api.broker import require_broker
from advisor.api.serializers import StrictInputSerializer
from advisor.api.throttling import SettingsScopedRateThrottle, ThrottleScope
from advisor.loadtest.config import BOUNDS, MAX_LEVELS, ApiKind, Endpoint, LoadShape
from advisor.models import LoadTest, LoadTestStatus
from advisor.rules.measured_on import MeasuredOnSource
from advisor.rules.questions import MAX_GPU_COUNT
from advisor.services.loadtests import (
    loadtest_cancel,
    loadtest_create,
    loadtest_get,
    loadtest_list,
)


class LevelOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    concurrency = serializers.IntegerField(allow_null=True)
    request_rate = serializers.FloatField(allow_null=True)
    requests = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    duration_s = serializers.FloatField()
    request_throughput = serializers.FloatField()
    output_token_throughput = serializers.FloatField()
    metrics = serializers.JSONField(help_text="ttft_ms, itl_ms, tpot_ms, e2el_ms, errors, goodput")


class MeasuredOnOutputSerializer(serializers.Serializer):
    gpu = serializers.CharField(allow_null=True, help_text="Catalog GPU id; null: CPU only.")
    gpu_count = serializers.IntegerField()
    model = serializers.CharField(help_text="Catalog model id, else the name the server knows.")
    quantization = serializers.CharField()
    source = serializers.ChoiceField(choices=[s.value for s in MeasuredOnSource])
    label = serializers.CharField()


class MeasuredOnInputSerializer(StrictInputSerializer):
    gpu = serializers.CharField(
        max_length=200, allow_null=True, help_text="The GPU the server uses; null: CPU only."
    )
    gpu_count = serializers.IntegerField(min_value=0, max_value=MAX_GPU_COUNT, required=False)
    quantization = serializers.CharField(max_length=50, required=False)


class LoadTestOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=LoadTestStatus.choices)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    base_url = serializers.CharField()
    api = serializers.CharField()
    backend_kind = serializers.CharField()
    model_name = serializers.CharField()
    queue = serializers.CharField()
    config = serializers.JSONField()
    progress = serializers.JSONField()
    levels = LevelOutputSerializer(many=True, source="levels.all")
    result = serializers.JSONField(allow_null=True)
    measured_on = MeasuredOnOutputSerializer(
        allow_null=True,
        help_text="The hardware it ran on: the target host's probe, else what you stated; "
        "null for tests stored before tests recorded it (unknown hardware: never calibrates).",
    )
    stopped_reason = serializers.CharField()
    error = serializers.CharField()
    cancel_requested = serializers.BooleanField()


def _bounded(field_class, name: str):
    """An optional number field with the core's bounds for ``name`` (``config.BOUNDS``), so the
    schema shows them; the core checks them again whoever builds the config."""
    bound = BOUNDS[name]
    if field_class is serializers.IntegerField:
        return field_class(min_value=int(bound.low), max_value=int(bound.high), required=False)
    return field_class(min_value=bound.low, max_value=bound.high, required=False)


def own_load_test(request, pk) -> LoadTest:
    try:
        load_test = loadtest_get(load_test_id=pk)
    except LoadTest.DoesNotExist:
        raise NotFound(f"You have no load test {pk}.") from None
    if load_test.owner_id != request.user.pk:
        raise NotFound(f"You have no load test {pk}.")
    return load_test


class LoadTestListCreateApi(ListAPIView):
    """``GET``: your load tests, newest first. ``POST``: start one (queued for a worker)."""

    serializer_class = LoadTestOutputSerializer
    throttle_scope = ThrottleScope.LOAD_TESTS
    needs_broker = True

    def get_throttles(self):
        # Only starting a test is throttled (tighter than recommendations); reading is free.
        return [SettingsScopedRateThrottle()] if self.request.method == "POST" else []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no queries, no broker
            return []
        return loadtest_list(owner=self.request.user).prefetch_related("levels")

    class InputSerializer(StrictInputSerializer):
        base_url = serializers.URLField(
            max_length=500, help_text="The server, e.g. http://127.0.0.1:11434"
        )
        model = serializers.CharField(max_length=255, help_text="The model name the server knows.")
        api = serializers.ChoiceField(choices=[k.value for k in ApiKind], required=False)
        endpoint = serializers.ChoiceField(choices=[e.value for e in Endpoint], required=False)
        shape = serializers.ChoiceField(choices=[s.value for s in LoadShape], required=False)
        concurrency = serializers.ListField(
            child=_bounded(serializers.IntegerField, "concurrency"),
            min_length=1,
            max_length=MAX_LEVELS,
            required=False,
        )
        requests_per_level = _bounded(serializers.IntegerField, "requests_per_level")
        duration_s = _bounded(serializers.FloatField, "duration_s")
        warmup = _bounded(serializers.IntegerField, "warmup")
        max_tokens = _bounded(serializers.IntegerField, "max_tokens")
        prompt_tokens = _bounded(serializers.IntegerField, "prompt_tokens")
        rate = _bounded(serializers.FloatField, "rate")
        slo_ttft_ms = _bounded(serializers.FloatField, "slo_ttft_ms")
        slo_tpot_ms = _bounded(serializers.FloatField, "slo_tpot_ms")
        slo_e2e_ms = _bounded(serializers.FloatField, "slo_e2e_ms")
        max_duration_s = _bounded(serializers.FloatField, "max_duration_s")
        api_key = serializers.CharField(
            required=False,
            write_only=True,
            max_length=500,
            help_text="Sent to the server; never stored.",
        )
        queue = serializers.RegexField(
            r"^host\.[A-Za-z0-9_.-]{1,100}$",
            required=False,
            help_text="host.<name> to run on the worker next to the server; default: any worker.",
        )
        measured_on = MeasuredOnInputSerializer(
            required=False,
            help_text="The hardware the server runs on, when no stored probe of its host says: "
            "only measurements on a recommendation's own GPU model, GPU count, model and "
            "quantization calibrate it. A probe of the target host wins over this.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={202: LoadTestOutputSerializer},
        examples=[
            OpenApiExample(
                "A quick sweep of a local Ollama",
                value={
                    "base_url": "http://127.0.0.1:11434",
                    "model": "llama3.1:8b",
                    "concurrency": [1, 2, 4],
                    "requests_per_level": 8,
                },
                request_only=True,
            )
        ],
        summary="Start a load test",
    )
    def post(self, request):
        """Queue a load test after the policy allowed its target (loopback by default) and size.
        Answers 202 with the row; poll ``GET /load-tests/{id}/`` until ``status`` is final."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        config = dict(data.validated_data)
        queue = config.pop("queue", "")
        stated = config.pop("measured_on", None)
        require_broker()
        load_test = loadtest_create(owner=request.user, config=config, queue=queue, stated=stated)
        body = LoadTestOutputSerializer(load_test).data
        return Response(
            body,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/load-tests/{load_test.pk}/"},
        )


class LoadTestDetailApi(APIView):
    @extend_schema(responses={200: LoadTestOutputSerializer}, summary="Read a load test")
    def get(self, request, pk):
        """Status, progress (levels and requests done of total), finished levels and the result."""
        return Response(LoadTestOutputSerializer(own_load_test(request, pk)).data)


class LoadTestCancelApi(APIView):
    @extend_schema(
        request=None, responses={202: LoadTestOutputSerializer}, summary="Cancel a load test"
    )
    def post(self, request, pk):
        """Stop a test: a queued one at once, a running one within 2 s. Finished tests are left
        as they are (the answer shows their final status)."""
        load_test = loadtest_cancel(load_test=own_load_test(request, pk))
        return Response(LoadTestOutputSerializer(load_test).data, status=status.HTTP_202_ACCEPTED)
