"""The load-test form: a target (discovered or typed), the sweep, the SLOs.

Validation is the engine's ``LoadTestConfig.parse`` (the same checks and ``BOUNDS`` as the CLI,
the API and the task); the allow-list and plan caps are checked by the service when the test is
created. After ``is_valid()``, ``cleaned_data["config"]`` is the ``LoadTestConfig``.
"""

from __future__ import annotations

from django import forms

from advisor.errors import AdvisorError
from advisor.loadtest import ApiKind, LoadTestConfig
from advisor.loadtest.config import (
    BOUNDS,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_TOKENS,
    DEFAULT_PROMPT_TOKENS,
    DEFAULT_REQUESTS_PER_LEVEL,
    DEFAULT_WARMUP,
    Bound,
)
from advisor.models import Assessment

# The form fields that go into LoadTestConfig, in order.
CONFIG_FIELDS = (
    "base_url",
    "model",
    "api",
    "concurrency",
    "requests_per_level",
    "warmup",
    "max_tokens",
    "prompt_tokens",
    "slo_ttft_ms",
    "slo_tpot_ms",
    "slo_e2e_ms",
)
ANY_WORKER = ""


def _number(label: str, help_text: str, *, bound: Bound, step="1") -> forms.CharField:
    """A number input showing the core's bounds (``config.BOUNDS``); the core checks them."""
    return forms.CharField(
        label=label,
        help_text=help_text,
        required=False,
        max_length=32,
        widget=forms.NumberInput(
            attrs={"min": f"{bound.low:g}", "max": f"{bound.high:g}", "step": step}
        ),
    )


class LoadTestForm(forms.Form):
    base_url = forms.CharField(
        label="Server base URL",
        max_length=500,
        help_text="Where the server listens, e.g. http://127.0.0.1:11434 (Ollama) or "
        "http://127.0.0.1:8000 (vLLM). Only hosts on the allow-list can be tested.",
        widget=forms.URLInput(attrs={"list": "target-urls", "autocomplete": "off"}),
    )
    model = forms.CharField(
        label="Model name on that server",
        max_length=255,
        help_text="As the server lists it (llama3.1:8b on Ollama, the repo id on vLLM).",
        widget=forms.TextInput(attrs={"list": "target-models", "autocomplete": "off"}),
    )
    api = forms.ChoiceField(
        label="Protocol",
        choices=[(k.value, k.value) for k in ApiKind],
        initial=ApiKind.AUTO.value,
        help_text="'auto' asks the server what it is first.",
    )
    concurrency = forms.CharField(
        label="Concurrency levels",
        max_length=200,
        initial=",".join(str(c) for c in DEFAULT_CONCURRENCY),
        help_text="Comma-separated numbers of requests in flight, one level after another.",
    )
    requests_per_level = _number(
        "Requests per level",
        "More requests give steadier percentiles and take longer.",
        bound=BOUNDS["requests_per_level"],
    )
    warmup = _number(
        "Warm-up requests", "Sent first and not measured (loads the model).", bound=BOUNDS["warmup"]
    )
    max_tokens = _number(
        "Output tokens per request", "Fixed answer length.", bound=BOUNDS["max_tokens"]
    )
    prompt_tokens = _number(
        "Prompt tokens per request",
        "Approximate synthetic prompt length.",
        bound=BOUNDS["prompt_tokens"],
    )
    slo_ttft_ms = _number(
        "TTFT target (ms, optional)",
        "Counts goodput: requests meeting every target.",
        bound=BOUNDS["slo_ttft_ms"],
        step="any",
    )
    slo_tpot_ms = _number(
        "TPOT target (ms, optional)",
        "Time per output token after the first.",
        bound=BOUNDS["slo_tpot_ms"],
        step="any",
    )
    slo_e2e_ms = _number(
        "End-to-end target (ms, optional)",
        "Whole-request latency.",
        bound=BOUNDS["slo_e2e_ms"],
        step="any",
    )
    queue = forms.ChoiceField(
        label="Run it from",
        required=False,
        help_text="A worker on the server's own host measures without the network in the way.",
    )
    assessment = forms.ModelChoiceField(
        queryset=Assessment.objects.none(),
        required=False,
        label="Attach the results to an assessment (optional)",
        help_text="Its recommendation can then use these measurements, and its prediction is "
        "drawn beside them.",
        empty_label="None",
    )

    def __init__(self, *args, queues=(), assessments=None, **kwargs):
        """``queues``: (value, label) pairs of host queues; ``assessments``: attachable ones."""
        super().__init__(*args, **kwargs)
        self.fields["queue"].choices = [(ANY_WORKER, "Any worker"), *queues]
        self.fields["assessment"].queryset = (
            assessments if assessments is not None else Assessment.objects.all()
        )
        for name, default in (
            ("requests_per_level", DEFAULT_REQUESTS_PER_LEVEL),
            ("warmup", DEFAULT_WARMUP),
            ("max_tokens", DEFAULT_MAX_TOKENS),
            ("prompt_tokens", DEFAULT_PROMPT_TOKENS),
        ):
            self.fields[name].initial = default
        for name, field in self.fields.items():
            field.widget.attrs["aria-describedby"] = f"help-{name} error-{name}"

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        data = {name: cleaned.get(name) for name in CONFIG_FIELDS}
        try:
            cleaned["config"] = LoadTestConfig.parse(data)
        except AdvisorError as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return cleaned
