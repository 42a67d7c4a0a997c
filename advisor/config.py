"""Settings read from the environment, validated so a bad value names its variable at start-up.

Plain Python (no Django import) so that the Celery factory and the settings module share one reader.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ADVISOR_VAR_DIR", BASE_DIR / "var"))

# Schemes we know how to use; anything else is a typo or an unsupported server.
DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql", "psql"}
BROKER_SCHEMES = {"redis", "rediss", "filesystem", "memory", "amqp", "pyamqp"}


class ConfigError(Exception):
    """A setting from the environment is missing or malformed; the message names the variable."""

    def __init__(self, variable: str, problem: str):
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


env = environ.Env()

# The key a local install signs sessions with: public (it is in this file), so production refuses it.
LOCAL_SECRET_KEY = "insecure-local-only-key-set-SECRET_KEY-in-production"


def check_production(*, debug: bool, secret_key: str, allowed_hosts: list[str]) -> None:
    """Refuse settings that are unsafe on a shared server (ADVISOR_PRODUCTION on).

    Raises ``ConfigError`` naming the variable: DEBUG on (tracebacks and settings shown to anyone),
    no SECRET_KEY of its own (the local key is public, so sessions and CSRF tokens could be forged),
    or ``*`` in ALLOWED_HOSTS (any Host header accepted, so password-reset links and absolute URLs
    can point elsewhere). Django's deploy checks only warn about the first two and not the third.
    """
    if debug:
        raise ConfigError("DEBUG", "must be off when ADVISOR_PRODUCTION is on")
    if not secret_key or secret_key == LOCAL_SECRET_KEY:
        raise ConfigError(
            "SECRET_KEY", "must be set to a secret of its own when ADVISOR_PRODUCTION is on"
        )
    if any(host.strip() == "*" for host in allowed_hosts):
        raise ConfigError(
            "ALLOWED_HOSTS",
            "must name the site's host names, not '*', when ADVISOR_PRODUCTION is on",
        )


def read_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(name, f"expected true or false, got {raw!r}")


def read_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"expected an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(name, f"must be at least {minimum}, got {value}")
    return value


def read_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


# DRF's rate syntax: "<count>/<period>", the period's first letter one of s, m, h, d.
RATE_PERIODS = {"s", "m", "h", "d"}


def read_rate(name: str, default: str) -> str:
    """A throttle rate such as ``60/min`` or ``10/hour``, checked so a typo stops start-up."""
    raw = (os.environ.get(name) or default).strip()
    count, _, period = raw.partition("/")
    if not count.isdigit() or int(count) < 1 or not period or period[0] not in RATE_PERIODS:
        raise ConfigError(name, f"expected a rate like 60/min or 10/hour, got {raw!r}")
    return raw


def _check_url(name: str, raw: str, schemes: set[str]) -> str:
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ConfigError(name, f"malformed URL {raw!r} ({exc})") from None
    if parts.scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        raise ConfigError(
            name, f"unsupported scheme {parts.scheme!r} in {raw!r}; use one of {allowed}"
        )
    return raw


# The web server, the API and the worker write to one SQLite file from several processes. WAL lets
# readers run beside a writer; synchronous=NORMAL is safe in WAL mode (a power cut may lose the last
# commits, never corrupt the file) and spares an fsync per commit (13 ms on this disk, the largest
# cost of a POST /api/v1/recommendations/); IMMEDIATE takes the write lock when a transaction
# starts, so concurrent writers wait (busy timeout) instead of failing with "database is locked".
# Sources: https://www.sqlite.org/wal.html, https://www.sqlite.org/pragma.html#pragma_synchronous,
# Django 5.2 docs "SQLite notes" (init_command, transaction_mode).
SQLITE_OPTIONS = {
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}

# Keep a process's SQLite connection between requests, like the 60 s the server databases get below.
# Opening one per request costs about 1 ms of CPU under gunicorn (the file, the PRAGMAs,
# Django's SQL functions, SQLite re-reading the schema): more than the three queries of a
# recommendation. Django closes it after an error or once it is older than this.
SQLITE_CONN_MAX_AGE_S = 60


def database_config() -> dict:
    """Django DATABASES['default'] from DATABASE_URL; SQLite under var/ when unset."""
    raw = os.environ.get("DATABASE_URL", "").strip()
    if not raw:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "advisor.sqlite3"),
            "OPTIONS": SQLITE_OPTIONS,
            "CONN_MAX_AGE": SQLITE_CONN_MAX_AGE_S,
            # A file, not Django's default shared-cache in-memory database: tests run real
            # workers in threads beside the test, and shared-cache SQLite answers "database table
            # is locked" at once instead of waiting out the busy timeout as a file in WAL mode does.
            "TEST": {"NAME": str(VAR_DIR / "test-advisor.sqlite3")},
        }
    _check_url("DATABASE_URL", raw, DATABASE_SCHEMES)
    try:
        config = env.db_url_config(raw)
    except Exception as exc:  # django-environ raises several types for bad URLs
        raise ConfigError("DATABASE_URL", f"cannot parse {raw!r} ({exc})") from None
    if config["ENGINE"] != "django.db.backends.sqlite3" and not config.get("NAME"):
        raise ConfigError("DATABASE_URL", f"no database name in {raw!r}")
    config.setdefault("CONN_MAX_AGE", 60)
    return config


def broker_url() -> str:
    """CELERY_BROKER_URL, else REDIS_URL, else kombu's filesystem transport under var/."""
    for name in ("CELERY_BROKER_URL", "REDIS_URL"):
        raw = os.environ.get(name, "").strip()
        if raw:
            return _check_url(name, raw, BROKER_SCHEMES)
    return "filesystem://"


def result_backend(broker: str) -> str:
    """Where task results go: Redis next to a Redis broker, else files under var/."""
    raw = os.environ.get("CELERY_RESULT_BACKEND", "").strip()
    if raw:
        return raw
    if broker.startswith(("redis://", "rediss://")):
        return broker
    results = VAR_DIR / "celery" / "results"
    results.mkdir(parents=True, exist_ok=True)
    return f"file://{results}"


def filesystem_transport_options() -> dict:
    """kombu's filesystem transport: one shared folder works across processes on one host."""
    queue_dir = VAR_DIR / "celery" / "queue"
    processed = VAR_DIR / "celery" / "processed"
    # kombu keeps its exchange tables in ./control unless told otherwise: keep them under var/ too.
    control = VAR_DIR / "celery" / "control"
    for folder in (queue_dir, processed, control):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue_dir),
        "data_folder_out": str(queue_dir),
        "processed_folder": str(processed),
        "control_folder": str(control),
        "store_processed": False,
    }


CACHE_SCHEMES = {"redis", "rediss"}


def cache_config() -> dict:
    """Django CACHES['default']: Redis from ADVISOR_CACHE_URL (shared by every process and host,
    e.g. for API throttling), else a per-process local-memory cache that needs no server."""
    raw = os.environ.get("ADVISOR_CACHE_URL", "").strip()
    if not raw:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    _check_url("ADVISOR_CACHE_URL", raw, CACHE_SCHEMES)
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": raw}
