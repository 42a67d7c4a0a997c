"""The report as a few human lines: what ``python -m probes`` prints without ``--json``."""

from __future__ import annotations

from typing import Any

GIB = 2**30


def _gib(value: object) -> str:
    return f"{value / GIB:.1f} GiB" if isinstance(value, int | float) else "?"


def summary(report: dict[str, Any]) -> str:
    """The report in a few human lines; tolerates missing sections and fields (older uploads)."""
    host, cpu, memory, disk = (report.get(k) or {} for k in ("host", "cpu", "memory", "disk"))
    container = host.get("container") or {}
    lines = [
        f"Host     {host.get('hostname')}: {host.get('os', '')} {host.get('os_version', '')}"
        f" ({host.get('arch', '?')}), Python {host.get('python', '?')}"
        + (f", in {container.get('runtime')}" if container.get("in_container") else ""),
        f"CPU      {cpu.get('model')}: {cpu.get('physical_cores')} cores /"
        f" {cpu.get('logical_cores')} threads; {' '.join(cpu.get('flags') or []) or 'no AVX flags'}",
        f"Memory   {_gib(memory.get('total_bytes'))} total, {_gib(memory.get('available_bytes'))}"
        f" available, {_gib(memory.get('swap_total_bytes'))} swap",
        f"Disk     {_gib(disk.get('free_bytes'))} free at {disk.get('path')}",
    ]
    if not report.get("gpus"):
        lines.append("GPUs     none found")
    for gpu in report.get("gpus") or []:
        memory_text = _gib(gpu.get("memory_total_bytes")) + (
            " unified" if gpu.get("unified_memory") else ""
        )
        catalog = f" [catalog: {gpu['catalog_id']}]" if gpu.get("catalog_id") else ""
        lines.append(f"GPU {gpu['index']}    {gpu['vendor']} {gpu['name']}, {memory_text}{catalog}")
    for server in report.get("servers") or []:
        models = ", ".join(m for m in server.get("models") or [] if m) or "no models"
        lines.append(
            f"Server   {server['kind']} {server.get('version') or ''} at {server['base_url']}: {models}"
        )
    lines.append("Probes")
    for name, status in (report.get("probes") or {}).items():
        lines.append(
            f"  {name:<9}{status['status']:<7}{status['duration_ms']:>8.1f} ms  {status['detail']}"
        )
    return "\n".join(lines)
