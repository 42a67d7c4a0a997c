"""collect_report on this machine, and with a fake NVIDIA host, matched to the GPU catalog."""

import importlib.util
import time
from pathlib import Path

import pytest

from probes import collect_report, gpu_catalog
from probes.schema import validate_report

has_catalog = importlib.util.find_spec("advisor.capacity.catalog") is not None
needs_catalog = pytest.mark.skipif(not has_catalog, reason="advisor.capacity.catalog not present")


@pytest.mark.skipif(Path("/dev/nvidiactl").exists(), reason="this host has an NVIDIA driver")
def test_it_reports_no_gpus_and_an_absent_nvidia_probe_on_this_machine():
    report = collect_report()
    assert report["gpus"] == []
    assert report["probes"]["nvidia"]["status"] == "absent"
    assert set(report["probes"]) == {"nvidia", "amd", "apple", "cpu", "software", "servers"}
    assert report["host"]["hostname"]
    assert validate_report(report) == report


@needs_catalog
def test_it_matches_fake_h100s_to_the_catalog(fake_nvml):
    fake_nvml("two_h100")
    report = collect_report()
    assert [gpu["catalog_id"] for gpu in report["gpus"]] == ["h100-sxm-80gb"] * 2
    assert report["gpus"][0]["bandwidth_gbps"] == 3350
    assert report["gpu_runtime"]["cuda_driver_version"] == "12.4"
    assert validate_report(report)["gpus"][1]["mig"]["enabled"] is True


def test_it_leaves_catalog_id_null_for_a_gpu_the_catalog_does_not_know():
    def unknown(name):
        raise LookupError(f"unknown GPU {name}")

    gpu = {"vendor": "nvidia", "index": 0, "name": "NVIDIA H100 80GB HBM3"}
    assert gpu_catalog.match_gpu(gpu, resolver=unknown)["catalog_id"] is None


def test_it_keeps_a_catalog_id_off_when_the_catalog_is_not_importable(monkeypatch):
    monkeypatch.setattr(gpu_catalog, "load_resolver", lambda: None)
    (gpu,) = gpu_catalog.match_gpus([{"vendor": "amd", "index": 0, "name": "AMD Instinct MI300X"}])
    assert gpu["catalog_id"] is None


@needs_catalog
@pytest.mark.parametrize(
    "name,catalog_id",
    [
        ("NVIDIA H100 80GB HBM3", "h100-sxm-80gb"),
        ("AMD Instinct MI300X OAM", "mi300x"),
        ("AMD Radeon RX 7900 XTX", "rx-7900-xtx"),
        ("Apple M3 Max", "apple-m3-max"),
    ],
)
def test_it_matches_driver_names_to_catalog_ids(name, catalog_id):
    assert gpu_catalog.match_gpu({"name": name})["catalog_id"] == catalog_id


def test_it_returns_within_the_timeout_when_nvml_hangs(fake_nvml):
    fake_nvml("hang")
    begin = time.perf_counter()
    report = collect_report(timeout_s=0.5)
    assert time.perf_counter() - begin < 3.0
    assert report["probes"]["nvidia"]["status"] == "error"
    assert "timed out" in report["probes"]["nvidia"]["detail"]
    assert report["probes"]["cpu"]["status"] == "ok"
    assert report["memory"]["total_bytes"] > 0


def test_it_refuses_a_bad_server_url_before_probing():
    with pytest.raises(ValueError, match="not an http"):
        collect_report(server_urls=["gopher://127.0.0.1"])
