"""bundle_for_recommendation reads a stored Recommendation row and its assessment."""

from __future__ import annotations

import pytest

from advisor.errors import AdvisorError
from advisor.models import Assessment, Recommendation
from advisor.services.bundles import bundle_for_recommendation
from tests.bundles.factories import estimate, scenario

pytestmark = pytest.mark.django_db


def _row(name: str, **answer_overrides) -> Recommendation:
    rec, est, ans = scenario(name)
    ans.update(answer_overrides)
    assessment = Assessment.objects.create(answers=ans)
    return Recommendation.objects.create(
        assessment=assessment,
        backend=rec["backend"],
        confidence=rec["confidence"],
        result=rec,
        estimate=est,
    )


def test_it_builds_the_bundle_of_a_stored_recommendation():
    row = _row("vllm-h100")
    bundle = bundle_for_recommendation(recommendation=row)
    assert bundle.backend == "vllm"
    assert "vllm/kubernetes.yaml" in bundle.paths
    assert bundle.to_zip() == bundle_for_recommendation(recommendation=row).to_zip()


def test_it_builds_without_a_stored_estimate():
    row = _row("ollama-4090")
    row.estimate = None
    row.save()
    bundle = bundle_for_recommendation(recommendation=row)
    assert "ollama/Modelfile" in bundle.paths


def test_it_renders_the_hardware_the_verdict_was_sized_for():
    row = _row("vllm-h100", gpu=None, gpu_count=None)
    row.result = {**row.result, "facts": {"gpu": "mi300x", "gpu_count": 2, "platform": "linux"}}
    row.estimate = estimate(gpu="mi300x", gpu_count=2)  # sized for the same hardware
    row.save()
    bundle = bundle_for_recommendation(recommendation=row)
    assert "amd.com/gpu" in bundle.file("vllm/kubernetes.yaml").content


def test_it_reports_an_unusable_stored_model_name_as_a_field_error():
    row = _row("vllm-h100", model="my model; rm -rf /")
    with pytest.raises(AdvisorError) as caught:
        bundle_for_recommendation(recommendation=row)
    assert caught.value.field == "model"
