"""``python -m probes`` as a user runs it on a GPU server: this folder alone, with only the
standard library, psutil and pynvml importable (no Django, no advisor package)."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psutil
import pynvml
import pytest

from tests.probes.conftest import FAKE_NVML_DIR

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def standalone(tmp_path_factory) -> Path:
    """A folder with a copy of probes/ and links to psutil and pynvml, nothing else."""
    root = tmp_path_factory.mktemp("standalone")
    shutil.copytree(
        REPO / "probes", root / "src" / "probes", ignore=shutil.ignore_patterns("__pycache__")
    )
    lib = root / "lib"
    lib.mkdir()
    (lib / "psutil").symlink_to(Path(psutil.__file__).parent)
    (lib / "pynvml.py").symlink_to(Path(pynvml.__file__))
    return root


def run_probes_cli(
    root: Path, *args: str, extra_path: tuple[Path, ...] = (), env: dict | None = None
):
    """Run ``python -S -m probes`` (-S: no site-packages) with only our folders on the path."""
    path = os.pathsep.join(str(p) for p in (*extra_path, root / "src", root / "lib"))
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": path, **(env or {})}
    return subprocess.run(
        [sys.executable, "-S", "-m", "probes", *args],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_it_cannot_see_django_or_the_advisor_in_the_standalone_setup(standalone):
    path = os.pathsep.join(str(standalone / p) for p in ("src", "lib"))
    for module in ("django", "advisor", "pydantic", "yaml"):
        done = subprocess.run(
            [sys.executable, "-S", "-c", f"import {module}"],
            cwd=standalone,
            env={"PYTHONPATH": path},
            capture_output=True,
        )
        assert done.returncode != 0, module


@pytest.mark.skipif(Path("/dev/nvidiactl").exists(), reason="this host has an NVIDIA driver")
def test_it_prints_the_json_report_standalone(standalone):
    done = run_probes_cli(standalone, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["schema_version"] == 1
    assert report["gpus"] == []
    assert report["probes"]["nvidia"]["status"] == "absent"
    assert report["cpu"]["logical_cores"] == os.cpu_count()


def test_it_reports_fake_h100s_standalone_without_catalog_ids(standalone):
    done = run_probes_cli(
        standalone, "--json", extra_path=(FAKE_NVML_DIR,), env={"FAKE_NVML_MODE": "two_h100"}
    )
    assert done.returncode == 0, done.stderr
    gpus = json.loads(done.stdout)["gpus"]
    assert [gpu["name"] for gpu in gpus] == ["NVIDIA H100 80GB HBM3"] * 2
    assert [gpu["catalog_id"] for gpu in gpus] == [None, None]


def test_it_finishes_when_nvml_hangs(standalone):
    done = run_probes_cli(
        standalone,
        "--json",
        "--timeout",
        "1",
        extra_path=(FAKE_NVML_DIR,),
        env={"FAKE_NVML_MODE": "hang"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["probes"]["nvidia"]["detail"] == "timed out after 1 s"


def test_it_prints_a_readable_summary(standalone):
    done = run_probes_cli(standalone)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Host ")
    assert "Memory " in done.stdout
    assert "nvidia" in done.stdout


@pytest.mark.parametrize("args", [["--server", "gopher://127.0.0.1"], ["--timeout", "0"]])
def test_it_refuses_bad_arguments_with_exit_status_2(standalone, args):
    done = run_probes_cli(standalone, *args)
    assert done.returncode == 2
    assert "error" in done.stderr
