"""The OpenAPI schema, its offline viewers, and Schemathesis against the live schema.

Schemathesis loads ``/api/schema/`` from the running app (WSGI, in process: nothing leaves the
machine), generates requests for every operation (a bounded number per operation) and checks that
no answer is a 5xx and that every answer (status, content type, body) matches the schema.
"""

import re

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from tests.api.factories import make_token

pytestmark = pytest.mark.django_db

# Enough to exercise each operation's fields and errors while the suite stays fast on 2 cores.
MAX_EXAMPLES_PER_OPERATION = 12


def test_it_serves_an_openapi_3_schema_with_every_endpoint(anon):
    response = anon.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/catalog/models/" in schema["paths"]
    assert schema["components"]["securitySchemes"]["ApiToken"]["scheme"] == "bearer"
    assert "Error" in schema["components"]["schemas"]


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_it_serves_the_viewers_from_local_static_files(anon, page):
    html = anon.get(page).content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets, html[:500]
    assert not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        assert anon.get(asset).status_code == 200, asset


# Loaded from the live app when the module is collected (pytest-django has set Django up by then).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_it_conforms_to_its_own_schema(case):
    # Passing the token explicitly also lets Schemathesis check that the same request without a
    # token, and with a wrong one, is refused (its ignored_auth check).
    headers = {"Authorization": f"Bearer {make_token(name='schemathesis')}"}
    response = case.call(headers=headers)
    case.validate_response(response, headers=headers)
