"""Settings from the environment, checked in a fresh interpreter (settings load once per process):
production passes `check --deploy`, bad values name their variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# 64 random-looking characters: Django's deploy check wants >= 50 with >= 5 distinct.
PRODUCTION_SECRET = "k3Jx9Qm2Vb7Lp0Zr8Ty6Wn4Hc1Fd5Sg-Ua_Ei3Ko7Pq9Rs2Tv4Wx6Yz8Ab0Cd2Ef"


def manage(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("ADVISOR_", "DJANGO_"))}
    clean |= {"ADVISOR_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "advisor.settings"}
    clean |= env
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_it_passes_check_deploy_with_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        ADVISOR_PRODUCTION="1",
        SECRET_KEY=PRODUCTION_SECRET,
        ALLOWED_HOSTS="advisor.example.org",
        DEBUG="false",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.slow
def test_it_warns_in_check_deploy_without_production_settings(tmp_path):
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        tmp_path=tmp_path,
        SECRET_KEY=PRODUCTION_SECRET,
    )
    assert result.returncode != 0
    assert "SECURE_HSTS_SECONDS" in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ADVISOR_THROTTLE_LOAD_TESTS", "lots"),
        ("ADVISOR_THROTTLE_RECOMMENDATIONS", "0/min"),
        ("LOG_FORMAT", "xml"),
        ("ADVISOR_CACHE_URL", "memcached://127.0.0.1"),
        ("ADVISOR_PRODUCTION", "maybe"),
    ],
)
@pytest.mark.slow
def test_it_names_the_variable_for_a_bad_value(tmp_path, variable, value):
    result = manage("check", tmp_path=tmp_path, **{variable: value})
    assert result.returncode != 0
    assert variable in result.stderr


@pytest.mark.slow
def test_it_refuses_production_without_a_secret_key(tmp_path):
    result = manage("check", tmp_path=tmp_path, ADVISOR_PRODUCTION="1", SECRET_KEY="")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    ("variable", "env"),
    [
        ("SECRET_KEY", {"SECRET_KEY": ""}),
        ("SECRET_KEY", {"SECRET_KEY": "insecure-local-only-key-set-SECRET_KEY-in-production"}),
        ("DEBUG", {"DEBUG": "true"}),
        ("ALLOWED_HOSTS", {"ALLOWED_HOSTS": "*"}),
        ("ALLOWED_HOSTS", {"ALLOWED_HOSTS": "advisor.example.org, *"}),
    ],
)
@pytest.mark.slow
def test_it_refuses_unsafe_production_settings_in_check_deploy(tmp_path, variable, env):
    """ADVISOR_PRODUCTION on: the public local key, DEBUG and a wildcard host stop start-up (and
    so `check --deploy`) with a message naming the variable."""
    safe = {"SECRET_KEY": PRODUCTION_SECRET, "ALLOWED_HOSTS": "advisor.example.org", "DEBUG": ""}
    result = manage("check", "--deploy", tmp_path=tmp_path, ADVISOR_PRODUCTION="1", **(safe | env))
    assert result.returncode != 0
    assert f"Bad environment setting {variable}:" in result.stderr
    assert "ADVISOR_PRODUCTION" in result.stderr
