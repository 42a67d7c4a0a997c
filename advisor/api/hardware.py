"""``/api/v1/hardware-reports/``: upload a probe report, read one, probe this or a remote host."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from advisor.api.broker import require_broker
from advisor.api.serializers import StrictInputSerializer
from advisor.api.throttling import SettingsScopedRateThrottle, ThrottleScope
from advisor.models import HardwareReport, HardwareSource
from advisor.services.hardware import (
    hardware_hosts_list,
    hardware_report_create,
    hardware_report_probe_local,
    hardware_report_probe_remote,
)

REPORT_EXAMPLE = {
    "schema_version": 1,
    "collected_at": "2026-11-24T12:00:00+00:00",
    "host": {"hostname": "gpu-box-1", "os": "Linux", "os_version": "Ubuntu 24.04"},
    "memory": {"total_bytes": 270582939648},
    "gpus": [
        {
            "vendor": "nvidia",
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "memory_total_bytes": 85520809984,
        }
    ],
}


class HardwareReportOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    source = serializers.ChoiceField(choices=HardwareSource.choices)
    host_name = serializers.CharField()
    schema_version = serializers.IntegerField()
    report = serializers.JSONField(
        help_text="The validated report (probes schema, docs/probes.md)."
    )


def own_reports(request):
    return HardwareReport.objects.filter(owner=request.user)


class HardwareReportListCreateApi(ListAPIView):
    """``GET``: your reports, newest first. ``POST``: upload one (the body is the report itself)."""

    serializer_class = HardwareReportOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no queries, no broker
            return []
        return own_reports(self.request)

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={201: HardwareReportOutputSerializer},
        examples=[
            OpenApiExample("python -m probes --json", value=REPORT_EXAMPLE, request_only=True)
        ],
        summary="Upload a hardware report",
    )
    def post(self, request):
        """Store the output of ``python -m probes --json``; bad fields come back as dotted paths
        (``gpus.0.memory_total_bytes``) under ``errors``."""
        report = hardware_report_create(
            report=request.data, source=HardwareSource.UPLOAD, owner=request.user
        )
        return Response(HardwareReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)


class HardwareReportDetailApi(APIView):
    @extend_schema(
        responses={200: HardwareReportOutputSerializer}, summary="Read a hardware report"
    )
    def get(self, request, pk):
        report = get_object_or_404(own_reports(request), pk=pk)
        return Response(HardwareReportOutputSerializer(report).data)


class HardwareProbeApi(APIView):
    """Probe the advisor's own host (no ``host``), or the host whose worker listens on
    ``host.<name>`` (through the broker; waits up to 20 s for it to answer)."""

    throttle_classes = [SettingsScopedRateThrottle]
    throttle_scope = ThrottleScope.PROBES
    needs_broker = True

    class InputSerializer(StrictInputSerializer):
        host = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=100,
            help_text="Remote host name (its worker runs with -Q host.<name>); empty: this host.",
        )
        server_urls = serializers.ListField(
            child=serializers.CharField(max_length=500),
            required=False,
            max_length=16,
            help_text="Inference servers to probe too, e.g. http://127.0.0.1:11434.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: HardwareReportOutputSerializer},
        examples=[
            OpenApiExample("This host", value={}, request_only=True),
            OpenApiExample(
                "A GPU server's worker",
                value={"host": "gpu-box-1", "server_urls": ["http://127.0.0.1:8000"]},
                request_only=True,
            ),
        ],
        summary="Probe a host",
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        host = data.validated_data.get("host", "").strip()
        urls = data.validated_data.get("server_urls", [])
        if host:
            require_broker()
            report = hardware_report_probe_remote(host=host, owner=request.user, server_urls=urls)
        else:
            report = hardware_report_probe_local(owner=request.user, server_urls=urls)
        return Response(HardwareReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)


class RemoteHostOutputSerializer(serializers.Serializer):
    name = serializers.CharField()
    queue = serializers.CharField()
    workers = serializers.ListField(child=serializers.CharField())


class HardwareHostListApi(ListAPIView):
    """Hosts with a live worker on a ``host.<name>`` queue (empty with the embedded broker)."""

    serializer_class = RemoteHostOutputSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no queries, no broker
            return []
        return hardware_hosts_list()
