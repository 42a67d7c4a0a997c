"""The capacity model's error on the public corpus: one line per point, then a summary.

Run: .venv/bin/python bench/accuracy.py [--corpus tests/data/capacity_corpus.yaml] [--markdown]
Deterministic (no timing): the same figures on every machine. docs/capacity.md quotes its output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from advisor.capacity.accuracy import evaluate, load_corpus, summarize  # noqa: E402

TARGETS = {
    "kv_budget_stated": "vLLM KV budget within 2%, settings all stated (target >= 90%)",
    "kv_budget_all": "vLLM KV budget within 2%, every point",
    "kv_arithmetic": "vLLM tokens / KV needed from a logged budget within 2%",
    "fit_refuse": "fit / refuse answers right (target: all)",
    "decode": "decode tokens/s within 20% (target >= 80%)",
    "decode_held_out": "  of which not used to fit the constants",
    "prefill": "prefill tokens/s within 30% (target >= 70%)",
    "prefill_held_out": "  of which not used to fit the constants",
    "ollama_memory": "Ollama size within 10%",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=str(ROOT / "tests/data/capacity_corpus.yaml"))
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    args = parser.parse_args()
    rows = evaluate(load_corpus(Path(args.corpus)))
    if args.markdown:
        print("| point | kind | measured | model | error | ok |")
        print("| --- | --- | ---: | ---: | ---: | --- |")
    for row in rows:
        flags = ("" if row.settings_complete else " (settings partly assumed)") + (
            " [fit]" if row.fit_set else ""
        )
        fit = ""
        if row.fit_right is not None:
            fit = f" fit {'right' if row.fit_right else 'WRONG'}"
        ok = "yes" if row.within else "no"
        if args.markdown:
            print(
                f"| [{row.id}]({row.source}){flags} | {row.kind} | {row.measured:,.2f} {row.unit} "
                f"| {row.predicted:,.2f} | {row.error:+.1%} | {ok}{fit} |"
            )
        else:
            print(
                f"{row.id:58} {row.kind:15} measured {row.measured:>10,.2f} {row.unit:7} "
                f"model {row.predicted:>10,.2f} error {row.error:+7.1%} {ok:3}{fit}{flags}"
            )
    print()
    for name, share in summarize(rows).items():
        line = (
            f"{TARGETS[name]}: {share.within}/{share.total} ({share.fraction:.0%}), "
            f"median |error| {share.median_abs_error:.1%}"
        )
        print(f"- {line}" if args.markdown else line)


if __name__ == "__main__":
    main()
