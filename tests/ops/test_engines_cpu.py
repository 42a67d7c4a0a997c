"""engines/common.sh: what `make engines` builds and runs for a CPU, and what it refuses.

The CPU is faked at one seam: ADVISOR_ENGINES_CPUINFO (a /proc/cpuinfo) and ADVISOR_ENGINES_MACHINE
(`uname -m`). Nothing is built or started here.
"""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BASE = "fpu sse sse2 ssse3 sse4_1 sse4_2 popcnt xsave"
# /proc/cpuinfo flags of real CPU families (abridged to what the check reads).
AMD_EPYC_ZEN3 = f"{BASE} avx avx2 fma f16c bmi1 bmi2"  # AVX2 only, as in the report
SKYLAKE_SP = f"{AMD_EPYC_ZEN3} avx512f avx512dq avx512cd avx512bw avx512vl"  # no bf16
SAPPHIRE_RAPIDS = f"{SKYLAKE_SP} avx_vnni avx512_bf16 avx512vbmi avx512_vnni amx_bf16 avx512_fp16 amx_tile amx_int8"
SANDY_BRIDGE = f"{BASE} avx"


def setup(tmp_path: Path, flags: str, machine: str = "x86_64", isa: str = "auto"):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
    env |= {
        "ADVISOR_ENGINES_CACHE": str(tmp_path / "cache"),
        "ADVISOR_ENGINES_CPUINFO": str(cpuinfo),
        "ADVISOR_ENGINES_MACHINE": machine,
        "ADVISOR_ENGINES_ISA": isa,
    }
    script = (
        "source engines/common.sh; engines_cpu_setup; "
        'printf "%s\\n" "$ENGINES_ISA" "$LLAMACPP_CMAKE_ARGS" "$LLAMACPP_VENV" "$VLLM_DTYPE" '
        '"$(basename "$(llamacpp_stamp)")"'
    )
    done = subprocess.run(
        ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    if done.returncode:
        return None, done.stderr
    isa, cmake, venv, dtype, stamp = done.stdout.splitlines()
    options = dict(arg.removeprefix("-D").split("=") for arg in cmake.split())
    return {
        "isa": isa,
        "cmake": options,
        "venv": Path(venv).name,
        "dtype": dtype,
        "stamp": stamp,
    }, ""


def test_it_builds_llamacpp_for_avx2_only_on_an_avx2_cpu(tmp_path):
    got, _ = setup(tmp_path, AMD_EPYC_ZEN3)
    assert got["isa"] == "avx2" and got["venv"] == "llamacpp-avx2-venv"
    cmake = got["cmake"]
    assert cmake["GGML_NATIVE"] == "OFF"  # the flags say what the binary needs, not the compiler
    assert {
        k: cmake[k] for k in ("GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2")
    } == dict.fromkeys(("GGML_AVX2", "GGML_FMA", "GGML_F16C", "GGML_BMI2"), "ON")
    assert cmake["GGML_AVX512"] == cmake["GGML_AVX512_BF16"] == cmake["GGML_AVX_VNNI"] == "OFF"
    assert got["dtype"] == "float32"  # no bf16 matmul in oneDNN on AVX2


def test_it_builds_for_avx512_with_amx_off_on_an_amx_cpu(tmp_path):
    got, _ = setup(tmp_path, SAPPHIRE_RAPIDS)
    assert got["isa"] == "avx512" and got["venv"] == "llamacpp-avx512-venv"
    cmake = got["cmake"]
    assert cmake["GGML_AVX512"] == cmake["GGML_AVX512_BF16"] == cmake["GGML_AVX512_VNNI"] == "ON"
    assert cmake["GGML_AMX_TILE"] == cmake["GGML_AMX_INT8"] == cmake["GGML_AMX_BF16"] == "OFF"
    assert cmake["LLAVA_BUILD"] == "OFF"  # the server never loads the multimodal library
    assert got["dtype"] == "bfloat16"


def test_it_leaves_out_what_an_avx512_cpu_lacks(tmp_path):
    got, _ = setup(tmp_path, SKYLAKE_SP)
    assert got["isa"] == "avx512"
    assert got["cmake"]["GGML_AVX512"] == "ON"
    assert got["cmake"]["GGML_AVX512_BF16"] == got["cmake"]["GGML_AVX512_VNNI"] == "OFF"
    assert got["dtype"] == "float32"


def test_it_rebuilds_when_the_cache_moves_to_another_cpu(tmp_path):
    """The stamp names the exact flags: a build for one CPU is not reused on another."""
    stamps = {setup(tmp_path, flags)[0]["stamp"] for flags in (SKYLAKE_SP, SAPPHIRE_RAPIDS)}
    assert len(stamps) == 2


def test_it_forces_the_avx2_code_path_on_an_avx512_cpu(tmp_path):
    got, _ = setup(tmp_path, SAPPHIRE_RAPIDS, isa="avx2")
    assert got["isa"] == "avx2" and got["venv"] == "llamacpp-avx2-venv"
    assert got["cmake"]["GGML_AVX512"] == got["cmake"]["GGML_AVX_VNNI"] == "OFF"
    assert got["cmake"]["GGML_AVX2"] == "ON"
    assert got["dtype"] == "float32"


@pytest.mark.parametrize(
    ("flags", "machine", "isa", "says"),
    [
        (SANDY_BRIDGE, "x86_64", "auto", "this CPU lacks avx2, fma, f16c"),
        (f"{SANDY_BRIDGE} avx2", "x86_64", "auto", "this CPU lacks fma, f16c"),
        (
            AMD_EPYC_ZEN3,
            "x86_64",
            "avx512",
            "lacks avx512f, avx512cd, avx512vl, avx512dq, avx512bw",
        ),
        (AMD_EPYC_ZEN3, "aarch64", "auto", "this machine is aarch64"),
        (AMD_EPYC_ZEN3, "x86_64", "avx10", "expected auto, avx2 or avx512"),
    ],
)
def test_it_stops_naming_what_the_cpu_lacks(tmp_path, flags, machine, isa, says):
    got, error = setup(tmp_path, flags, machine=machine, isa=isa)
    assert got is None
    assert says in error, error
