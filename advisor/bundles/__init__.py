"""Deployment bundles: ready-to-run, validated files for the recommended server.

Pure Python (no Django). ``build_bundle(recommendation, estimate, answers)`` takes the stored JSON
of a recommendation and returns a ``Bundle`` whose ``files`` can be previewed and whose
``to_zip()`` is deterministic. Targets (compose, Kubernetes, systemd, launchd, ...) are registered
in ``advisor.bundles.targets.TARGETS``.
"""

from advisor.bundles.archive import Bundle, BundleFile
from advisor.bundles.builder import build_bundle, build_bundle_from_input
from advisor.bundles.inputs import BundleInput, bundle_input_from

__all__ = [
    "Bundle",
    "BundleFile",
    "BundleInput",
    "build_bundle",
    "build_bundle_from_input",
    "bundle_input_from",
]
