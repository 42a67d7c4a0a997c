"""The questionnaire form, built from the questionnaire contract (``advisor.rules.answers``).

Every question, its help text, bounds and choices come from ``Answers.fields()``; validation is
``Answers.parse`` (one set of rules for the form, the API and the CLI), its field errors shown on
the fields. The form only adds the grouping and an optional stored hardware report to attach.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.jsontext import json_loads
from advisor.models import HardwareReport
from advisor.rules.answers import Answers
from advisor.rules.questions import MAX_PASTED_CHARS, MAX_VLLM_VERSION_CHARS, SERVER_SETTING_FIELDS

# Sections of the page, in order: (key, legend, why the section matters, field names).
SECTIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    (
        "workload",
        "Workload",
        "How many people, how long their requests are: the load decides the server.",
        ("use_case", "peak_concurrent_users", "avg_prompt_tokens", "avg_output_tokens"),
    ),
    (
        "model",
        "Model",
        "The model's size and context decide how much memory it needs.",
        ("model", "quantization", "context_length", "custom_model"),
    ),
    (
        "latency",
        "Latency targets",
        "Optional. With targets, we check the prediction and any load test against them.",
        ("slo_ttft_ms", "slo_tpot_ms", "slo_e2e_p95_ms"),
    ),
    (
        "hardware",
        "Hardware",
        "Pre-filled from this machine's latest probe when there is one.",
        ("hardware_report", "platform", "gpu", "gpu_count", "gpu_hourly_cost_usd"),
    ),
    (
        "features",
        "Features",
        "Some features exist in only one of the two servers.",
        ("features", "lora_adapters"),
    ),
    ("team", "Team", "Who will run it, and where.", ("team_skills", "deployment_target")),
    (
        "servers",
        "vLLM settings and your servers' readings (advanced)",
        "Optional. The flags you pass to vllm serve (blank: we choose), and output pasted from "
        "servers you already run: a figure they report replaces the modelled one.",
        SERVER_SETTING_FIELDS,
    ),
)
# Sections shown folded until one of their fields holds a value or an error.
COLLAPSED_SECTIONS = frozenset({"servers"})
# Fields that are ours, not questions of the contract.
FORM_ONLY_FIELDS = ("title", "hardware_report")
# Form fields whose value is a list (checkboxes).
MULTI_KINDS = ("multi_choice",)
# Longest accepted custom model config.json (bytes): real configs are a few kilobytes.
MAX_CUSTOM_MODEL_CHARS = 100_000


@dataclass(frozen=True)
class Section:
    key: str
    legend: str
    help: str
    fields: list  # bound fields
    foldable: bool = False  # advanced: shown in a <details> the user opens
    collapsed: bool = False  # foldable, and none of its fields holds a value or an error


def _widget_for(spec: dict) -> forms.Widget:
    kind = spec["kind"]
    attrs: dict = {}
    if spec.get("minimum") is not None:
        attrs["min"] = spec["minimum"]
    if spec.get("maximum") is not None:
        attrs["max"] = spec["maximum"]
    if kind == "choice":
        return forms.Select()
    if kind == "multi_choice":
        return forms.CheckboxSelectMultiple()
    if kind == "int":
        return forms.NumberInput(attrs={**attrs, "step": 1, "inputmode": "numeric"})
    if kind == "float":
        return forms.NumberInput(attrs={**attrs, "step": "any", "inputmode": "decimal"})
    if kind == "catalog":
        return forms.TextInput(
            attrs={
                "list": f"{spec['catalog']}-options",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        )
    if kind == "object":
        return forms.Textarea(attrs={"rows": 4, "placeholder": '{"architectures": [...], ...}'})
    if kind == "paste":
        return forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "pasted"})
    if kind == "text":
        return forms.TextInput(attrs={"placeholder": "0.33.0", "spellcheck": "false"})
    return forms.TextInput()


def _field_for(spec: dict) -> forms.Field:
    """A permissive Django field: the contract's parser does the real checking."""
    label = spec["label"]
    if spec.get("unit"):
        label = f"{label} ({spec['unit']})"
    common = {
        "label": label,
        "help_text": spec["help"],
        "required": False,
        "widget": _widget_for(spec),
    }
    choices = [(c["value"], c["label"]) for c in spec.get("choices", [])]
    if spec["kind"] == "choice":
        return forms.ChoiceField(choices=choices, **common)
    if spec["kind"] == "multi_choice":
        return forms.MultipleChoiceField(choices=choices, **common)
    if spec["kind"] == "object":
        return forms.CharField(max_length=MAX_CUSTOM_MODEL_CHARS, **common)
    if spec["kind"] == "paste":
        return forms.CharField(max_length=MAX_PASTED_CHARS, **common)
    if spec["kind"] == "text":
        return forms.CharField(max_length=MAX_VLLM_VERSION_CHARS, **common)
    return forms.CharField(max_length=200, **common)


def initial_from_report(report: dict | None) -> dict:
    """Questionnaire defaults taken from a probe report: platform, GPU and how many."""
    if not report:
        return {}
    initial: dict = {}
    system = str((report.get("host") or {}).get("os", "")).lower()
    if system in ("linux", "windows"):
        initial["platform"] = system
    elif system in ("darwin", "macos"):
        initial["platform"] = "macos"
    gpus = [g for g in report.get("gpus") or [] if isinstance(g, dict)]
    if gpus:
        first = gpus[0]
        initial["gpu"] = first.get("catalog_id") or first.get("name") or ""
        same = [g for g in gpus if g.get("name") == first.get("name")]
        initial["gpu_count"] = len(same)
    elif isinstance(report.get("gpus"), list):
        initial["gpu_count"] = 0
    return initial


class QuestionnaireForm(forms.Form):
    """Questions from the contract plus a title and an optional hardware report to attach.

    After ``is_valid()``: ``cleaned_data["answers"]`` is the parsed ``Answers``,
    ``cleaned_data["hardware_report"]`` a ``HardwareReport`` or None.
    """

    title = forms.CharField(
        label="Name this assessment (optional)",
        max_length=200,
        required=False,
        help_text="Shown in the history, e.g. 'Support chatbot, Q3'.",
    )
    hardware_report = forms.ModelChoiceField(
        queryset=HardwareReport.objects.none(),
        required=False,
        label="Attach a hardware report (optional)",
        help_text="The probed GPUs, memory and running servers then count as evidence, and the "
        "GPU questions below become optional.",
        empty_label="None: the answers below describe the hardware",
    )

    def __init__(self, *args, reports=None, validate_url: str | None = None, **kwargs):
        """``reports``: the hardware reports offered; ``validate_url``: the inline-check endpoint."""
        super().__init__(*args, **kwargs)
        self.specs = {spec["name"]: spec for spec in Answers.fields()}
        for name, spec in self.specs.items():
            self.fields[name] = _field_for(spec)
            if name not in self.initial and spec.get("default") not in (None, ()):
                self.initial[name] = spec["default"]
        self.fields["hardware_report"].queryset = (
            reports if reports is not None else HardwareReport.objects.all()
        )
        for name, field in self.fields.items():
            attrs = field.widget.attrs
            attrs["aria-describedby"] = f"help-{name} error-{name}"
            if validate_url and name != "title":
                # Inline check as each answer changes; the whole form is sent (cross-field rules).
                attrs.update(
                    {
                        "hx-post": validate_url,
                        "hx-trigger": "change",
                        "hx-target": f"#error-{name}",
                        "hx-swap": "outerHTML",
                    }
                )

    def sections(self) -> list[Section]:
        """The bound fields grouped for the page; contract fields no section names go last."""
        placed = {name for *_, names in SECTIONS for name in names}
        out = []
        for key, legend, help_text, names in SECTIONS:
            fields = [self[n] for n in names if n in self.fields]
            foldable = key in COLLAPSED_SECTIONS
            folded = foldable and not any(
                f.errors or (f.value() not in (None, "", [], self.specs[f.name]["default"]))
                for f in fields
            )
            out.append(Section(key, legend, help_text, fields, foldable, folded))
        rest = [self[n] for n in self.specs if n not in placed]
        if rest:
            out.append(Section("other", "More", "", rest))
        return out

    def answers_data(self) -> dict:
        """The raw answers as the contract expects them (unset fields left out: defaults apply)."""
        data: dict = {}
        for name, spec in self.specs.items():
            if spec["kind"] in MULTI_KINDS:
                values = (
                    self.data.getlist(self.add_prefix(name))
                    if hasattr(self.data, "getlist")
                    else []
                )
                data[name] = [v for v in values if v]
                continue
            value = self.data.get(self.add_prefix(name))
            if value in (None, ""):
                continue
            if spec["kind"] == "object":
                try:
                    value = json_loads(value)
                except ValueError as exc:
                    raise AdvisorError(f"not valid JSON: {exc}", field=name) from None
            data[name] = value
        return data

    def clean(self):
        cleaned = super().clean()
        report = cleaned.get("hardware_report")
        try:
            cleaned["answers"] = Answers.parse(
                self.answers_data(), hardware_report_attached=report is not None
            )
        except AdvisorValidationError as exc:
            for name, messages in exc.errors.items():
                self._add_contract_error(name, messages)
        except AdvisorError as exc:
            self._add_contract_error(exc.field, [exc.message])
        return cleaned

    def _add_contract_error(self, name: str | None, messages: list[str]) -> None:
        # A field Django already rejected (a choice outside the list) keeps its one message.
        if name in self.fields and name in self.errors:
            return
        for message in messages:
            self.add_error(name if name in self.fields else None, message)

    def errors_for(self, name: str) -> list[str]:
        """Validate everything, return the messages of one field (the inline check)."""
        self.is_valid()
        return list(self.errors.get(name, []))
