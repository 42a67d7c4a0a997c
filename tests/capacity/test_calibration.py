"""Fitting the efficiency to a measured single-stream decode speed."""

import pytest

from advisor.capacity.calibration import calibrate
from advisor.capacity.catalog import resolve_model
from advisor.capacity.estimate import EstimateRequest, estimate
from advisor.capacity.performance import Engine, single_stream_decode_tps
from advisor.errors import AdvisorError
from probes.kinds import Backend


def _engine(**kwargs):
    fields = {
        "server": Backend.VLLM,
        "weights_bytes": 16_060_000_000,
        "kv_dtype_bytes": 2,
        "bandwidth_gbps": 3350,
        "tflops": 989,
        "bandwidth_efficiency": 0.74,
        "compute_efficiency": 0.5,
        "per_sequence_step_s": 0.0001,
        "slots": 256,
    }
    fields.update(kwargs)
    return Engine(**fields)


def test_it_fits_the_bandwidth_efficiency_to_the_measurement():
    model = resolve_model("llama-3.1-8b")
    engine = _engine()
    predicted = single_stream_decode_tps(model, engine, 640)
    result, fitted = calibrate(model, engine, predicted / 2, 640)
    assert result.error_pct == pytest.approx(100.0)  # predicted twice what was measured
    assert result.fitted_tps == pytest.approx(predicted / 2, rel=1e-6)
    assert fitted.bandwidth_efficiency < engine.bandwidth_efficiency
    assert result.bound == "memory-bandwidth"


def test_it_caps_the_fitted_efficiency_at_the_hardware_peak():
    model = resolve_model("llama-3.1-8b")
    result, fitted = calibrate(model, _engine(), 10_000, 640)
    assert fitted.bandwidth_efficiency == 1.0
    assert result.fitted_tps < 10_000


def test_it_fits_the_step_floor_for_tiny_models():
    model = resolve_model("gemma-3-270m")
    engine = _engine(weights_bytes=536_000_000)
    result, fitted = calibrate(model, engine, 200, 640)
    assert result.bound == "overhead"
    assert fitted.min_step_s == pytest.approx(1 / 200)
    assert result.fitted_tps == pytest.approx(200)


@pytest.mark.parametrize("bad", [0, -5, "fast", None])
def test_it_rejects_a_non_positive_measurement(bad):
    with pytest.raises(AdvisorError) as error:
        calibrate(resolve_model("llama-3.1-8b"), _engine(), bad, 640)
    assert error.value.field == "measured_decode_tps"


def test_it_reports_calibration_in_the_estimate_and_uses_the_fitted_engine():
    request = {"model": "llama-3.1-8b", "gpu": "h100", "gpu_count": 1, "concurrency": (1,)}
    plain = estimate(EstimateRequest(**request)).as_dict()
    tuned = estimate(EstimateRequest(**request, measured_decode_tps={"vllm": 100})).as_dict()
    (item,) = tuned["calibration"]
    assert item["server"] == "vllm" and item["measured_tps"] == 100
    assert item["error_pct"] > 0
    plain_tpot = plain["performance"][0]["tpot_ms"]["mean"]
    tuned_tpot = tuned["performance"][0]["tpot_ms"]["mean"]
    assert tuned_tpot == pytest.approx(10.0, rel=0.01) and tuned_tpot > plain_tpot
