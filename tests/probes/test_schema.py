"""validate_report: a report from another host is checked field by field."""

import copy

import pytest

from probes.schema import ReportError, validate_report

VALID = {
    "schema_version": 1,
    "collected_at": "2026-11-24T23:00:00+00:00",
    "host": {"hostname": "gpu-1", "os": "Linux", "arch": "x86_64", "container": None},
    "cpu": {
        "model": "AMD EPYC 9654",
        "physical_cores": 96,
        "logical_cores": 192,
        "flags": ["avx2"],
    },
    "memory": {"total_bytes": 2 * 2**40, "available_bytes": 2**40, "swap_total_bytes": 0},
    "disk": {"path": "/models", "free_bytes": 10**12},
    "gpus": [
        {
            "vendor": "nvidia",
            "index": 0,
            "name": "NVIDIA H100 80GB HBM3",
            "memory_total_bytes": 85520809984,
            "memory_free_bytes": 85000000000,
            "unified_memory": False,
            "compute_capability": "9.0",
            "driver_version": "550.54.15",
            "catalog_id": None,
            "mig": {"enabled": False},
        }
    ],
    "software": {"vllm": {"installed": True, "version": "0.11.0"}},
    "servers": [
        {"kind": "vllm", "base_url": "http://127.0.0.1:8000", "version": "0.11.0", "models": ["m"]}
    ],
    "probes": {"nvidia": {"status": "ok", "detail": "1 GPU", "duration_ms": 12.5}},
}


def broken(path: str, value):
    """VALID with the dotted ``path`` set to ``value`` (or removed for the sentinel DELETE)."""
    report = copy.deepcopy(VALID)
    *parents, last = path.split(".")
    node = report
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return report


DELETE = object()


def test_it_accepts_a_valid_report_and_keeps_unknown_keys():
    report = validate_report(VALID)
    assert report["gpus"][0]["mig"] == {"enabled": False}
    assert report["gpus"][0]["name"] == "NVIDIA H100 80GB HBM3"


def test_it_fills_in_optional_sections():
    minimal = {k: VALID[k] for k in ("schema_version", "collected_at", "host", "memory")}
    report = validate_report(minimal)
    assert report["gpus"] == [] and report["servers"] == [] and report["probes"] == {}


@pytest.mark.parametrize(
    "path,value,field",
    [
        ("gpus.0.memory_total_bytes", "80GB", "gpus.0.memory_total_bytes"),
        ("gpus.0.memory_total_bytes", -1, "gpus.0.memory_total_bytes"),
        ("gpus.0.memory_free_bytes", 10**12, "gpus.0.memory_free_bytes"),
        ("gpus.0.vendor", "matrox", "gpus.0.vendor"),
        ("gpus.0.name", "", "gpus.0.name"),
        ("gpus.0.compute_capability", "nine", "gpus.0.compute_capability"),
        ("gpus.0.unified_memory", "yes", "gpus.0.unified_memory"),
        ("memory.total_bytes", DELETE, "memory.total_bytes"),
        ("memory.available_bytes", 3 * 2**40, "memory.available_bytes"),
        ("cpu.logical_cores", 0, "cpu.logical_cores"),
        ("host.hostname", DELETE, "host.hostname"),
        ("host", DELETE, "host"),
        ("schema_version", 2, "schema_version"),
        ("schema_version", "1", "schema_version"),
        ("collected_at", "yesterday", "collected_at"),
        ("servers.0.kind", "tgi", "servers.0.kind"),
        ("servers.0.base_url", "ftp://x", "servers.0.base_url"),
        ("probes.nvidia.status", "fine", "probes.nvidia.status"),
        ("gpus", "none", "gpus"),
    ],
)
def test_it_names_the_bad_field(path, value, field):
    with pytest.raises(ReportError) as caught:
        validate_report(broken(path, value))
    assert caught.value.field == field
    assert caught.value.message


def test_it_names_a_repeated_gpu_index():
    report = copy.deepcopy(VALID)
    report["gpus"].append(dict(report["gpus"][0]))
    with pytest.raises(ReportError) as caught:
        validate_report(report)
    assert caught.value.field == "gpus.1.index"


def test_it_lists_every_problem_not_just_the_first():
    report = broken("gpus.0.memory_total_bytes", "80GB")
    report["collected_at"] = "soon"
    with pytest.raises(ReportError) as caught:
        validate_report(report)
    assert {field for field, _ in caught.value.errors} == {
        "gpus.0.memory_total_bytes",
        "collected_at",
    }


@pytest.mark.parametrize("data", [[], "report", None, 42])
def test_it_refuses_anything_but_an_object(data):
    with pytest.raises(ReportError, match="JSON object"):
        validate_report(data)


def test_it_refuses_too_many_gpus():
    report = copy.deepcopy(VALID)
    report["gpus"] = [dict(VALID["gpus"][0], index=i) for i in range(65)]
    with pytest.raises(ReportError) as caught:
        validate_report(report)
    assert caught.value.field == "gpus"
