"""Django settings, one module, every value from the environment (see README "Configuration")."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from advisor import config
from advisor.config import BASE_DIR, VAR_DIR, ConfigError

try:
    DEBUG = config.read_bool("DEBUG", default=False)
    ADVISOR_PRODUCTION = config.read_bool("ADVISOR_PRODUCTION", default=False)
    # A local single-user install needs no secret of its own; production must set one.
    SECRET_KEY = os.environ.get("SECRET_KEY", "") or config.LOCAL_SECRET_KEY
    ALLOWED_HOSTS = config.read_list(
        "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"]
    )
    if ADVISOR_PRODUCTION:
        config.check_production(debug=DEBUG, secret_key=SECRET_KEY, allowed_hosts=ALLOWED_HOSTS)
    DATABASES = {"default": config.database_config()}
    CELERY_BROKER_URL = config.broker_url()
    CELERY_RESULT_BACKEND = config.result_backend(CELERY_BROKER_URL)
    ADVISOR_REQUIRE_LOGIN = config.read_bool("ADVISOR_REQUIRE_LOGIN", default=False)
    ADVISOR_LOADTEST_ALLOWED_HOSTS = config.read_list(
        "ADVISOR_LOADTEST_ALLOWED_HOSTS", ["127.0.0.0/8", "::1", "localhost"]
    )
    ADVISOR_HEALTH_TIMEOUT_S = config.read_int("ADVISOR_HEALTH_TIMEOUT_S", 2, minimum=1)
    # API: throttle rates per scope, tighter for load tests (each one drives real traffic).
    ADVISOR_THROTTLE_RATES = {
        "recommendations": config.read_rate("ADVISOR_THROTTLE_RECOMMENDATIONS", "120/min"),
        "load_tests": config.read_rate("ADVISOR_THROTTLE_LOAD_TESTS", "20/hour"),
        "probes": config.read_rate("ADVISOR_THROTTLE_PROBES", "30/hour"),
    }
    CACHES = {"default": config.cache_config()}
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain").strip().lower() or "plain"
    if LOG_FORMAT not in {"plain", "json"}:
        raise ConfigError("LOG_FORMAT", f"expected plain or json, got {LOG_FORMAT!r}")
    # Production (ADVISOR_PRODUCTION=1): HTTPS only, secure cookies, HSTS; see docs/operations.md.
    ADVISOR_SSL_REDIRECT = config.read_bool("ADVISOR_SSL_REDIRECT", default=True)
    ADVISOR_HSTS_SECONDS = config.read_int("ADVISOR_HSTS_SECONDS", 31_536_000, minimum=0)
    ADVISOR_TRUST_X_FORWARDED_PROTO = config.read_bool(
        "ADVISOR_TRUST_X_FORWARDED_PROTO", default=False
    )
    CSRF_TRUSTED_ORIGINS = config.read_list("CSRF_TRUSTED_ORIGINS", [])
except ConfigError as exc:
    raise ImproperlyConfigured(f"Bad environment setting {exc}") from None

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "advisor",
]

MIDDLEWARE = [
    "advisor.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "advisor.views.access.LoginRequiredWhenEnabled",  # ADVISOR_REQUIRE_LOGIN: deny by default
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "advisor.urls"
WSGI_APPLICATION = "advisor.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Serve static files straight from the source folders unless they were collected for production.
WHITENOISE_USE_FINDERS = not ADVISOR_PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if ADVISOR_PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Celery: reliability first. Values are read by advisor.celery via namespace "CELERY".
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is redelivered, not lost
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # long load tests must not hoard queued work
CELERY_TASK_SOFT_TIME_LIMIT = 420  # load tests cap at 300 s of traffic, plus set-up
CELERY_TASK_TIME_LIMIT = 480
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "advisor.ping": {"queue": "default"},
    "advisor.run_load_test": {"queue": "loadtests"},
    "advisor.probe_host": {"queue": "probes"},
    "advisor.*": {"queue": "default"},
}
# The load-test reaper runs on the worker side (never in a page read): beat, embedded in the main
# worker with `-B` (bin/run, deploy/compose.yaml, deploy/systemd/advisor-worker.service), sends it
# every 30 s, so a dead worker's test reads failed within 30 s of its 30 s heartbeat timeout.
# Two beats only reap twice: harmless.
CELERY_BEAT_SCHEDULE = {
    "reap-load-tests": {"task": "advisor.reap_load_tests", "schedule": 30.0},
    # Expired sessions (anonymous visitors own their rows through one) go once a day.
    "clear-sessions": {"task": "advisor.clear_sessions", "schedule": 24 * 3600.0},
}
(VAR_DIR / "celery").mkdir(parents=True, exist_ok=True)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celery" / "beat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_BROKER_URL == "filesystem://":
    CELERY_BROKER_TRANSPORT_OPTIONS = config.filesystem_transport_options()
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "advisor.logs.JsonFormatter"},  # LOG_FORMAT=json: one JSON object a line
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Sign-in (ADVISOR_REQUIRE_LOGIN=true): LoginRequiredWhenEnabled sends anonymous visitors here.
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

if ADVISOR_PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = ADVISOR_SSL_REDIRECT
    # Load balancers and Prometheus probe these over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = ADVISOR_HSTS_SECONDS
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if ADVISOR_TRUST_X_FORWARDED_PROTO:  # only behind a proxy that sets (and strips) the header
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# REST API (advisor/api): token auth, one error shape, pagination, scoped throttles.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["advisor.api.authentication.ApiTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["advisor.api.permissions.HasApiToken"],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": ADVISOR_THROTTLE_RATES,
    "DEFAULT_PAGINATION_CLASS": "advisor.api.pagination.Pagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "DEFAULT_PARSER_CLASSES": ["advisor.api.parsers.BoundedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "advisor.api.schema.AdvisorAutoSchema",
    "EXCEPTION_HANDLER": "advisor.api.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "LLM Serving Advisor API",
    "DESCRIPTION": "Ollama or vLLM? Recommendations, capacity estimates, hardware reports and "
    "load tests. Send `Authorization: Bearer <token>` (create one with `manage.py apitoken create`).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # Swagger UI and ReDoc assets from the package: works offline
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
}
