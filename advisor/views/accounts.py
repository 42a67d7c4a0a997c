"""Sign in and out (django.contrib.auth) for deployments with ``ADVISOR_REQUIRE_LOGIN=true``.

Sign-in is throttled: after ``FAILURES_PER_USER`` wrong passwords for one user name from one
address, or ``FAILURES_PER_ADDRESS`` for any names from one address, within ``LOCKOUT_S``, that
pair (or address) is refused until the window ends, even with the right password. Counters live in
Django's cache: shared by every process when ``ADVISOR_CACHE_URL`` points at Redis (deploy/compose
sets it), per process otherwise (then each gunicorn worker allows its own count). Behind a TLS proxy
the address comes from its ``X-Forwarded-For`` (``client_address``).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.utils.decorators import method_decorator

# A person mistypes a password a few times; a script tries thousands. OWASP's Authentication
# Cheat Sheet ("Account Lockout") asks for a threshold, an observation window and a lock-out
# duration: https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html
FAILURES_PER_USER = 5  # wrong passwords for one name from one address
FAILURES_PER_ADDRESS = 20  # wrong passwords for any names from one address
LOCKOUT_S = 15 * 60  # the window counted, and how long a lock-out lasts at most
LOCKED_MESSAGE = (
    "Too many failed sign-ins from your address. Wait 15 minutes and try again, "
    "or ask an administrator to reset your password."
)


def client_address(request) -> str:
    """The client's address: behind a trusted proxy (ADVISOR_TRUST_X_FORWARDED_PROTO, the proxy
    that also sets the scheme) the last ``X-Forwarded-For`` entry, which that proxy appended
    (nginx ``$proxy_add_x_forwarded_for``, Caddy's ``reverse_proxy``); else ``REMOTE_ADDR``.
    Without this every visitor behind the proxy would share the proxy's address and one bucket."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.ADVISOR_TRUST_X_FORWARDED_PROTO and forwarded.strip():
        return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def _keys(request, username: str) -> tuple[str, str]:
    address = client_address(request)
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:{address}:{name}", f"login-failures:{address}"


def _count_failure(key: str) -> None:
    if not cache.add(key, 1, LOCKOUT_S):
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, LOCKOUT_S)


@method_decorator(login_not_required, name="dispatch")
class ThrottledLoginView(auth_views.LoginView):
    template_name = "registration/login.html"

    def post(self, request, *args, **kwargs):
        per_user, per_address = _keys(request, request.POST.get("username", ""))
        counts = cache.get_many([per_user, per_address])
        if (
            counts.get(per_user, 0) >= FAILURES_PER_USER
            or counts.get(per_address, 0) >= FAILURES_PER_ADDRESS
        ):
            # Refused before the password is checked: an unbound form, and the reason.
            form = self.get_form_class()(
                request, initial={"username": request.POST.get("username")}
            )
            context = self.get_context_data(form=form, locked=LOCKED_MESSAGE)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        for key in _keys(self.request, self.request.POST.get("username", "")):
            _count_failure(key)
        return super().form_invalid(form)

    def form_valid(self, form):
        cache.delete(_keys(self.request, form.get_user().get_username())[0])
        return super().form_valid(form)


login = ThrottledLoginView.as_view()
logout = auth_views.LogoutView.as_view()  # POST only (Django 5), redirects to LOGOUT_REDIRECT_URL
