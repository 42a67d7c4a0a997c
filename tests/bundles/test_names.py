"""Model names are checked against an inert alphabet; labels always fold into valid DNS labels."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from advisor.bundles.names import DNS_LABEL_MAX, check_model_name, dns_label
from advisor.errors import AdvisorError

DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


@pytest.mark.parametrize(
    "name",
    [
        "meta-llama/Llama-3.1-8B-Instruct",
        "llama3.1:8b",
        "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M",
        "qwen2.5:0.5b-instruct-q4_K_M",
        "library/mistral@sha256:abc123",
    ],
)
def test_it_accepts_real_repo_ids_and_tags(name):
    assert check_model_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "llama; rm -rf /",
        "$(reboot)",
        "a\nkind: Secret",
        "model name",
        "-rf",
        "../etc/passwd",
        "a//b",
        "x" * 201,
        "`id`",
        "a'b",
    ],
)
def test_it_refuses_names_that_could_reach_a_shell_or_yaml_key(name):
    with pytest.raises(AdvisorError) as caught:
        check_model_name(name)
    assert caught.value.field == "model"


@given(st.text(max_size=120))
def test_it_folds_any_text_into_a_valid_dns_label(text):
    label = dns_label(text)
    assert DNS_LABEL.fullmatch(label)
    assert len(label) <= DNS_LABEL_MAX


def test_it_keeps_room_for_suffixes_when_asked():
    assert len(dns_label("a" * 100, limit=40)) == 40
    assert dns_label("!!!") == "llm"
