"""The bundle's scripts, run for real: extracted from the zip, against a server on loopback."""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.bundles.factories import bundle_for

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="the smoke test uses curl")
API_KEY = "test-key-123"


class FakeOpenAIServer:
    """A tiny OpenAI-compatible server on 127.0.0.1 that records what it was sent."""

    def __init__(self, model: str, *, require_key: str | None = None):
        self.model = model
        self.require_key = require_key
        self.requests: list[tuple[str, str, dict, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: object):
                data = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if outer.require_key is None:
                    return True
                return self.headers.get("Authorization") == f"Bearer {outer.require_key}"

            def do_GET(self):
                outer.requests.append(("GET", self.path, dict(self.headers), ""))
                if self.path in ("/health", "/"):
                    self._reply(200, b"Ollama is running" if self.path == "/" else b"")
                elif not self._authorized():
                    self._reply(401, {"error": "unauthorized"})
                elif self.path == "/v1/models":
                    self._reply(200, {"object": "list", "data": [{"id": outer.model}]})
                else:
                    self._reply(404, {"error": "not found"})

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                outer.requests.append(("POST", self.path, dict(self.headers), body))
                if not self._authorized():
                    self._reply(401, {"error": "unauthorized"})
                    return
                choice = {"index": 0, "message": {"role": "assistant", "content": "Hello there."}}
                self._reply(200, {"choices": [choice], "usage": {"completion_tokens": 3}})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def extract(bundle, into: Path) -> Path:
    """Unzip keeping the Unix permissions the archive records (zipfile.extractall drops them)."""
    with zipfile.ZipFile(io.BytesIO(bundle.to_zip())) as archive:
        for info in archive.infolist():
            target = into / info.filename
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(archive.read(info))
            target.chmod((info.external_attr >> 16) & 0o777)
    return into / bundle.root


# Generous: the load-test script starts Django and runs three levels on a machine that may be
# busy with other work.
SCRIPT_TIMEOUT_S = 300


def run(script: Path, **env) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ["PATH"], "HOME": str(script.parent), **env}
    return subprocess.run(
        [str(script)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=SCRIPT_TIMEOUT_S,
        check=False,
    )


def test_it_passes_the_vllm_smoke_test_against_a_server_with_the_model(tmp_path):
    bundle = bundle_for("vllm-h100")
    root = extract(bundle, tmp_path)
    model = "meta-llama/Llama-3.1-8B-Instruct"
    with FakeOpenAIServer(model, require_key=API_KEY) as server:
        result = run(root / "scripts/smoke-test.sh", BASE_URL=server.base_url, VLLM_API_KEY=API_KEY)
    assert result.returncode == 0, result.stderr
    assert "smoke test passed" in result.stdout
    paths = [(method, path) for method, path, _, _ in server.requests]
    assert paths == [("GET", "/health"), ("GET", "/v1/models"), ("POST", "/v1/chat/completions")]
    body = json.loads(server.requests[-1][3])
    assert body["model"] == model and body["messages"][0]["role"] == "user"


def test_it_reads_the_env_file_as_env_example_says_and_lets_the_caller_override_it(tmp_path):
    root = extract(bundle_for("vllm-h100"), tmp_path)
    model = "meta-llama/Llama-3.1-8B-Instruct"
    with FakeOpenAIServer(model, require_key=API_KEY) as server:
        example = (root / ".env.example").read_text()
        env = example.replace(
            "VLLM_API_KEY=change-me-to-a-long-random-string", f"VLLM_API_KEY={API_KEY}"
        )
        env = "\n".join(
            f"BASE_URL={server.base_url}" if line.startswith("BASE_URL=") else line
            for line in env.splitlines()
        )
        (root / ".env").write_text(env + "\n")
        from_file = run(root / "scripts/smoke-test.sh")
        overridden = run(root / "scripts/smoke-test.sh", BASE_URL="http://127.0.0.1:9")
    assert from_file.returncode == 0, from_file.stderr
    assert "smoke test passed" in from_file.stdout
    assert overridden.returncode != 0 and "127.0.0.1:9" in overridden.stdout


def test_it_fails_the_smoke_test_when_the_model_is_not_served(tmp_path):
    root = extract(bundle_for("vllm-h100"), tmp_path)
    with FakeOpenAIServer("some/other-model", require_key=API_KEY) as server:
        result = run(root / "scripts/smoke-test.sh", BASE_URL=server.base_url, VLLM_API_KEY=API_KEY)
    assert result.returncode != 0
    assert "is not served" in result.stderr


def test_it_fails_the_smoke_test_without_the_api_key(tmp_path):
    root = extract(bundle_for("vllm-h100"), tmp_path)
    with FakeOpenAIServer("meta-llama/Llama-3.1-8B-Instruct", require_key=API_KEY) as server:
        result = run(root / "scripts/smoke-test.sh", BASE_URL=server.base_url)
    assert result.returncode != 0


def test_it_checks_ollama_health_on_its_root_path(tmp_path):
    root = extract(bundle_for("ollama-4090"), tmp_path)
    with FakeOpenAIServer("llama3.1:8b") as server:
        result = run(root / "scripts/smoke-test.sh", BASE_URL=server.base_url)
    assert result.returncode == 0, result.stderr
    assert server.requests[0][:2] == ("GET", "/")


def test_it_runs_vllm_serve_with_the_tuned_flags_and_the_key_from_the_environment(tmp_path):
    root = extract(bundle_for("vllm-4xa100-lora-fp8"), tmp_path / "bundle")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    recorder = fake_bin / "vllm"
    recorder.write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$@"\nprintf "key=%s\\n" "${VLLM_API_KEY:-}"\n',
        encoding="utf-8",
    )
    recorder.chmod(0o755)
    path = f"{fake_bin}:{os.environ['PATH']}"
    result = run(root / "vllm/serve.sh", PATH=path, VLLM_API_KEY=API_KEY)
    assert result.returncode == 0, result.stderr
    *argv, key = result.stdout.splitlines()
    assert key == f"key={API_KEY}"
    assert argv[:2] == ["serve", "meta-llama/Llama-3.3-70B-Instruct"]
    assert argv[argv.index("--tensor-parallel-size") + 1] == "4"
    # The key reaches vLLM through its environment, never its command line (visible in `ps`).
    assert "--api-key" not in argv and API_KEY not in argv


def test_it_refuses_to_start_vllm_without_an_api_key(tmp_path):
    root = extract(bundle_for("vllm-h100"), tmp_path)
    result = run(root / "vllm/serve.sh")
    assert result.returncode != 0
    assert "VLLM_API_KEY" in result.stderr


def test_it_runs_the_load_test_script_through_the_advisors_cli(tmp_path):
    """The bundle's load-test command is one the real `manage.py loadtest` accepts and runs."""
    from advisor.bundles import build_bundle
    from advisor.loadtest.discovery import ServerKind
    from advisor.loadtest.testserver import ScriptedServer
    from tests.bundles.factories import answers, estimate, recommendation

    repo = Path(__file__).resolve().parents[2]
    model = "meta-llama/Llama-3.1-8B-Instruct"
    bundle = build_bundle(
        recommendation("vllm"), estimate(), answers(peak_concurrent_users=4, avg_output_tokens=4)
    )
    root = extract(bundle, tmp_path)
    with ScriptedServer(kind=ServerKind.VLLM, model=model, tokens=4) as server:
        result = run(
            root / "scripts/loadtest.sh",
            BASE_URL=server.url,
            ADVISOR_DIR=str(repo),
            PYTHON=sys.executable,
            VLLM_API_KEY=API_KEY,
            ADVISOR_VAR_DIR=os.environ["ADVISOR_VAR_DIR"],
        )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert [level["concurrency"] for level in data["levels"]] == [1, 2, 4], (
        data["stop_code"],
        data["stopped_reason"],
    )
    assert all(level["failed"] == 0 for level in data["levels"])
    assert data["target"]["model"] == model


def test_it_stops_the_systemd_unit_from_starting_vllm_with_an_empty_key():
    from tests.bundles.validators import parse_systemd

    unit = parse_systemd(bundle_for("vllm-h100").file("vllm/vllm.service").content)
    pre = next(value for _, key, value in unit if key == "ExecStartPre")
    argv = shlex.split(pre.replace("$$", "$"))  # what systemd runs after unescaping "$$"
    env = {"PATH": os.environ["PATH"]}
    empty = subprocess.run(argv, env={**env, "VLLM_API_KEY": ""}, capture_output=True, text=True)
    assert empty.returncode != 0 and "VLLM_API_KEY is empty" in empty.stderr
    assert subprocess.run(argv, env={**env, "VLLM_API_KEY": API_KEY}).returncode == 0
