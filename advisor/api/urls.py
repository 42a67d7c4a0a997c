"""API routes: ``/api/v1/...`` endpoints, the OpenAPI schema and its offline viewers.

Mounted by one line in ``advisor/urls.py``: ``path("api/", include("advisor.api.urls"))``.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from advisor.api import tokens

v1 = [
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
]
