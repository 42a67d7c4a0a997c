"""The WSGI app ``bench/api.py`` serves with gunicorn: the advisor itself, plus baselines that go
through the same middleware stack:

- ``GET /bench/minimal``: a minimal Django JSON view (the baseline);
- ``POST /bench/drf-bare``: a DRF view with no authentication, permission or throttle, reading
  the JSON body and answering 201 with a constant: what DRF itself costs;
- ``POST /bench/drf-noop``: what the recommendation endpoint costs before it does any work: the
  same with its token authentication, permission and throttle. Its rate against the minimal
  view's is the ceiling for any endpoint of this API.
"""

from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

application = get_wsgi_application()

from rest_framework import status  # noqa: E402  (Django is set up above)
from rest_framework.permissions import AllowAny  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402

from advisor import urls  # noqa: E402
from advisor.api.throttling import SettingsScopedRateThrottle, ThrottleScope  # noqa: E402


def minimal(request):
    return JsonResponse({"ok": True})


class DrfNoop(APIView):
    throttle_scope = ThrottleScope.RECOMMENDATIONS
    throttle_classes = [SettingsScopedRateThrottle]

    def post(self, request):
        return Response({"ok": True, "fields": len(request.data)}, status=status.HTTP_201_CREATED)


class DrfBare(DrfNoop):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


urls.urlpatterns.insert(0, path("bench/minimal", minimal))
urls.urlpatterns.insert(0, path("bench/drf-bare", DrfBare.as_view()))
urls.urlpatterns.insert(0, path("bench/drf-noop", DrfNoop.as_view()))
