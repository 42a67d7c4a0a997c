"""``build_bundle``: stored recommendation + estimate + answers -> a ``Bundle`` of validated files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.bundles.archive import Bundle, BundleFile
from advisor.bundles.inputs import BundleInput, bundle_input_from
from advisor.bundles.targets import TARGETS
from advisor.bundles.targets.readme import render_readme


def build_bundle(
    recommendation: Mapping[str, Any] | None,
    estimate: Mapping[str, Any] | None,
    answers: Mapping[str, Any] | None,
    *,
    backend: str | None = None,
) -> Bundle:
    """Render every target for the recommended backend (or ``backend``) into one ``Bundle``.

    Pure: takes the JSON stored on a ``Recommendation`` row, so it works from rows, the CLI and
    tests alike. Raises ``AdvisorError(field=...)`` for unusable input (e.g. a model name with
    characters that could reach a shell or a YAML key).
    """
    inp = bundle_input_from(recommendation, estimate, answers, backend=backend)
    return build_bundle_from_input(inp)


def build_bundle_from_input(inp: BundleInput) -> Bundle:
    files: list[BundleFile] = []
    for target in TARGETS.values():
        if target.applies_to(inp):
            files.extend(target.render(inp))
    files.append(render_readme(inp, files))
    paths = [f.path for f in files]
    if len(paths) != len(set(paths)):
        raise RuntimeError(f"two targets wrote the same path: {sorted(paths)}")
    files.sort(key=lambda f: f.path)
    return Bundle(root=f"{inp.name}-{inp.backend}", backend=str(inp.backend), files=files)
