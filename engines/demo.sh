#!/usr/bin/env bash
# The one-command demo: start the real engines (installing them on first use), sweep both through
# the advisor's load tester, print the comparison and the advisor's verdict, and name the pages to
# open. Arguments go to engines/demo.py (e.g. --concurrency 1,2,4,8 --requests 16).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
make migrate
make engines
.venv/bin/python engines/demo.py "$@"
echo
echo "Next: \`make run\` and open the pages above; \`make engines-stop\` stops the engines."
