"""Formatting helpers used by every page."""

from __future__ import annotations

from advisor.templatetags.advisor_ui import (
    billions,
    evidence,
    gib,
    label,
    num,
    percent,
    placeholders,
    server_label,
)


def test_it_formats_numbers_flags_and_passes_text_through():
    assert num(1234.56) == "1,234.6" and num(1234) == "1,234" and num(2.5, 2) == "2.50"
    assert num(True) == "yes" and num(None) == "" and num("0.32") == "0.32"


def test_it_formats_bytes_fractions_and_parameter_counts():
    assert gib(85520809984) == "79.6 GiB" and percent(0.734) == "73%"
    assert billions(8.03e9) == "8.0B"


def test_it_names_servers_as_their_products():
    assert server_label("vllm") == "vLLM" and server_label("llamacpp") == "llama.cpp"
    assert server_label("") == "server"


def test_it_spells_names_as_people_write_them():
    assert label("vllm_p95") == "vLLM p95"
    assert label("ollama_p95_ms") == "Ollama p95 (ms)"
    assert label("multi_lora") == "Multi LoRA"
    assert label("users") == "Users"


def test_it_rounds_evidence_for_people_and_drops_what_the_sentence_says():
    reason = {
        "message": "Ollama waits (predicted p95 22.3 s on Ollama vs 4.8 s on vLLM).",
        "evidence": {
            "p95_ms": 22344.699279477463,
            "ratio": 0.1499999,
            "users": 1024,
            "prediction": "predicted p95 22.3 s on Ollama vs 4.8 s on vLLM",
            "fast_ms": 85.4,
        },
    }
    assert evidence(reason) == [
        ("P95 (ms)", "22.3 s"),
        ("Ratio", "0.15"),
        ("Users", "1,024"),
        ("Fast (ms)", "85 ms"),
    ]


def test_it_shows_a_rules_placeholders_as_named_slots_and_escapes_the_rest():
    html = placeholders("You serve from {hardware} with {vllm_p95:.0f} <b>")
    assert "{" not in html and "<b>" not in html
    assert '<var title="filled in from your answers">hardware</var>' in html
    assert ">vLLM p95</var>" in html
