"""The hardware a load test measured, and whether it is the hardware a recommendation is for (pure).

A measurement is evidence about the setup it ran on and no other: a single-stream speed measured on
a 2-core CPU says nothing about an H100. So every load test records ``MeasuredOn`` (the GPU model,
GPU count, model and quantization, and whether the target host's probe or the user said so), and
``same_setup`` decides, in one place, which measurements may calibrate a recommendation's
predictions and feed its measured rules. The others are listed as measured on other hardware and
named in a warning; they never move a prediction.

A load test without a record (one stored before tests recorded it) is unknown hardware, which is
never the same setup.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from advisor.capacity import catalog
from advisor.errors import AdvisorError
from advisor.rules.questions import AUTO

FIELD = "measured_on"


class MeasuredOnSource(enum.StrEnum):
    """Who said what hardware a load test ran on."""

    PROBE = "probe"  # the hardware report of the host the measured server runs on
    STATED = "stated"  # the user: the questionnaire the test was started for, or the API's input


@dataclass(frozen=True)
class Setup:
    """What a prediction or a measurement is about: catalog ids, so names compare as equals.

    ``gpu`` None means CPU only (then ``gpu_count`` is 0); ``model`` is the catalog id, or the
    name the server knows when the catalog has no such model; ``quantization`` the catalog id of
    the weight format, or ``auto`` (each server's default for that model).
    """

    gpu: str | None
    gpu_count: int
    model: str
    quantization: str = AUTO

    @property
    def label(self) -> str:
        """'1x NVIDIA H100 80GB SXM, llama-3.1-8b, auto quantization', 'CPU only, ...'."""
        if self.gpu is None:
            hardware = "CPU only"
        else:
            spec = catalog.find_gpu(self.gpu)
            hardware = f"{self.gpu_count}x {spec.name if spec else self.gpu}"
        return f"{hardware}, {self.model}, {self.quantization} quantization"


@dataclass(frozen=True)
class MeasuredOn:
    """The setup a load test ran on and where that came from (stored as ``as_dict()``)."""

    setup: Setup
    source: MeasuredOnSource

    @property
    def label(self) -> str:
        said = "from the probe of its host" if self.source is MeasuredOnSource.PROBE else "stated"
        return f"{self.setup.label}; {said}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "gpu": self.setup.gpu,
            "gpu_count": self.setup.gpu_count,
            "model": self.setup.model,
            "quantization": self.setup.quantization,
            "source": self.source.value,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MeasuredOn:
        """The record ``as_dict()`` wrote (``label`` is derived and ignored). Raises
        ``AdvisorError(field="measured_on")`` for anything else, say a hand-edited result file."""
        try:
            source = MeasuredOnSource(data["source"])
            return cls(
                setup=setup_of(
                    gpu=data["gpu"],
                    gpu_count=data["gpu_count"],
                    model=data["model"],
                    quantization=data["quantization"],
                ),
                source=source,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise AdvisorError(
                "measured_on must be an object with gpu (null for CPU only), gpu_count, model, "
                f"quantization and source (probe or stated); {type(exc).__name__}: {exc}",
                field=FIELD,
            ) from None


def setup_of(*, gpu: str | None, gpu_count: int, model: str, quantization: str = AUTO) -> Setup:
    """A ``Setup`` from names as users and servers spell them, resolved to catalog ids.

    ``gpu`` None (or ``gpu_count`` 0) is CPU only. A model the catalog does not know keeps its
    name. Raises ``AdvisorError`` naming ``measured_on.<field>`` for an unknown GPU or
    quantization, or a count below 1 with a GPU.
    """
    if isinstance(gpu_count, bool) or not isinstance(gpu_count, int) or gpu_count < 0:
        raise AdvisorError(
            "gpu_count must be a whole number, 0 or more", field=f"{FIELD}.gpu_count"
        )
    if gpu is None or gpu_count == 0:
        gpu_id, count = None, 0
    else:
        gpu_id, count = _resolved(catalog.resolve_gpu, gpu, "gpu"), gpu_count
    quant = AUTO if str(quantization).lower() == AUTO else None
    if quant is None:
        quant = _resolved(catalog.resolve_quantization, quantization, "quantization")
    if not isinstance(model, str) or not model.strip():
        raise AdvisorError("model must be the model's name", field=f"{FIELD}.model")
    try:
        model_id = catalog.resolve_model(model).id
    except AdvisorError:
        model_id = model.strip()  # a model outside the catalog: its own name is all we know
    return Setup(gpu=gpu_id, gpu_count=count, model=model_id, quantization=quant)


def _resolved(resolve: Any, name: str, field: str) -> str:
    try:
        return str(resolve(name).id)
    except AdvisorError as exc:
        raise AdvisorError(exc.message, field=f"{FIELD}.{field}") from None


def same_setup(measured: MeasuredOn | None, setup: Setup) -> bool:
    """Whether a measurement is evidence about ``setup``: the same GPU model, GPU count, model and
    quantization. Unknown hardware (no record) never is."""
    return measured is not None and measured.setup == setup


def measured_on_of(result: Mapping[str, Any]) -> MeasuredOn | None:
    """The record stored with a load-test result (``result["measured_on"]``), None when the result
    has none (stored before results recorded it). Raises ``AdvisorError`` for a malformed one."""
    record = result.get(FIELD)  # absent on results stored before the record existed
    return None if record is None else MeasuredOn.from_dict(record)


def split_by_setup(
    results: Iterable[dict[str, Any]], setup: Setup
) -> tuple[tuple[dict[str, Any], ...], tuple[dict[str, Any], ...]]:
    """(results measured on ``setup``, results measured on other or unknown hardware), each in
    the given order."""
    same: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for result in results:
        (same if same_setup(measured_on_of(result), setup) else other).append(result)
    return tuple(same), tuple(other)


def other_hardware_label(result: Mapping[str, Any]) -> str:
    """'measured on other hardware (CPU only, llama-3.1-8b, ...)' for one result not used."""
    measured = measured_on_of(result)
    what = measured.label if measured is not None else "unknown: stored before tests recorded it"
    return f"measured on other hardware ({what})"


def measurement_rows(
    same: Iterable[dict[str, Any]], other: Iterable[dict[str, Any]]
) -> tuple[dict[str, Any], ...]:
    """One row per attached load test for the page and the API: its id (when stored), server kind,
    URL, record, whether it counted (``same_hardware``) and how to label it."""
    rows = []
    for counted, results in ((True, same), (False, other)):
        for result in results:
            measured = measured_on_of(result)
            target = result.get("target") or {}  # hand-made results may lack it; the kind is read
            rows.append(
                {
                    "id": result.get("id"),  # set for stored rows, absent in result files
                    "kind": target.get("kind"),
                    "base_url": target.get("base_url"),
                    "measured_on": measured.as_dict() if measured is not None else None,
                    "same_hardware": counted,
                    "label": _counted_label(measured) if counted else other_hardware_label(result),
                }
            )
    return tuple(rows)


def _counted_label(measured: MeasuredOn | None) -> str:
    return "measured on this hardware" + (f" ({measured.label})" if measured else "")
