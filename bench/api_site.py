"""The WSGI app ``bench/api.py`` serves with gunicorn: the advisor itself, plus one minimal Django
JSON view at ``/bench/minimal`` that goes through the same middleware stack, as the baseline."""

from django.core.wsgi import get_wsgi_application
from django.http import JsonResponse
from django.urls import path

application = get_wsgi_application()


def minimal(request):
    return JsonResponse({"ok": True})


from advisor import urls  # noqa: E402  (Django is set up above)

urls.urlpatterns.insert(0, path("bench/minimal", minimal))
