"""``/api/v1/recommendations/``: answer the questionnaire, get the verdict, download the bundle.

The input is the questionnaire (``advisor.rules.answers.ANSWER_FIELDS``: one serializer field per
question, generated so the schema and the form never drift apart) plus the attachments: a stored
``hardware_report`` id or an inline ``hardware`` report, and finished ``load_tests`` ids.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor.api.pagination import reject_unknown_query_parameters
from advisor.api.schema import ErrorSerializer
from advisor.api.serializers import StrictInputSerializer
from advisor.api.throttling import SettingsScopedRateThrottle, ThrottleScope
from advisor.errors import AdvisorError
from advisor.models import BACKEND_CHOICES, HardwareReport, LoadTest, Recommendation
from advisor.rules.answers import ANSWER_FIELDS, AnswerField
from advisor.rules.questions import MAX_PASTED_CHARS, MAX_VLLM_VERSION_CHARS
from advisor.services.assessments import MAX_LOAD_TESTS, recommendation_create
from advisor.services.bundles import bundle_for_recommendation
from probes.kinds import Backend

ATTACHMENT_FIELDS = ("title", "hardware_report", "hardware", "load_tests")


def _answer_field(spec: AnswerField) -> serializers.Field:
    """The serializer field for one question: types and bounds here, meaning in ``Answers.parse``."""
    common = {"required": False, "help_text": f"{spec.label}. {spec.help}"}
    if spec.default is None:
        common["allow_null"] = True
    bounds = {}
    if spec.minimum is not None:
        bounds["min_value"] = spec.minimum
    if spec.maximum is not None:
        bounds["max_value"] = spec.maximum
    values = [value for value, _ in spec.choices]
    if spec.kind == "choice":
        return serializers.ChoiceField(choices=values, **common)
    if spec.kind == "multi_choice":
        return serializers.ListField(child=serializers.ChoiceField(choices=values), **common)
    if spec.kind == "int":
        return serializers.IntegerField(**bounds, **common)
    if spec.kind == "float":
        return serializers.FloatField(**bounds, **common)
    if spec.kind == "object":
        return serializers.DictField(**common)
    if spec.kind == "paste":  # pasted server output: its line breaks are what the parser reads
        return serializers.CharField(max_length=MAX_PASTED_CHARS, trim_whitespace=False, **common)
    if spec.kind == "text":
        return serializers.CharField(max_length=MAX_VLLM_VERSION_CHARS, **common)
    return serializers.CharField(max_length=200, **common)  # a catalog name


class RecommendationInputSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    hardware_report = serializers.UUIDField(
        required=False, allow_null=True, help_text="A stored hardware report of yours."
    )
    hardware = serializers.DictField(
        required=False,
        allow_null=True,
        help_text="An inline report (python -m probes --json); stored as an upload.",
    )
    load_tests = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=MAX_LOAD_TESTS,
        help_text="Finished load tests of yours to weigh as measured evidence.",
    )

    def get_fields(self):
        fields = super().get_fields()
        fields.update({spec.name: _answer_field(spec) for spec in ANSWER_FIELDS})
        return fields

    def validate(self, attrs):
        if attrs.get("hardware_report") and attrs.get("hardware"):
            raise serializers.ValidationError(
                {"hardware": ["Send a hardware_report id or an inline report, not both."]}
            )
        return attrs


class RecommendationOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    backend = serializers.ChoiceField(choices=BACKEND_CHOICES)
    confidence = serializers.FloatField()
    assessment = serializers.UUIDField(source="assessment.id")
    title = serializers.CharField(source="assessment.title")
    answers = serializers.JSONField(source="assessment.answers")
    hardware_report = serializers.UUIDField(source="assessment.hardware_report_id", allow_null=True)
    load_tests = serializers.SerializerMethodField()
    result = serializers.JSONField(help_text="The verdict: reasons, warnings, comparison, fit...")
    estimate = serializers.JSONField(allow_null=True, help_text="The capacity estimate behind it.")
    links = serializers.SerializerMethodField()

    def get_load_tests(self, recommendation) -> list[str]:
        return [str(pk) for pk in recommendation.assessment.load_tests.values_list("pk", flat=True)]

    def get_links(self, recommendation) -> dict[str, str]:
        base = f"/api/v1/recommendations/{recommendation.pk}/"
        return {"self": base, "bundle": f"{base}bundle/", "bundle_zip": f"{base}bundle.zip"}


def own_recommendations(request):
    return Recommendation.objects.filter(assessment__owner=request.user).select_related(
        "assessment"
    )


def _attachments(request, data: dict) -> tuple[HardwareReport | None, list[LoadTest]]:
    """The caller's own stored hardware report and load tests named in ``data``; AdvisorError
    naming the field when one is missing or someone else's."""
    report = None
    if data.get("hardware_report"):
        report = HardwareReport.objects.filter(
            pk=data["hardware_report"], owner=request.user
        ).first()
        if report is None:
            raise AdvisorError("You have no hardware report with that id.", field="hardware_report")
    wanted = list(dict.fromkeys(data.get("load_tests") or []))
    tests = list(LoadTest.objects.filter(pk__in=wanted, owner=request.user)) if wanted else []
    if len(tests) != len(wanted):
        missing = sorted({str(pk) for pk in wanted} - {str(t.pk) for t in tests})
        raise AdvisorError(f"You have no load test {missing[0]}.", field="load_tests")
    return report, tests


EXAMPLE_ANSWERS = {
    "use_case": "production",
    "peak_concurrent_users": 40,
    "model": "llama-3.1-8b",
    "gpu": "h100",
    "gpu_count": 1,
    "deployment_target": "server",
}


class RecommendationListCreateApi(ListAPIView):
    """``GET``: your recommendations, newest first. ``POST``: answer the questionnaire."""

    serializer_class = RecommendationOutputSerializer
    throttle_scope = ThrottleScope.RECOMMENDATIONS

    def get_throttles(self):
        return [SettingsScopedRateThrottle()] if self.request.method == "POST" else []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Recommendation.objects.none()
        return own_recommendations(self.request)

    @extend_schema(
        request=RecommendationInputSerializer,
        responses={201: RecommendationOutputSerializer},
        examples=[
            OpenApiExample("A team serving 40 users", value=EXAMPLE_ANSWERS, request_only=True)
        ],
        summary="Get a recommendation",
    )
    def post(self, request):
        """Validate the answers (every bad field at once), weigh the attachments, store and return
        the verdict: Ollama or vLLM, with confidence, reasons and the capacity estimate."""
        data = RecommendationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if v is not None}
        answers = {k: v for k, v in values.items() if k not in ATTACHMENT_FIELDS}
        report, tests = _attachments(request, values)
        recommendation = recommendation_create(
            answers=answers,
            hardware_report=report,
            hardware=values.get("hardware"),
            load_tests=tests,
            owner=request.user,
            title=values.get("title", ""),
        )
        body = RecommendationOutputSerializer(recommendation).data
        return Response(
            body, status=status.HTTP_201_CREATED, headers={"Location": body["links"]["self"]}
        )


class RecommendationDetailApi(APIView):
    @extend_schema(responses={200: RecommendationOutputSerializer}, summary="Read a recommendation")
    def get(self, request, pk):
        recommendation = get_object_or_404(own_recommendations(request), pk=pk)
        return Response(RecommendationOutputSerializer(recommendation).data)


BACKEND_PARAMETER = OpenApiParameter(
    "backend",
    enum=[b.value for b in Backend],
    required=False,
    description="Render the other server's files instead of the recommended one's.",
)


def _bundle(request, pk):
    reject_unknown_query_parameters(request, {"backend"})
    recommendation = get_object_or_404(own_recommendations(request), pk=pk)
    backend = request.query_params.get("backend") or None
    if backend is not None and backend not in list(Backend):
        raise AdvisorError(f"Unknown backend {backend!r}; use ollama or vllm.", field="backend")
    return bundle_for_recommendation(recommendation=recommendation, backend=backend)


class BundleFileOutputSerializer(serializers.Serializer):
    path = serializers.CharField()
    content = serializers.CharField()
    mode = serializers.CharField(help_text="Octal permission bits, e.g. 0o755.")
    executable = serializers.BooleanField()
    description = serializers.CharField()


class BundleOutputSerializer(serializers.Serializer):
    root = serializers.CharField()
    backend = serializers.ChoiceField(choices=BACKEND_CHOICES)
    filename = serializers.CharField()
    files = BundleFileOutputSerializer(many=True)


class RecommendationBundleApi(APIView):
    @extend_schema(
        parameters=[BACKEND_PARAMETER],
        responses={200: BundleOutputSerializer, 400: ErrorSerializer},
        summary="List the deployment bundle's files",
    )
    def get(self, request, pk):
        """Every file of the deployment bundle with its content (what the zip holds)."""
        return Response(_bundle(request, pk).as_dict())


class RecommendationBundleZipApi(APIView):
    @extend_schema(
        parameters=[BACKEND_PARAMETER],
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The bundle as a zip archive."
            ),
            400: ErrorSerializer,
        },
        summary="Download the deployment bundle",
    )
    def get(self, request, pk):
        """The deployment bundle as a zip (byte-identical for the same recommendation)."""
        bundle = _bundle(request, pk)
        response = HttpResponse(bundle.to_zip(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{bundle.filename}"'
        return response
