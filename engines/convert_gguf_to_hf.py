"""Convert a GGUF model into a Hugging Face checkpoint in bf16, for vLLM on the CPU.

Usage (inside the vLLM virtualenv, which has transformers, gguf and torch):
    python engines/convert_gguf_to_hf.py GGUF_FILE OUT_DIR

transformers dequantizes the GGUF tensors on load (``from_pretrained(dir, gguf_file=...)``); the
checkpoint is saved in bf16 without a quantization config (vLLM would otherwise try to load it as
a GGUF-quantized model). The tokenizer comes from the GGUF too. The output appears atomically:
it is written next to OUT_DIR and renamed when complete, so a crash never leaves half a model.
Runs offline: nothing is downloaded.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def convert(gguf_file: Path, out_dir: Path) -> Path:
    """Write the bf16 checkpoint of ``gguf_file`` to ``out_dir``; returns ``out_dir``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not gguf_file.is_file():
        raise SystemExit(f"convert: no GGUF file at {gguf_file}")
    staging = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    folder, name = str(gguf_file.parent), gguf_file.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.bfloat16)
    # The weights are plain bf16 tensors now; forget that they came from a GGUF (transformers
    # refuses to save a "GGUF-quantized" model, and vLLM would try to load it as one).
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    model = model.to(torch.bfloat16)
    model.config.dtype = torch.bfloat16
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    shutil.rmtree(out_dir, ignore_errors=True)
    staging.rename(out_dir)
    return out_dir


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = convert(Path(argv[0]).resolve(), Path(argv[1]).resolve())
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"convert: wrote {out} ({size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
