"""The human summary lists GPUs, servers and every probe's status."""

import copy

from probes.text import summary
from tests.probes.test_schema import VALID


def test_it_shows_each_gpu_server_and_probe():
    report = copy.deepcopy(VALID)
    report["gpus"][0]["catalog_id"] = "h100-sxm-80gb"
    text = summary(report)
    assert "GPU 0    nvidia NVIDIA H100 80GB HBM3, 79.6 GiB [catalog: h100-sxm-80gb]" in text
    assert "Server   vllm 0.11.0 at http://127.0.0.1:8000: m" in text
    assert "nvidia   ok" in text


def test_it_says_when_there_is_no_gpu_and_tolerates_empty_sections():
    report = copy.deepcopy(VALID)
    report.update(gpus=[], cpu={}, memory={}, disk={})
    text = summary(report)
    assert "GPUs     none found" in text
    assert "Memory   ? total" in text
