from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from advisor.services.health import health_check


@login_not_required  # load balancers and Prometheus have no session
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """JSON health: 200 when the database and broker answer, 503 otherwise (worker is advisory)."""
    health = health_check()
    return JsonResponse(health.as_dict(), status=200 if health.healthy else 503)
