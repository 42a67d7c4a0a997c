"""Sign in and out (django.contrib.auth) for deployments with ``ADVISOR_REQUIRE_LOGIN=true``."""

from django.contrib.auth import views as auth_views

login = auth_views.LoginView.as_view(template_name="registration/login.html")
logout = auth_views.LogoutView.as_view()  # POST only (Django 5), redirects to LOGOUT_REDIRECT_URL
