"""API routes: ``/api/v1/...`` endpoints, the OpenAPI schema and its offline viewers.

Mounted by one line in ``advisor/urls.py``: ``path("api/", include("advisor.api.urls"))``.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from advisor.api import (
    catalog,
    errors,
    estimates,
    hardware,
    loadtests,
    recommendations,
    rules,
    tokens,
)

v1 = [
    path("catalog/models/", catalog.ModelListApi.as_view(), name="api-catalog-models"),
    path("catalog/gpus/", catalog.GpuListApi.as_view(), name="api-catalog-gpus"),
    path(
        "hardware-reports/",
        hardware.HardwareReportListCreateApi.as_view(),
        name="api-hardware-report-list",
    ),
    path("hardware-reports/probe/", hardware.HardwareProbeApi.as_view(), name="api-hardware-probe"),
    path(
        "hardware-reports/hosts/", hardware.HardwareHostListApi.as_view(), name="api-hardware-hosts"
    ),
    path(
        "hardware-reports/<uuid:pk>/",
        hardware.HardwareReportDetailApi.as_view(),
        name="api-hardware-report",
    ),
    path("load-tests/", loadtests.LoadTestListCreateApi.as_view(), name="api-load-test-list"),
    path("load-tests/<uuid:pk>/", loadtests.LoadTestDetailApi.as_view(), name="api-load-test"),
    path(
        "load-tests/<uuid:pk>/cancel/",
        loadtests.LoadTestCancelApi.as_view(),
        name="api-load-test-cancel",
    ),
    path(
        "recommendations/",
        recommendations.RecommendationListCreateApi.as_view(),
        name="api-recommendation-list",
    ),
    path(
        "recommendations/<uuid:pk>/",
        recommendations.RecommendationDetailApi.as_view(),
        name="api-recommendation",
    ),
    path(
        "recommendations/<uuid:pk>/bundle/",
        recommendations.RecommendationBundleApi.as_view(),
        name="api-recommendation-bundle",
    ),
    path(
        "recommendations/<uuid:pk>/bundle.zip",
        recommendations.RecommendationBundleZipApi.as_view(),
        name="api-recommendation-bundle-zip",
    ),
    path("estimates/", estimates.EstimateApi.as_view(), name="api-estimates"),
    path("rules/", rules.RuleListApi.as_view(), name="api-rules"),
    path("tokens/", tokens.TokenListApi.as_view(), name="api-token-list"),
    path("tokens/<int:pk>/revoke/", tokens.TokenRevokeApi.as_view(), name="api-token-revoke"),
]

urlpatterns = [
    path("v1/", include(v1)),
    path(
        "schema/",
        SpectacularAPIView.as_view(permission_classes=[AllowAny], authentication_classes=[]),
        name="api-schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-docs",
    ),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api-schema", permission_classes=[AllowAny]),
        name="api-redoc",
    ),
    # Anything else under /api/ is a JSON 404 in the error shape, not Django's HTML page.
    re_path(r"^", errors.not_found, name="api-not-found"),
]
