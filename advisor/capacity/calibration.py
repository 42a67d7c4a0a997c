"""Fit a server's efficiency to one measured single-stream decode speed on the same host and model."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from advisor.capacity.performance import (
    Bound,
    Engine,
    decode_step_seconds,
    single_stream_decode_tps,
)
from advisor.capacity.specs import ModelSpec
from advisor.errors import AdvisorError

# A fitted efficiency above this would claim more than the memory's peak bandwidth: the measurement
# or the hardware description is wrong, not the model.
MAX_EFFICIENCY = 1.0


@dataclass(frozen=True)
class Calibration:
    """Predicted vs measured batch-1 decode speed, before and after fitting the efficiency."""

    server: str
    measured_tps: float
    predicted_tps: float
    error_pct: float
    bound: str
    efficiency_before: float
    efficiency_after: float
    fitted_tps: float

    def as_dict(self) -> dict[str, Any]:
        return {
            key: round(value, 4) if isinstance(value, float) else value
            for key, value in asdict(self).items()
        }


def calibrate(
    model: ModelSpec, engine: Engine, measured_decode_tps: float, context_tokens: int
) -> tuple[Calibration, Engine]:
    """The engine with its efficiency scaled so that batch-1 decode matches ``measured_decode_tps``.

    ``error_pct`` = (predicted - measured) / measured x 100, for the model before fitting.
    Memory-bound decode scales the bandwidth efficiency, compute-bound the compute efficiency
    (capped at 1.0); when the per-step floor sets the pace (tiny models) the floor is fitted
    (``efficiency_before/after`` are then seconds per step). Raises AdvisorError(field="measured_decode_tps") for a
    non-positive measurement.
    """
    if not isinstance(measured_decode_tps, int | float) or measured_decode_tps <= 0:
        raise AdvisorError(
            "The measured decode speed must be a positive number of tokens per second.",
            field="measured_decode_tps",
        )
    predicted = single_stream_decode_tps(model, engine, context_tokens)
    step_s, bound = decode_step_seconds(model, engine, 1, context_tokens)
    overhead = engine.overhead_s(1)
    target_core = max(1 / measured_decode_tps - overhead, 1e-9)
    scale = (step_s - overhead) / target_core
    if bound is Bound.OVERHEAD:
        # The framework floor, not the hardware, sets the pace: fit the floor itself.
        before = engine.step_floor_s
        after = 1 / measured_decode_tps
        fitted = replace(engine, min_step_s=after)
    elif bound is Bound.COMPUTE:
        before = engine.compute_efficiency
        after = min(MAX_EFFICIENCY, before * scale)
        fitted = replace(engine, compute_efficiency=after)
    else:
        before = engine.bandwidth_efficiency
        after = min(MAX_EFFICIENCY, before * scale)
        fitted = replace(engine, bandwidth_efficiency=after)
    result = Calibration(
        server=str(engine.server),
        measured_tps=float(measured_decode_tps),
        predicted_tps=predicted,
        error_pct=(predicted - measured_decode_tps) / measured_decode_tps * 100,
        bound=str(bound),
        efficiency_before=before,
        efficiency_after=after,
        fitted_tps=single_stream_decode_tps(model, fitted, context_tokens),
    )
    return result, fitted
