"""The hardware a verdict is sized for: the answers win, the hardware report fills the gaps (pure)."""

from __future__ import annotations

from typing import Any

from advisor.capacity import catalog
from advisor.errors import AdvisorError
from advisor.rules.answers import Answers
from advisor.rules.questions import Platform

OS_NAMES = {
    "darwin": Platform.MACOS,
    "macos": Platform.MACOS,
    "linux": Platform.LINUX,
    "windows": Platform.WINDOWS,
}


def report_gpus(report: dict[str, Any] | None) -> tuple[Any, int, list[str]]:
    """(GpuSpec, count, notes) for the most numerous catalogued GPU model in the report."""
    notes: list[str] = []
    groups: dict[str, list[dict[str, Any]]] = {}
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
    answers: Answers, report: dict[str, Any] | None
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
        gpu, count, notes = report_gpus(report)
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


def answers_override_report(answers: Answers, report: dict[str, Any] | None) -> str | None:
    """A warning when GPU answers override an attached report that found other hardware (say a
    probe of a GPU-less VM, then an H100 typed in): the answers are used, and the user should
    know the report is not. None when nothing is attached or the two agree."""
    if report is None or (answers.gpu is None and answers.gpu_count != 0):
        return None
    found, found_count, _ = report_gpus(report)
    if answers.gpu_count == 0:
        wanted, wanted_count = None, 0
    else:
        wanted, wanted_count = catalog.resolve_gpu(str(answers.gpu)), answers.gpu_count or 1
    if (getattr(found, "id", None), found_count) == (getattr(wanted, "id", None), wanted_count):
        return None
    host = str(((report.get("host") or {}).get("hostname")) or "the probed host")
    said = f"{wanted_count}x {wanted.name}" if wanted else "no GPU (CPU only)"
    seen = f"{found_count}x {found.name}" if found else "no usable GPU"
    return (
        f"Your answers say {said}, but the attached hardware report ({host}) found {seen}. "
        "The answers were used. If the report describes the serving host, change the GPU "
        "answers; if not, detach the report."
    )
