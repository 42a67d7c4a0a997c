"""The allow-list is checked after DNS resolution (resolver faked at its one seam: no lookups, no
connections), metadata and link-local addresses are always refused, and the caps hold."""

import pytest

from advisor.errors import AdvisorError
from advisor.loadtest import LoadShape, LoadTestConfig
from advisor.loadtest.policy import (
    MAX_TOTAL_REQUESTS,
    check_config,
    check_hourly_limit,
    check_limits,
    check_target,
)

LOOPBACK_ONLY = ["127.0.0.0/8", "::1", "localhost"]


def fake_dns(table: dict[str, list[str]]):
    def resolver(host: str) -> list[str]:
        return table.get(host, [])

    return resolver


def refused(url: str, *, allowed=LOOPBACK_ONLY, dns=None) -> AdvisorError:
    with pytest.raises(AdvisorError) as caught:
        check_target(url, allowed_hosts=allowed, resolver=fake_dns(dns or {}))
    assert caught.value.field == "base_url"
    return caught.value


def test_it_allows_loopback_addresses_and_localhost():
    dns = fake_dns({"localhost": ["127.0.0.1", "::1"]})
    assert (
        check_target("http://127.0.0.1:8000", allowed_hosts=LOOPBACK_ONLY, resolver=dns).port
        == 8000
    )
    assert check_target(
        "http://[::1]:11434/", allowed_hosts=LOOPBACK_ONLY, resolver=dns
    ).addresses == ("::1",)
    checked = check_target("http://localhost.:8000", allowed_hosts=LOOPBACK_ONLY, resolver=dns)
    assert checked.host == "localhost" and checked.addresses == ("127.0.0.1", "::1")


def test_it_refuses_cloud_metadata_even_when_allowed():
    error = refused("http://169.254.169.254/latest", allowed=["0.0.0.0/0", "169.254.0.0/16"])
    assert "metadata" in error.message


def test_it_refuses_names_that_resolve_to_metadata():
    refused(
        "http://metadata.internal:80",
        allowed=["metadata.internal"],
        dns={"metadata.internal": ["169.254.169.254"]},
    )


def test_it_refuses_localhost_lookalikes_that_resolve_elsewhere():
    error = refused(
        "http://localhost.attacker.example:8000",
        dns={"localhost.attacker.example": ["203.0.113.7"]},
    )
    assert "ADVISOR_LOADTEST_ALLOWED_HOSTS" in error.message


def test_it_refuses_a_name_if_any_address_is_outside_the_list():
    refused("http://mixed.example", dns={"mixed.example": ["127.0.0.1", "198.51.100.1"]})


def test_it_refuses_ipv4_mapped_metadata_and_unspecified_addresses():
    refused("http://[::ffff:169.254.169.254]/", allowed=["::/0"])
    refused("http://0.0.0.0:8000/", allowed=["0.0.0.0/0"])


def test_it_refuses_credentials_odd_schemes_and_unresolvable_hosts():
    refused("http://user:pw@127.0.0.1:8000")
    refused("ftp://127.0.0.1/")
    refused("http://nowhere.invalid/")
    refused("http://127.0.0.1:99999/")


def test_it_allows_a_listed_network_after_resolution():
    dns = fake_dns({"gpu-box.lan": ["10.1.2.3"]})
    checked = check_target("http://gpu-box.lan:8000", allowed_hosts=["10.0.0.0/8"], resolver=dns)
    assert checked.addresses == ("10.1.2.3",)


def test_it_resolves_once_and_the_result_carries_the_checked_addresses():
    lookups = []

    def dns(host: str) -> list[str]:
        lookups.append(host)
        return ["10.1.2.3"]

    checked = check_target("https://gpu-box.lan", allowed_hosts=["10.0.0.0/8"], resolver=dns)
    assert lookups == ["gpu-box.lan"]
    assert (checked.scheme, checked.host, checked.port) == ("https", "gpu-box.lan", 443)
    assert checked.addresses == ("10.1.2.3",)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"concurrency": (1, 2048)}, "concurrency"),
        ({"max_duration_s": 301}, "max_duration_s"),
        ({"prompt_tokens": 10**12}, "prompt_tokens"),
        # each within its bounds, together over 8Mi prompt tokens held at once
        ({"concurrency": (1024,), "prompt_tokens": 131072}, "prompt_tokens"),
        ({"concurrency": (2,), "prompts": ("word " * 200_000,)}, "prompts"),
        ({"duration_s": 100.0, "concurrency": (1, 2, 4, 8)}, "duration_s"),
        ({"requests_per_level": MAX_TOTAL_REQUESTS}, "requests_per_level"),
    ],
)
def test_it_enforces_the_caps(overrides, field):
    config = LoadTestConfig(base_url="http://127.0.0.1:1", model="m", **overrides)
    with pytest.raises(AdvisorError) as caught:
        check_limits(config)
    assert caught.value.field == field


def test_it_counts_an_slo_search_plan_against_the_request_cap():
    config = LoadTestConfig(
        base_url="http://127.0.0.1:1",
        model="m",
        shape=LoadShape.SLO_SEARCH,
        concurrency=(1, 256),
        requests_per_level=400,
        slo_e2e_ms=100,
    )
    with pytest.raises(AdvisorError):
        check_config(config, allowed_hosts=LOOPBACK_ONLY, resolver=fake_dns({}))


def test_it_limits_tests_per_hour():
    check_hourly_limit(19, limit=20)
    with pytest.raises(AdvisorError):
        check_hourly_limit(20, limit=20)
