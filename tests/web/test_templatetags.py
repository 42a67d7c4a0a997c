"""Formatting helpers used by every page."""

from __future__ import annotations

from advisor.templatetags.advisor_ui import billions, gib, num, percent, server_label


def test_it_formats_numbers_flags_and_passes_text_through():
    assert num(1234.56) == "1,234.6" and num(1234) == "1,234" and num(2.5, 2) == "2.50"
    assert num(True) == "yes" and num(None) == "" and num("0.32") == "0.32"


def test_it_formats_bytes_fractions_and_parameter_counts():
    assert gib(85520809984) == "79.6 GiB" and percent(0.734) == "73%"
    assert billions(8.03e9) == "8.0B"


def test_it_names_servers_as_their_products():
    assert server_label("vllm") == "vLLM" and server_label("llamacpp") == "llama.cpp"
    assert server_label("") == "server"
