"""The web UI's pages and partials; mounted at the site root by advisor/urls.py.

Every view is wrapped in ``page``: with ADVISOR_REQUIRE_LOGIN on, it needs a signed-in user.
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
from advisor.views.access import page

urlpatterns = [
    path("status/", page(home.status), name="status"),
    path("assess/", page(questionnaire.questionnaire), name="assess"),
    path("assess/validate/", page(questionnaire.questionnaire_validate), name="assess_validate"),
    path("catalog/<slug:kind>/", page(catalog.catalog_list), name="catalog"),
    path("assessments/<uuid:pk>/", page(assessments.assessment_detail), name="assessment"),
    path(
        "assessments/<uuid:pk>/recommend/",
        page(assessments.assessment_recommend),
        name="assessment_recommend",
    ),
    path("history/", page(assessments.history), name="history"),
    path("recommendations/<uuid:pk>/bundle/", page(bundles.bundle_detail), name="bundle"),
    path("recommendations/<uuid:pk>/bundle.zip", page(bundles.bundle_zip), name="bundle_zip"),
    path("hardware/", page(hardware.hardware), name="hardware"),
    path("hardware/hosts/", page(hardware.hardware_hosts), name="hardware_hosts"),
    path("hardware/probe/", page(hardware.hardware_probe), name="hardware_probe"),
    path(
        "hardware/probe/remote/", page(hardware.hardware_probe_remote), name="hardware_probe_remote"
    ),
    path("hardware/upload/", page(hardware.hardware_upload), name="hardware_upload"),
    path("hardware/<uuid:pk>/", page(hardware.hardware_report), name="hardware_report"),
    path(
        "hardware/<uuid:pk>.json", page(hardware.hardware_report_json), name="hardware_report_json"
    ),
    path("loadtests/", page(loadtests.loadtest_list), name="loadtests"),
    path("loadtests/new/", page(loadtests.loadtest_new), name="loadtest_new"),
    path("loadtests/compare/", page(loadtests.loadtest_compare), name="loadtest_compare"),
    path("loadtests/<uuid:pk>/", page(loadtests.loadtest_detail), name="loadtest"),
    path(
        "loadtests/<uuid:pk>/cancel/", page(loadtests.loadtest_cancel_view), name="loadtest_cancel"
    ),
    path("how-we-decide/", page(rules.rules), name="rules"),
]
