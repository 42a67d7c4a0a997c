"""Run by tests/ops/test_broker_down.py in a fresh interpreter whose broker URL points at a closed
loopback port: prints what each request answered, as JSON."""

import json

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from advisor.models import LoadTest  # noqa: E402
from advisor.services.tokens import api_token_create  # noqa: E402
from tests.api.factories import make_user  # noqa: E402

call_command("migrate", verbosity=0)
client = Client(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=make_user(), name='t').secret}")
load_test = {"base_url": "http://127.0.0.1:9", "model": "tiny"}
answers = {"model": "llama-3.1-8b", "gpu": "h100", "gpu_count": 1}
answered = {
    "load_test": client.post("/api/v1/load-tests/", load_test, content_type="application/json"),
    "remote_probe": client.post(
        "/api/v1/hardware-reports/probe/", {"host": "gpu-box-1"}, content_type="application/json"
    ),
    "recommendation": client.post(
        "/api/v1/recommendations/", answers, content_type="application/json"
    ),
    "catalog": client.get("/api/v1/catalog/gpus/"),
    "healthz": client.get("/healthz"),
    "login_page": client.get("/accounts/login/"),
    "api_docs": client.get("/api/docs/"),
    "home_page": client.get("/"),
    "web_load_test": Client().post(
        "/loadtests/new/",
        {"base_url": "http://127.0.0.1:9", "model": "tiny", "api": "auto", "concurrency": "1"},
    ),
}
summary = {
    name: {
        "status": response.status_code,
        "body": response.json() if "json" in response["Content-Type"] else None,
    }
    for name, response in answered.items()
}
summary["web_load_test"]["says_broker"] = (
    "broker (Redis) is unavailable" in answered["web_load_test"].content.decode()
)
summary["load_tests_stored"] = LoadTest.objects.count()
print(json.dumps(summary))
