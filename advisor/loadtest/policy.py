"""Safety: which targets a load test may hit, and how hard.

- The target's host must match ``ADVISOR_LOADTEST_ALLOWED_HOSTS`` (default loopback only): an entry
  is a network (``127.0.0.0/8``, ``::1``, ``10.0.0.0/8``) that every resolved address must fall in,
  or an exact host name (``localhost``, ``gpu-box.lan``). The check runs after DNS resolution and
  the run then connects only to the addresses checked (``PinnedResolver``), so a name that resolves
  elsewhere later (DNS rebinding) can't redirect the traffic.
- Cloud metadata and link-local addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), the
  unspecified address and multicast are refused whatever the allow-list says.
- Redirects are never followed (the client sends ``allow_redirects=False``).
- Caps on concurrency, duration and requests, and on tests a user may start per hour.

Every refusal is an ``AdvisorError`` naming the field. Pure Python; the resolver is one seam
(``resolve`` here, or the ``resolver=`` argument) so tests never touch real DNS.
"""

from __future__ import annotations

import ipaddress
import math
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp.abc import AbstractResolver

from advisor.errors import AdvisorError
from advisor.loadtest.config import LoadShape, LoadTestConfig

# Caps: enough to find a single server's knee past a 200-user workload (vLLM users measure
# hundreds of streams), not enough to be a weapon; the client holds 1,000+ streams on one core
# (docs/loadtest.md, bench/loadtest.py).
MAX_CONCURRENCY = 1024
MAX_DURATION_S = 300.0
MAX_TOTAL_REQUESTS = 5000
# Load tests a user may start in any rolling hour (issue 5 asks for a limit; 20 is a sweep a
# few minutes for an hour straight).
LOADTESTS_PER_USER_PER_HOUR = 20

ALWAYS_DENIED = tuple(
    ipaddress.ip_network(net)
    for net in (
        "169.254.0.0/16",  # link-local, incl. 169.254.169.254 cloud metadata
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS IPv6 metadata
        "0.0.0.0/8",  # "this host": connects to local services by surprise
        "::/128",
        "224.0.0.0/4",  # multicast
        "ff00::/8",
        "255.255.255.255/32",
    )
)

Resolve = Callable[[str], list[str]]


def resolve(host: str) -> list[str]:
    """The addresses ``host`` resolves to (the one DNS seam). Unresolvable: an empty list."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0]).split("%", 1)[0]
        if address not in seen:
            seen.append(address)
    return seen


def _normalize_host(host: str) -> str:
    host = host.strip().lower()
    return host[:-1] if host.endswith(".") else host


@dataclass(frozen=True)
class AllowList:
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    names: frozenset[str]

    @classmethod
    def parse(cls, entries: list[str] | tuple[str, ...]) -> AllowList:
        networks, names = [], set()
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(_normalize_host(entry))
        return cls(tuple(networks), frozenset(names))

    def describe(self) -> str:
        return ", ".join([str(n) for n in self.networks] + sorted(self.names)) or "nothing"


@dataclass(frozen=True)
class CheckedTarget:
    """A target that passed: its host, port and the only addresses the run may connect to."""

    host: str
    port: int
    addresses: tuple[str, ...]

    def resolver(self) -> PinnedResolver:
        return PinnedResolver(self.host, self.addresses)


def check_target(
    base_url: str, *, allowed_hosts: list[str] | tuple[str, ...], resolver: Resolve = resolve
) -> CheckedTarget:
    """Refuse (``AdvisorError(field="base_url")``) a target outside the allow-list."""
    try:
        parts = urlsplit(base_url.strip())
        port = parts.port
    except ValueError:
        raise AdvisorError(f"malformed URL {base_url!r}", field="base_url") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise AdvisorError("the base URL must be http:// or https:// with a host", field="base_url")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise AdvisorError("credentials in the URL are not allowed", field="base_url")
    host = _normalize_host(parts.hostname)
    port = port or (443 if parts.scheme == "https" else 80)
    allow = AllowList.parse(allowed_hosts)
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    addresses = [str(literal)] if literal else resolver(host)
    if not addresses:
        raise AdvisorError(f"cannot resolve host {host!r}", field="base_url")
    parsed = [ipaddress.ip_address(a) for a in addresses]
    for address in parsed:
        mapped = getattr(address, "ipv4_mapped", None) or address
        if any(mapped in net for net in ALWAYS_DENIED if mapped.version == net.version):
            raise AdvisorError(
                f"{host} resolves to {address}, a link-local/metadata or special address: refused",
                field="base_url",
            )
    if host in allow.names and literal is None:
        return CheckedTarget(host, port, tuple(addresses))
    for address in parsed:
        mapped = getattr(address, "ipv4_mapped", None) or address
        if not any(mapped in net for net in allow.networks if mapped.version == net.version):
            raise AdvisorError(
                f"{host} ({address}) is not in ADVISOR_LOADTEST_ALLOWED_HOSTS "
                f"({allow.describe()}); ask an administrator to allow it",
                field="base_url",
            )
    return CheckedTarget(host, port, tuple(addresses))


class PinnedResolver(AbstractResolver):
    """An aiohttp resolver that answers only for the checked host, with the checked addresses."""

    def __init__(self, host: str, addresses: tuple[str, ...]):
        self.host = host
        self.addresses = addresses

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET):
        if _normalize_host(host) != self.host:
            raise OSError(f"{host} was not checked by the load-test policy")
        results = []
        for address in self.addresses:
            version = ipaddress.ip_address(address).version
            results.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": socket.AF_INET6 if version == 6 else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        return results

    async def close(self) -> None:
        return None


def planned_requests(config: LoadTestConfig) -> int:
    """The most requests ``config`` can send (duration-based levels: estimated as N per level)."""
    levels = len(config.concurrency)
    if config.shape is LoadShape.POISSON:
        levels = 1
    elif config.shape is LoadShape.SLO_SEARCH:
        low, high = min(config.concurrency), max(config.concurrency)
        doublings = math.ceil(math.log2(high / low)) + 1 if high > low else 1
        levels = doublings + math.ceil(math.log2(max(high - low, 1)))
    return config.warmup + levels * config.requests_per_level


def check_limits(config: LoadTestConfig) -> None:
    """Refuse configs past the caps (``AdvisorError`` naming the field)."""
    if max(config.concurrency) > MAX_CONCURRENCY:
        raise AdvisorError(
            f"concurrency is capped at {MAX_CONCURRENCY} (asked {max(config.concurrency)})",
            field="concurrency",
        )
    if config.max_duration_s > MAX_DURATION_S:
        raise AdvisorError(
            f"a load test may run at most {MAX_DURATION_S:g} s", field="max_duration_s"
        )
    if config.duration_s is not None:
        levels = 1 if config.shape is LoadShape.POISSON else len(config.concurrency)
        if config.duration_s * levels > MAX_DURATION_S:
            raise AdvisorError(
                f"{levels} levels of {config.duration_s:g} s pass the {MAX_DURATION_S:g} s cap",
                field="duration_s",
            )
    total = planned_requests(config)
    if total > MAX_TOTAL_REQUESTS:
        raise AdvisorError(
            f"this plan sends up to {total} requests; the cap is {MAX_TOTAL_REQUESTS}",
            field="requests_per_level",
        )


def check_hourly_limit(started_in_last_hour: int, *, limit: int = LOADTESTS_PER_USER_PER_HOUR):
    if started_in_last_hour >= limit:
        raise AdvisorError(
            f"you started {started_in_last_hour} load tests in the last hour; the limit is {limit}",
            field="base_url",
        )


def check_config(
    config: LoadTestConfig,
    *,
    allowed_hosts: list[str] | tuple[str, ...],
    resolver: Resolve = resolve,
) -> CheckedTarget:
    """Every check that needs no database: caps, then the target. Returns the pinned target."""
    check_limits(config)
    return check_target(config.base_url, allowed_hosts=allowed_hosts, resolver=resolver)
