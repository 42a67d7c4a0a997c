"""Settings from the environment: bad values stop start-up with the variable's name."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from advisor import config

ROOT = Path(__file__).resolve().parents[2]


def run_check(**env_overrides: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_overrides}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
        if name not in env_overrides:
            env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "mysql-typo://user@host/db"),
        ("DATABASE_URL", "postgres://user@host:notaport/db"),
        ("CELERY_BROKER_URL", "rediss-typo://127.0.0.1:6379/0"),
        ("REDIS_URL", "redis://127.0.0.1:port/0"),
        ("DEBUG", "maybe"),
    ],
)
def test_it_refuses_to_start_naming_the_bad_variable(variable, value):
    result = run_check(**{variable: value})
    assert result.returncode != 0
    assert f"Bad environment setting {variable}:" in result.stderr


def test_it_starts_with_no_settings_at_all():
    result = run_check()
    assert result.returncode == 0, result.stderr


def test_it_defaults_to_sqlite_and_the_filesystem_broker(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert config.database_config()["ENGINE"] == "django.db.backends.sqlite3"
    assert config.broker_url() == "filesystem://"
    assert config.result_backend("filesystem://").startswith("file://")


def test_it_keeps_the_default_sqlite_connection_between_requests(monkeypatch):
    """A new SQLite connection per request cost more CPU than a recommendation's queries."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert config.database_config()["CONN_MAX_AGE"] == config.SQLITE_CONN_MAX_AGE_S > 0


def test_it_uses_postgres_and_redis_when_configured(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://advisor@127.0.0.1:5432/advisor")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    assert config.database_config()["ENGINE"] == "django.db.backends.postgresql"
    assert config.broker_url() == "redis://127.0.0.1:6379/3"
    assert config.result_backend("redis://127.0.0.1:6379/3") == "redis://127.0.0.1:6379/3"


def test_the_broker_url_wins_over_redis_url(monkeypatch):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    assert config.broker_url() == "redis://127.0.0.1:6379/1"


def test_read_int_names_the_variable(monkeypatch):
    monkeypatch.setenv("ADVISOR_SOMETHING", "ten")
    with pytest.raises(config.ConfigError, match="ADVISOR_SOMETHING"):
        config.read_int("ADVISOR_SOMETHING", 1)
