"""Assemble ``Facts`` from answers, a hardware report and load-test results (pure, no Django).

``facts_build(answers, *, hardware_report=None, load_tests=())`` decides the effective hardware (the
answers win over the report; the report fills what they leave out), runs the capacity model at the
user's load, and — only when the model does not fit — searches what would (a smaller
quantization, more GPUs, a bigger GPU, a smaller model of the same family). For Mac and CPU-only
users with many users it also estimates vLLM on a reference Linux GPU server, for the warning that
says what they are missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from advisor.capacity import catalog
from advisor.errors import AdvisorError
from advisor.rules.answers import Answers, Platform, custom_model_spec
from advisor.rules.facts import Facts, metric
from advisor.rules.thresholds import HANDFUL_USERS, PREDICTION_LEVELS, REFERENCE_GPU
from probes.kinds import backend_for_kind

# Quantizations tried, smallest last, when the model does not fit vLLM / Ollama as asked.
VLLM_SMALLER_FORMATS = ("fp8", "awq-int4")
OLLAMA_SMALLER_FORMATS = ("Q4_K_M", "Q4_0")
GIB = 1024**3
MAX_PREDICTED_CONCURRENCY = 4096  # advisor.capacity.request.MAX_CONCURRENCY
TP_SIZES = (2, 4, 8)  # vLLM tensor-parallel sizes on one node
MAX_ALTERNATIVES_PER_KIND = 1
OS_NAMES = {"darwin": Platform.MACOS, "macos": Platform.MACOS, "linux": Platform.LINUX,
            "windows": Platform.WINDOWS}  # fmt: skip


def prediction_levels(users: int) -> tuple[int, ...]:
    """The standard levels up to the user's peak, plus the peak itself and the next level above."""
    below = [c for c in PREDICTION_LEVELS if c < users]
    above = [c for c in PREDICTION_LEVELS if c > users][:1]
    return tuple(sorted({1, *below, users, *above}))


def _report_gpus(report: dict | None) -> tuple[Any, int, list[str]]:
    """(GpuSpec, count, notes) for the most numerous catalogued GPU model in the report."""
    notes: list[str] = []
    groups: dict[str, list[dict]] = {}
    specs: dict[str, Any] = {}
    for gpu in (report or {}).get("gpus") or ():
        name = gpu.get("catalog_id") or gpu.get("name") or ""
        try:
            spec = catalog.resolve_gpu(name)
        except AdvisorError:
            notes.append(f"GPU {gpu.get('name')!r} from the report is not in the catalog; ignored")
            continue
        groups.setdefault(spec.id, []).append(gpu)
        specs[spec.id] = spec
    if not groups:
        return None, 0, notes
    best = max(groups, key=lambda gid: len(groups[gid]))  # dicts keep order: ties go to the first
    spec, members = specs[best], groups[best]
    if spec.unified_memory:
        measured = members[0].get("memory_total_bytes") or ((report or {}).get("memory") or {}).get(
            "total_bytes"
        )
        if measured:
            spec = spec.with_memory(
                measured
            )  # the catalog lists one size; the report knows this Mac
    if len(groups) > 1:
        notes.append(f"the report has several GPU models; sizing for {len(members)}x {spec.name}")
    return spec, len(members), notes


def effective_hardware(
    answers: Answers, report: dict | None
) -> tuple[Any, int, Platform, list[str]]:
    """(GpuSpec or None, gpu_count, platform, notes): the answers win, the report fills gaps.

    Raises ``AdvisorError`` when the answers contradict the hardware the report found (macOS with a
    PC GPU, an Apple GPU on Linux or Windows, several Apple GPUs).
    """
    notes: list[str] = []
    if answers.gpu_count == 0:
        gpu, count = None, 0
    elif answers.gpu is not None:
        gpu, count = catalog.resolve_gpu(answers.gpu), answers.gpu_count or 1
    else:
        gpu, count, notes = _report_gpus(report)
        if answers.gpu_count is not None and gpu is not None:
            count = answers.gpu_count
        if gpu is None:
            notes.append("no usable GPU in the hardware report: sizing for CPU only")
    apple = gpu is not None and gpu.unified_memory
    platform = answers.platform
    if platform == Platform.AUTO:
        reported = OS_NAMES.get(str(((report or {}).get("host") or {}).get("os") or "").lower())
        if apple:
            platform = Platform.MACOS
        elif reported is not None and not (reported == Platform.MACOS and gpu is not None):
            platform = reported
        else:
            platform = Platform.LINUX
            notes.append("operating system not given: assuming Linux")
    elif gpu is not None and apple != (platform == Platform.MACOS):
        kind = "an Apple GPU" if apple else f"a {gpu.vendor} GPU"
        raise AdvisorError(
            f"platform {platform.value} cannot serve with {gpu.name} ({kind}) from the hardware report",
            field="platform",
        )
    if apple and count > 1:
        raise AdvisorError("a Mac has exactly one (unified-memory) GPU", field="gpu_count")
    return gpu, count, platform, notes


def estimate_request(answers: Answers, model: Any, gpu: Any, gpu_count: int, quantization: str,
                     levels: Iterable[int], *, ram_bytes: int | None = None,
                     measured_tps: dict[str, float] | None = None,
                     num_parallel: int | None = None) -> Any:  # fmt: skip
    """The capacity model's ``EstimateRequest`` for one configuration.

    ``ram_bytes`` sizes a CPU-only host from its report; ``measured_tps`` (single-stream decode
    tokens/s per server, from load tests) calibrates the prediction.
    """
    from advisor.capacity.request import EstimateRequest

    return EstimateRequest(
        model=model,
        gpu=gpu,
        gpu_count=gpu_count,
        quantization=quantization,
        max_model_len=answers.context_length,
        concurrency=tuple(sorted({min(c, MAX_PREDICTED_CONCURRENCY) for c in levels})),
        avg_prompt_tokens=answers.avg_prompt_tokens,
        avg_output_tokens=answers.avg_output_tokens,
        gpu_hourly_cost_usd=answers.gpu_hourly_cost_usd,
        # Ollama sized as we tell the team to run it: their context, a slot per user up to a handful.
        num_ctx=answers.context_length,
        num_parallel=num_parallel or ollama_slots(answers),
        cpu_memory_gib=ram_bytes / GIB if ram_bytes and gpu_count == 0 else None,
        measured_decode_tps=measured_tps or None,
    )


def run_estimate(answers: Answers, model: Any, gpu: Any, gpu_count: int, quantization: str,
                 levels: Iterable[int], *, ram_bytes: int | None = None,
                 measured_tps: dict[str, float] | None = None) -> dict:  # fmt: skip
    """The capacity model's ``Estimate.as_dict()`` for one configuration (``estimate_request``)."""
    from advisor.capacity.estimate import estimate

    request = estimate_request(answers, model, gpu, gpu_count, quantization, levels,
                               ram_bytes=ram_bytes, measured_tps=measured_tps)  # fmt: skip
    return estimate(request).as_dict()


def ollama_slots(answers: Answers) -> int:
    """OLLAMA_NUM_PARALLEL as we advise it: one slot per user, up to a handful."""
    return min(answers.peak_concurrent_users, HANDFUL_USERS)


def measured_single_stream_tps(load_tests: Iterable[dict]) -> dict[str, float]:
    """Single-user decode speed per server (1000 / TPOT p50 at concurrency 1) from load tests."""
    speeds: dict[str, float] = {}
    for result in load_tests:
        backend = backend_for_kind(((result or {}).get("target") or {}).get("kind"))
        for level in (result or {}).get("levels") or ():
            tpot = metric(level, "tpot_ms", "p50")
            if backend is not None and level.get("concurrency") == 1 and tpot:
                speeds[backend.value] = round(1000.0 / tpot, 3)
    return speeds


def _fits(est: dict, server: str) -> bool:
    if server == "vllm":
        return bool((est.get("vllm") or {}).get("fits"))
    return bool((est.get("ollama") or {}).get("fits_in_vram"))


def _try(answers, model, gpu, count, quant, server, tried: dict) -> dict | None:
    """The estimate at one user if the configuration fits ``server``, else None. ``tried`` holds
    the estimates already made in this search: vLLM and Ollama try the same bigger GPUs and
    smaller models, so each configuration is estimated once (405B on one H100: facts_build runs
    the capacity model 24 times instead of 30)."""
    key = (model, gpu, count, quant)
    if key not in tried:
        try:
            tried[key] = run_estimate(answers, model, gpu, count, quant, (1,))
        except AdvisorError:
            tried[key] = None
    est = tried[key]
    return est if est is not None and _fits(est, server) else None


def find_alternatives(answers: Answers, model: Any, gpu: Any, count: int, est: dict) -> list[dict]:
    """Configurations that fit when the asked one does not, one per kind and server."""
    out: list[dict] = []
    tried: dict = {}
    if gpu is None:
        return _smaller_models(answers, model, None, 0, "ollama", out, tried)
    servers = ["ollama"] if gpu.unified_memory else ["vllm", "ollama"]
    for server in servers:
        if _fits(est, server):
            continue
        for n, quant in _configs(answers, server, count, gpu):
            if _try(answers, model, gpu, n, quant, server, tried):
                out.append(_config_alternative(server, gpu, n, quant, count))
                break
        bigger = _bigger_gpu(answers, model, gpu, server, tried)
        if bigger:
            out.append(bigger)
        _smaller_models(answers, model, gpu, count, server, out, tried)
    return out


def _configs(answers: Answers, server: str, count: int, gpu: Any) -> list[tuple[int, str]]:
    """(gpu_count, quantization) to try, fewest changes first: a smaller format on these GPUs,
    then more GPUs (vLLM tensor parallelism), then both."""
    formats = VLLM_SMALLER_FORMATS if server == "vllm" else OLLAMA_SMALLER_FORMATS
    formats = tuple(q for q in formats if q != answers.quantization)
    more = [n for n in TP_SIZES if n > count] if server == "vllm" and not gpu.unified_memory else []
    tries = [(count, q) for q in formats] + [(n, answers.quantization) for n in more]
    return tries + [(n, q) for n in more for q in formats]


def _config_alternative(server: str, gpu: Any, n: int, quant: str, count: int) -> dict:
    where = f"{n}x {gpu.name}" if n > 1 else f"one {gpu.name}"
    weights = "" if quant == "auto" else f" with {quant} weights"
    parallel = " and tensor parallelism" if server == "vllm" and n > 1 else ""
    kind = "quantization" if n == count else "gpus" if quant == "auto" else "gpus_and_quantization"
    return {"server": server, "kind": kind, "quantization": quant, "gpu_count": n,
            "description": f"{_label(server)}{weights} on {where}{parallel}"}  # fmt: skip


def _label(server: str) -> str:
    return "vLLM" if server == "vllm" else "Ollama"


def _bigger_gpu(answers: Answers, model: Any, gpu: Any, server: str, tried: dict) -> dict | None:
    """The smallest catalog GPU of the same vendor with more memory that fits on its own."""
    candidates = sorted(
        (g for g in catalog.list_gpus()
         if g.vendor == gpu.vendor and g.memory_bytes > gpu.memory_bytes),
        key=lambda g: (g.memory_bytes, g.id),
    )  # fmt: skip
    for candidate in candidates:
        if _try(answers, model, candidate, 1, answers.quantization, server, tried):
            return {"server": server, "kind": "gpu", "gpu": candidate.id, "gpu_count": 1,
                    "description": f"{_label(server)} on one {candidate.name}"}  # fmt: skip
    return None


def _smaller_models(answers, model, gpu, count, server, out: list[dict], tried: dict) -> list[dict]:
    """The largest model of the same family that fits as asked."""
    family = getattr(model, "family", None)
    smaller = sorted(
        (m for m in catalog.list_models()
         if family and m.family == family and m.params_total < model.params_total),
        # Largest first; among equals the asked model's own line (llama-3.1-8b before a distill).
        key=lambda m: (-m.params_total, not m.id.startswith(model.id.split("-")[0]), m.id),
    )  # fmt: skip
    for candidate in smaller:
        if gpu is None:
            out.append({"server": "ollama", "kind": "model", "model": candidate.id,
                        "description": f"a smaller model: {candidate.name}"})  # fmt: skip
            return out
        if _try(answers, candidate, gpu, count, answers.quantization, server, tried):
            out.append({"server": server, "kind": "model", "model": candidate.id,
                        "description": f"{_label(server)} with a smaller model: {candidate.name}"})  # fmt: skip
            return out
    return out


def _reference(answers: Answers, model: Any, levels: tuple[int, ...]) -> dict | None:
    """vLLM on the reference Linux GPU (1, 2, 4 or 8 of them, the fewest that fit)."""
    try:
        gpu = catalog.resolve_gpu(REFERENCE_GPU)
        for n in (1, *TP_SIZES):
            est = run_estimate(answers, model, gpu, n, "auto", levels)
            if _fits(est, "vllm"):
                name = gpu.name if n == 1 else f"{n}x {gpu.name}"
                return {"gpu_name": name, "gpu_count": n, **est}
    except AdvisorError:
        return None
    return None


def facts_build(answers: Answers, *, hardware_report: dict | None = None,
                load_tests: Iterable[dict] = ()) -> Facts:  # fmt: skip
    """Everything ``recommend`` needs. Raises ``AdvisorError`` only for unusable answers."""
    gpu, count, platform, notes = effective_hardware(answers, hardware_report)
    model = _model_spec(answers)
    levels = prediction_levels(answers.peak_concurrent_users)
    estimate = alternatives = reference = None
    load_tests = tuple(load_tests)
    ram = ((hardware_report or {}).get("memory") or {}).get("total_bytes")
    measured_tps = measured_single_stream_tps(load_tests)
    if model is not None:
        try:
            estimate = run_estimate(answers, model, gpu, count, answers.quantization, levels,
                                    ram_bytes=ram, measured_tps=measured_tps)  # fmt: skip
        except AdvisorError as exc:
            notes.append(f"no capacity estimate: {exc.message}")
    sizings: list[dict] = []
    if estimate is not None:
        from advisor.capacity.estimate import ollama_levels

        # Ollama predicted with fewer slots too (1 .. yours - 1): the rules weigh every sizing up
        # to the user's, so a larger team can only look worse for Ollama, never better.
        for slots in range(1, ollama_slots(answers)):
            request = estimate_request(answers, model, gpu, count, answers.quantization, levels,
                                       ram_bytes=ram, measured_tps=measured_tps, num_parallel=slots)  # fmt: skip
            sizings += [{**row, "num_parallel": slots} for row in ollama_levels(request)]
    if estimate is not None and not (_fits(estimate, "vllm") and _fits(estimate, "ollama")):
        alternatives = find_alternatives(answers, model, gpu, count, estimate)
    mac_or_cpu = gpu is None or gpu.unified_memory or platform == Platform.MACOS
    if model is not None and mac_or_cpu and answers.peak_concurrent_users > HANDFUL_USERS:
        reference = _reference(answers, model, levels)
    return Facts(
        answers=answers,
        platform=platform,
        gpu=gpu.as_dict() if gpu is not None else None,
        gpu_count=count,
        model=model.as_dict() if model is not None else None,
        hardware=hardware_report,
        estimate=estimate,
        load_tests=load_tests,
        alternatives=tuple(alternatives or ()),
        reference=reference,
        notes=tuple(notes),
        ollama_sizings=tuple(sizings),
    )


def _model_spec(answers: Answers) -> Any:
    if answers.custom_model is not None:
        return custom_model_spec(answers.custom_model, answers.model)
    return catalog.resolve_model(answers.model)
