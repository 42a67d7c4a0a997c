"""The web UI's pages and partials; mounted at the site root by advisor/urls.py.

With ADVISOR_REQUIRE_LOGIN on, every view here needs a signed-in user: access is denied by default
(``advisor.views.access.LoginRequiredWhenEnabled``), nothing to add per URL.
"""

from django.urls import path

from advisor.views import (
    assessments,
    bundles,
    catalog,
    hardware,
    home,
    loadtests,
    questionnaire,
    rules,
)

urlpatterns = [
    path("status/", home.status, name="status"),
    path("assess/", questionnaire.questionnaire, name="assess"),
    path("assess/validate/", questionnaire.questionnaire_validate, name="assess_validate"),
    path("catalog/<slug:kind>/", catalog.catalog_list, name="catalog"),
    path("assessments/<uuid:pk>/", assessments.assessment_detail, name="assessment"),
    path(
        "assessments/<uuid:pk>/recommend/",
        assessments.assessment_recommend,
        name="assessment_recommend",
    ),
    path("history/", assessments.history, name="history"),
    path("recommendations/<uuid:pk>/bundle/", bundles.bundle_detail, name="bundle"),
    path("recommendations/<uuid:pk>/bundle.zip", bundles.bundle_zip, name="bundle_zip"),
    path("hardware/", hardware.hardware, name="hardware"),
    path("hardware/hosts/", hardware.hardware_hosts, name="hardware_hosts"),
    path("hardware/probe/", hardware.hardware_probe, name="hardware_probe"),
    path("hardware/probe/remote/", hardware.hardware_probe_remote, name="hardware_probe_remote"),
    path("hardware/upload/", hardware.hardware_upload, name="hardware_upload"),
    path("hardware/<uuid:pk>/", hardware.hardware_report, name="hardware_report"),
    path("hardware/<uuid:pk>.json", hardware.hardware_report_json, name="hardware_report_json"),
    path("loadtests/", loadtests.loadtests_page, name="loadtests"),
    path("loadtests/new/", loadtests.loadtest_new, name="loadtest_new"),
    path("loadtests/compare/", loadtests.loadtest_compare, name="loadtest_compare"),
    path("loadtests/<uuid:pk>/", loadtests.loadtest_detail, name="loadtest"),
    path("loadtests/<uuid:pk>/cancel/", loadtests.loadtest_cancel_view, name="loadtest_cancel"),
    path("how-we-decide/", rules.rules, name="rules"),
]
