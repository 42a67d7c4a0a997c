"""URL map. Each area adds its own module under advisor/views or advisor/api and one line here."""

from django.contrib import admin
from django.urls import include, path

from advisor import metrics
from advisor.views import accounts, health, home, tokens

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/", include("advisor.api.urls")),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("accounts/login/", accounts.login, name="login"),
    path("accounts/logout/", accounts.logout, name="logout"),
    path("api-tokens/", tokens.token_list, name="tokens"),
    path("api-tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("", include("advisor.views.urls")),  # the web UI's pages
]
