"""deploy/: the compose file is valid Compose, the Dockerfile copies what exists, gunicorn accepts
its config, the systemd units are well-formed, production static files collect."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from tests.bundles.validators import compose_errors
from tests.waiting import process_alive, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
# One request to a server that is up; generous, since the machine may be busy.
ANSWER_S = 60
# The [Section] keys these units use; systemd.unit(5), systemd.service(5), systemd.exec(5).
SYSTEMD_KEYS = {
    "Unit": {"Description", "Documentation", "After", "Wants", "Requires"},
    "Service": {
        "Type", "NotifyAccess", "User", "Group", "WorkingDirectory", "EnvironmentFile", "Environment",
        "RuntimeDirectory", "RuntimeDirectoryPreserve", "ExecStartPre", "ExecStart",
        "ExecReload", "KillSignal", "TimeoutStopSec", "Restart", "RestartSec",
        "NoNewPrivileges", "PrivateTmp", "ProtectSystem",
    },
    "Install": {"WantedBy"},
}  # fmt: skip


def test_it_ships_a_compose_file_valid_against_the_compose_schema():
    text = (DEPLOY / "compose.yaml").read_text()
    assert compose_errors(text) == []
    services = yaml.safe_load(text)["services"]
    assert {"web", "worker", "redis", "postgres", "migrate"} <= set(services)
    for name in ("web", "worker"):
        environment = services[name]["environment"]
        assert environment["DATABASE_URL"].startswith("postgres://")
        assert environment["REDIS_URL"].startswith("redis://redis:")
        assert services[name]["depends_on"]["migrate"]["condition"] == (
            "service_completed_successfully"
        )


def test_it_copies_only_paths_that_exist_into_the_image():
    text = (DEPLOY / "Dockerfile").read_text()
    sources = []
    for line in text.splitlines():
        if line.startswith("COPY "):
            sources += line.split()[1:-1]
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
    assert 'CMD ["gunicorn", "-c", "deploy/gunicorn.conf.py", "advisor.wsgi:application"]' in text


def test_it_gives_gunicorn_a_config_it_accepts():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "--check-config",
         "-c", "deploy/gunicorn.conf.py", "advisor.wsgi:application"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("unit", ["advisor-web.service", "advisor-worker.service"])
def test_it_ships_well_formed_systemd_units(unit):
    section, seen = None, {}
    for line in (DEPLOY / "systemd" / unit).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if re.fullmatch(r"\[\w+\]", line):
            section = line[1:-1]
            assert section in SYSTEMD_KEYS, line
            continue
        key, sep, value = line.partition("=")
        assert section and sep and key in SYSTEMD_KEYS[section], line
        seen[key] = value
    assert seen["ExecStart"].startswith("/opt/advisor/.venv/bin/")
    assert seen["WorkingDirectory"] == "/opt/advisor"
    assert seen["Restart"] == "on-failure" and seen["WantedBy"] == "multi-user.target"


def test_it_routes_host_work_to_the_worker_next_to_the_hardware():
    worker = (DEPLOY / "systemd" / "advisor-worker.service").read_text()
    assert "host.%H" in worker  # probes and load tests aimed at this host run here


def test_every_way_of_starting_the_main_worker_runs_the_reaper_beat():
    """The load-test reaper is sent by Celery beat embedded in the main worker (`--beat`): the
    compose worker, the systemd worker and `make run` (bin/run) all start it."""
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert "--beat" in compose["services"]["worker"]["command"]
    unit = (DEPLOY / "systemd" / "advisor-worker.service").read_text()
    exec_start = next(line for line in unit.splitlines() if line.startswith("ExecStart="))
    assert " worker " in exec_start and " --beat " in exec_start
    run = (ROOT / "bin" / "run").read_text()
    assert re.search(r"celery -A advisor worker[^&]*--beat", run.replace("\\\n", " "))


@pytest.mark.slow
def test_it_serves_production_under_gunicorn_as_the_image_does(tmp_path):
    """collectstatic, then gunicorn with deploy/gunicorn.conf.py and production settings on
    loopback: HTTPS redirect and HSTS, health exempt, hashed static files served by whitenoise."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env |= {
        "ADVISOR_PRODUCTION": "1",
        "SECRET_KEY": "x" * 20 + "collectstatic-test-secret-key-not-for-use" + "y" * 10,
        "ADVISOR_VAR_DIR": str(tmp_path),
        "ADVISOR_TRUST_X_FORWARDED_PROTO": "true",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "WEB_CONCURRENCY": "1",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "staticfiles" / "staticfiles.json").exists()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env["BIND"] = f"127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-c", "deploy/gunicorn.conf.py",
         "advisor.wsgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        # Up when /healthz answers at all (503 too: no worker runs here); the first answer waits
        # for gunicorn's boot, Django's import and the health check's worker wait.
        wait_for_http(
            f"{base}/healthz",
            "gunicorn's /healthz",
            ready=lambda status, _: status in (200, 503),
            alive=process_alive(server),
        )
        plain = requests.get(f"{base}/api/docs/", allow_redirects=False, timeout=ANSWER_S)
        assert plain.status_code == 301 and plain.headers["Location"].startswith("https://")
        https = {"X-Forwarded-Proto": "https"}
        docs = requests.get(f"{base}/api/docs/", headers=https, timeout=ANSWER_S)
        assert docs.status_code == 200
        assert docs.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        asset = re.search(r'src="(/static/[^"]+\.js)"', docs.text)[1]
        assert re.search(r"\.[0-9a-f]{12}\.js$", asset), asset  # the manifest's hashed name
        assert requests.get(f"{base}{asset}", headers=https, timeout=ANSWER_S).status_code == 200
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
