"""URL map. Each area adds its own module under advisor/views or advisor/api and one line here."""

from django.contrib import admin
from django.urls import path

from advisor.views import health, home

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
