"""python manage.py advise --answers FILE.json [--hardware FILE.json | --probe-local]
[--load-test RESULT.json ...] [--vllm-log FILE] [--vllm-metrics FILE] [--ollama-ps FILE]
[--bundle OUT.zip] [--json]

Runs the rules engine in-process (no worker, nothing stored). Without ``--hardware`` the answers
alone describe the hardware; ``--probe-local`` probes this host instead. vLLM's flags are answers
(``tensor_parallel_size``, ``max_num_seqs``, ...); ``--vllm-log`` / ``--vllm-metrics`` /
``--ollama-ps`` read your servers' output from files into the answers of the same names. Bad input
exits non-zero with the field at fault, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from advisor.errors import AdvisorError, AdvisorValidationError
from advisor.jsontext import JsonTooDeep, json_loads
from advisor.rules.answers import READING_FIELDS, Answers
from advisor.rules.assemble import facts_build
from advisor.rules.facts import Facts
from advisor.rules.recommend import Advice, recommend

MAX_INPUT_BYTES = 5 * 1024 * 1024  # answers, reports and results are kilobytes; refuse the absurd


def _read_json(path: str, what: str) -> object:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise CommandError(f"{what} file {path} is larger than {MAX_INPUT_BYTES} bytes")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{what} file {path} is not UTF-8 text") from None
    try:
        return json_loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            f"{what} file {path} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except JsonTooDeep as exc:
        raise CommandError(f"{what} file {path}: {exc}") from None


def _read_text(path: str, what: str) -> str:
    file = Path(path)
    try:
        if file.stat().st_size > MAX_INPUT_BYTES:
            raise CommandError(f"{what} file {path} is larger than {MAX_INPUT_BYTES} bytes")
        return file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None


def _field_errors(exc: AdvisorError, prefix: str = "") -> str:
    errors = exc.errors if isinstance(exc, AdvisorValidationError) else {exc.field: [exc.message]}
    lines = ["invalid answers:" if not prefix else f"invalid {prefix.rstrip('.')}:"]
    for field, messages in errors.items():
        for message in messages:
            lines.append(f"  {prefix}{field or 'answers'}: {message}")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Recommend Ollama or vLLM for a questionnaire answers file, with every reason."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--answers", required=True, help="questionnaire answers (JSON object)")
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--hardware", help="a hardware report from `python -m probes --json`")
        source.add_argument(
            "--probe-local", action="store_true", help="probe this host for its hardware"
        )
        parser.add_argument(
            "--load-test",
            action="append",
            default=[],
            metavar="RESULT.json",
            help="a load-test result (`manage.py loadtest --json`); repeat for each server. It "
            "counts only with a measured_on record of this very setup (see docs/rules.md); "
            "without one it is unknown hardware, listed and warned about",
        )
        for name, what in (
            ("vllm_log", "a vLLM start-up log: its KV budget replaces the modelled one"),
            ("vllm_metrics", "a saved vLLM /metrics page: vllm:cache_config_info's block count"),
            ("ollama_ps", "`ollama ps`, /api/ps or Ollama's load lines: the model's measured size"),
        ):
            parser.add_argument(f"--{name.replace('_', '-')}", metavar="FILE", help=what)
        parser.add_argument("--bundle", metavar="OUT.zip", help="write the deployment bundle")
        parser.add_argument("--json", action="store_true", help="print JSON instead of text")

    def handle(self, *args, **options) -> None:
        report = self._hardware(options)
        data = _read_json(options["answers"], "answers")
        if not isinstance(data, dict):
            raise CommandError("answers file must hold a JSON object of questionnaire answers")
        for name in READING_FIELDS:  # a file given on the command line wins over the answers'
            if options.get(name):
                data[name] = _read_text(options[name], name.replace("_", " "))
        try:
            answers = Answers.parse(data, hardware_report_attached=report is not None)
        except AdvisorError as exc:
            raise CommandError(_field_errors(exc)) from None
        results = [self._load_test(path) for path in options["load_test"]]
        try:
            facts = facts_build(answers, hardware_report=report, load_tests=results)
        except AdvisorError as exc:
            raise CommandError(_field_errors(exc)) from None
        rec = recommend(facts)
        if options["bundle"]:
            self._write_bundle(options["bundle"], rec, facts)
        if options["json"]:
            payload = {**rec.as_dict(), "estimate": facts.estimate, "answers": answers.as_dict()}
            self.stdout.write(json.dumps(payload, indent=2, sort_keys=True))
        else:
            self.stdout.write(render_text(rec))

    def _hardware(self, options: dict) -> dict | None:
        if options["probe_local"]:
            from probes import collect_report

            return collect_report()
        if not options["hardware"]:
            return None
        from probes.schema import ReportError, validate_report

        data = _read_json(options["hardware"], "hardware report")
        try:
            return validate_report(data)
        except ReportError as exc:
            raise CommandError(
                f"invalid hardware report: {exc.field or 'report'}: {exc.message}"
            ) from None

    def _load_test(self, path: str) -> dict:
        data = _read_json(path, "load-test result")
        if not isinstance(data, dict) or not isinstance(data.get("levels"), list):
            raise CommandError(f"load-test result {path}: expected an object with 'levels'")
        kind = str((data.get("target") or {}).get("kind") or "")
        if kind not in ("ollama", "llamacpp", "vllm"):
            raise CommandError(
                f"load-test result {path}: target.kind must be ollama, llamacpp or vllm, got {kind!r}"
            )
        return data

    def _write_bundle(self, path: str, rec: Advice, facts: Facts) -> None:
        from advisor.bundles import build_bundle

        answers = facts.answers.as_dict()
        # The bundle renders the hardware the verdict was sized for, also when a report chose it.
        answers.update(gpu=(facts.gpu or {}).get("id"), gpu_count=facts.gpu_count)
        answers["platform"] = facts.platform.value
        try:
            archive = build_bundle(rec.as_dict(), facts.estimate, answers).to_zip()
        except AdvisorError as exc:
            raise CommandError(f"cannot build the bundle: {exc.field}: {exc.message}") from None
        try:
            Path(path).write_bytes(archive)
        except OSError as exc:
            raise CommandError(f"cannot write {path}: {exc.strerror or exc}") from None
        self.stderr.write(f"bundle written to {path} ({len(archive)} bytes)")


def render_text(rec: Advice) -> str:
    """The verdict for a terminal: answer, reasons with their evidence, warnings, what flips it."""
    lines = [
        f"Recommendation: {rec.backend.label} (confidence {rec.confidence:.0%}, {rec.confidence_label})",
        "",
    ]
    for title, reasons in (("Decisive", rec.decisive), ("Supporting", rec.supporting),
                           ("Opposing", rec.opposing), ("Notes", rec.notes)):  # fmt: skip
        if reasons:
            lines.append(f"{title}:")
            lines.extend(f"  - [{r.rule_id}] {r.message}" for r in reasons)
            lines.append("")
    if rec.warnings:
        lines.append("Warnings:")
        lines.extend(f"  ! {w['message']}" for w in rec.warnings)
        lines.append("")
    if rec.switch_triggers:
        lines.append("The answer changes with:")
        lines.extend(f"  * {t['message']}" for t in rec.switch_triggers)
        lines.append("")
    lines.append(f"Fit: {rec.fit.get('message', 'unknown')}")
    serving = rec.serving  # the chosen server's serving plan
    if serving.get("command"):
        lines.append(f"Serve: {serving['command']}")
    elif serving.get("environment"):
        env = " ".join(f"{name}={value}" for name, value in serving["environment"].items())
        lines.append(f"Serve: {env} ollama serve   (model {serving['model']})")
    lines.append(f"Migration: {rec.migration['path']}")
    lines.extend(f"  {step}" for step in rec.migration["steps"])
    lines.append("")
    width = max(len(row["aspect"]) for row in rec.comparison)
    lines.append(f"{'':{width}}  vLLM | Ollama | yours")
    for row in rec.comparison:
        lines.append(f"{row['aspect']:{width}}  {row['vllm']} | {row['ollama']} | {row['yours']}")
    return "\n".join(lines)
