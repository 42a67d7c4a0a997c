"""Discovery against real loopback servers of each kind; redirects are refused."""

import pytest

from advisor.errors import AdvisorError
from advisor.loadtest import discover
from advisor.loadtest.discovery import ServerKind, parse_vllm_metrics
from advisor.loadtest.testserver import ScriptedServer


@pytest.mark.parametrize(
    ("kind", "api"),
    [
        (ServerKind.VLLM, "openai"),
        (ServerKind.OLLAMA, "ollama"),
        (ServerKind.LLAMACPP, "openai"),
        (ServerKind.OPENAI, "openai"),
    ],
)
def test_it_identifies_each_server_kind(kind, api):
    with ScriptedServer(kind=kind, model="qwen2.5:0.5b") as server:
        target = discover(server.url)
    assert target.kind is kind
    assert target.api == api
    assert target.models == ["qwen2.5:0.5b"]


def test_it_labels_ollama_even_when_asked_to_speak_openai_to_it():
    with ScriptedServer(kind=ServerKind.OLLAMA) as server:
        target = discover(server.url, api="openai")
    assert (target.kind, target.api) == (ServerKind.OLLAMA, "openai")


def test_it_says_when_an_asked_for_ollama_is_not_there():
    with ScriptedServer(kind=ServerKind.VLLM) as server, pytest.raises(AdvisorError) as caught:
        discover(server.url, api="ollama")
    assert "no Ollama server" in caught.value.message


def test_it_refuses_to_follow_redirects():
    with ScriptedServer(redirect_all=True) as server, pytest.raises(AdvisorError) as caught:
        discover(server.url)
    assert "redirect" in caught.value.message


def test_it_names_the_base_url_when_nothing_listens(unused_port):
    with pytest.raises(AdvisorError) as caught:
        discover(f"http://127.0.0.1:{unused_port}")
    assert caught.value.field == "base_url"


def test_it_reads_vllm_gauges_summed_over_models():
    text = (
        "# HELP vllm:num_requests_waiting x\n"
        'vllm:num_requests_waiting{model_name="a"} 3.0\n'
        'vllm:num_requests_waiting{model_name="b"} 2.0\n'
        'vllm:gpu_cache_usage_perc{model_name="a"} 0.5\n'
        'vllm:num_preemptions_total{model_name="a"} 7\n'
        "vllm:broken_line\n"
    )
    assert parse_vllm_metrics(text) == {
        "requests_waiting": 5.0,
        "kv_cache_usage": 0.5,
        "preemptions_total": 7.0,
    }


def test_it_identifies_an_https_server_and_refuses_a_certificate_nobody_vouches_for(tls_pair):
    server_tls, client_tls = tls_pair
    with ScriptedServer(kind=ServerKind.VLLM, tls=server_tls) as server:
        assert discover(server.url, tls=client_tls).kind is ServerKind.VLLM
        with pytest.raises(AdvisorError) as caught:
            discover(server.url)  # the system's trust store: the test's certificate is unknown
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
