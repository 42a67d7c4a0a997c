"""``python -m probes [--json] [--server URL ...] [--timeout S]``: probe this host and print it.

Without ``--json`` a readable summary; with it the report documented in docs/probes.md.
Exit status 0 whenever a report was produced (absent or failed probes are part of the report),
2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys

from probes.base import DEFAULT_TIMEOUT_S
from probes.report import collect_report
from probes.text import summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m probes", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print the JSON report")
    parser.add_argument(
        "--server",
        action="append",
        default=[],
        metavar="URL",
        help="also probe this LLM server base URL (repeatable)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"give up on probes still running after S seconds (default {DEFAULT_TIMEOUT_S:g})",
    )
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    try:
        report = collect_report(server_urls=args.server, timeout_s=args.timeout)
    except ValueError as exc:
        parser.error(f"--server: {exc}")
    if args.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(summary(report))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
