"""Deployment bundles for stored recommendations (a thin shell around ``advisor.bundles``)."""

from __future__ import annotations

from advisor.bundles import Bundle, build_bundle
from advisor.models import Recommendation


def bundle_for_recommendation(
    *, recommendation: Recommendation, backend: str | None = None
) -> Bundle:
    """The bundle for ``recommendation``: its stored result and estimate, and its answers.

    ``backend`` renders the other server instead of the recommended one. Raises ``AdvisorError``
    (with the field) when the stored data cannot produce valid files, e.g. an unusable model name.
    """
    return build_bundle(
        recommendation.result,
        recommendation.estimate,
        recommendation.assessment.answers,
        backend=backend,
    )
