"""The questionnaire's vLLM flags and pasted server output, checked as vLLM and the readers would.

``vllm_setting_errors`` applies vLLM's own start-up refusals to the flags answered, where the
answers say enough (the GPU count may come from a hardware report later: ``facts_build`` checks
that one); ``reading_errors`` makes sure each pasted text holds a figure
``advisor.capacity.server_logs.measured_fields`` can use. Both yield ``(field, message)`` pairs
for ``Answers.parse`` to report with the other field errors. Pure: no Django import.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Mapping
from typing import Any

from advisor.capacity import kv, vllm_memory
from advisor.capacity.server_logs import measured_fields
from advisor.errors import AdvisorError

READING_FIELDS = ("vllm_log", "vllm_metrics", "ollama_ps")

# A text that parses but holds no figure the estimate can use: say what is missing.
_NOTHING_MEASURED = {
    "vllm_log": 'this log has no "Available KV cache memory: ... GiB" or "# GPU blocks" line; '
    "paste the start-up lines that follow the model loading",
    "vllm_metrics": "this /metrics text has no num_gpu_blocks in vllm:cache_config_info",
    "ollama_ps": "this text shows no model size",
}


def vllm_setting_errors(
    values: Mapping[str, Any], model: Any, bad: Container[str]
) -> Iterator[tuple[str, str]]:
    """vLLM's refusals of the flags in ``values`` (parsed answers; ``bad`` names the fields that
    already failed, ``model`` is the model's spec or None)."""
    tp: int | None = values.get("tensor_parallel_size")
    dp: int | None = values.get("data_parallel_size")
    # ModelConfig.verify_with_parallel_config: the heads must split evenly.
    splits = model is not None and "tensor_parallel_size" not in bad
    if tp is not None and splits and tp not in kv.valid_tensor_parallel_sizes(model, tp):
        yield (
            "tensor_parallel_size",
            f"vLLM cannot split {model.name}'s {model.num_attention_heads} attention heads"
            f" / {model.num_kv_heads} KV heads over {tp} GPUs; "
            f"{_sizes(kv.valid_tensor_parallel_sizes(model, max(tp, 8)))} work",
        )
    count = values.get("gpu_count") if "gpu_count" not in bad else None
    checked = "tensor_parallel_size" not in bad and "data_parallel_size" not in bad
    if count == 0 and checked and max(tp or 1, dp or 1) > 1:
        name = "tensor_parallel_size" if (tp or 1) > 1 else "data_parallel_size"
        yield name, "CPU only (gpu_count 0): vLLM's parallel sizes need GPUs; leave blank"
    elif count and checked and (tp or 1) * (dp or 1) > count:
        name = "tensor_parallel_size" if (tp or 1) > count else "data_parallel_size"
        yield (
            name,
            f"tensor_parallel_size x data_parallel_size is {(tp or 1) * (dp or 1)}, more than "
            f"the {count} GPU{'s' if count != 1 else ''} answered",
        )
    seqs, batched = values.get("max_num_seqs"), values.get("max_num_batched_tokens")
    if seqs and batched and batched < seqs:
        # SchedulerConfig.verify_max_model_len (vllm/config/scheduler.py) refuses to start.
        yield (
            "max_num_batched_tokens",
            f"vLLM refuses max_num_batched_tokens {batched} below max_num_seqs {seqs}",
        )
    version = values.get("vllm_version")
    if version is not None and "vllm_version" not in bad:
        try:
            vllm_memory.release(version)
        except AdvisorError as exc:
            yield "vllm_version", exc.message


def reading_errors(values: Mapping[str, Any], bad: Container[str]) -> Iterator[tuple[str, str]]:
    """What is wrong with each pasted text in ``values``: unreadable, or no figure to use."""
    for name in READING_FIELDS:
        text = values.get(name)
        if not text or name in bad:
            continue
        try:
            found = measured_fields(**{name: text})
        except AdvisorError as exc:
            yield name, exc.message
            continue
        if not found:
            yield name, _NOTHING_MEASURED[name]


def _sizes(sizes: list[int]) -> str:
    return ", ".join(map(str, sizes[:-1])) + f" or {sizes[-1]}" if len(sizes) > 1 else str(sizes[0])
