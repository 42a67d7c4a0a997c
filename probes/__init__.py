"""Hardware and server probes. Standalone: needs only Python 3.11+, psutil and nvidia-ml-py.

Copy this folder to a GPU server and run ``python -m probes --json`` there; upload the output to the
advisor. ``collect_report()`` is the same thing as a function. Nothing here imports Django.
"""

from probes.report import SCHEMA_VERSION, collect_report

__all__ = ["SCHEMA_VERSION", "collect_report"]
