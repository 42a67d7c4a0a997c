"""Safety: which targets a load test may hit, and how hard.

- The target's host must match ``ADVISOR_LOADTEST_ALLOWED_HOSTS`` (default loopback only): an entry
  is a network (``127.0.0.0/8``, ``::1``, ``10.0.0.0/8``) that every resolved address must fall in,
  or an exact host name (``localhost``, ``gpu-box.lan``). The check runs after DNS resolution, in
  the one outbound path (``probes/outbound.py``), and every request then connects only to the
  addresses checked (``CheckedTarget``), so a name that resolves elsewhere later (DNS
  rebinding) can't redirect the traffic.
- Cloud metadata and link-local addresses (169.254.0.0/16, fe80::/10, fd00:ec2::254), the
  unspecified address and multicast are refused whatever the allow-list says.
- Redirects are never followed, and only http and https are spoken (``probes/outbound.py``).
- Caps on a plan's total requests and duration (each setting's bounds: ``config.BOUNDS``), and
  on tests a user may start per hour.

Every refusal is an ``AdvisorError`` naming the field. Pure Python; the resolver is one seam
(``probes.outbound.resolve``, or the ``resolver=`` argument) so tests never touch real DNS.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass

from advisor.errors import AdvisorError
from advisor.loadtest.config import MAX_DURATION_S, LoadShape, LoadTestConfig
from probes import outbound

# Caps on a whole plan: enough to find a single server's knee, not enough to be a weapon. The
# per-setting bounds (concurrency per level, duration, tokens...) are config.BOUNDS.
MAX_TOTAL_REQUESTS = 5000
# Load tests a user may start in any rolling hour, so one account cannot keep a server under
# load without end (20 is a sweep a few minutes for an hour straight).
LOADTESTS_PER_USER_PER_HOUR = 20

# The allow-list when none is configured (ADVISOR_LOADTEST_ALLOWED_HOSTS's default): this host.
DEFAULT_ALLOWED_HOSTS = ("127.0.0.0/8", "::1", "localhost")

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

Resolve = outbound.Resolve  # the DNS seam is probes.outbound.resolve; tests pass ``resolver=``


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
                names.add(outbound.normalize_host(entry))
        return cls(tuple(networks), frozenset(names))

    def describe(self) -> str:
        return ", ".join([str(n) for n in self.networks] + sorted(self.names)) or "nothing"

    def check(self, host: str, addresses: tuple[str, ...], literal: bool) -> None:
        """``outbound.Check``: refuse special addresses always, then anything not allowed."""
        parsed = [ipaddress.ip_address(a) for a in addresses]
        for address in parsed:
            mapped = getattr(address, "ipv4_mapped", None) or address
            if any(mapped in net for net in ALWAYS_DENIED if mapped.version == net.version):
                raise outbound.Refused(
                    f"{host} resolves to {address}, a link-local/metadata or special address: "
                    "refused"
                )
        if host in self.names and not literal:
            return
        for address in parsed:
            mapped = getattr(address, "ipv4_mapped", None) or address
            if not any(mapped in net for net in self.networks if mapped.version == net.version):
                raise outbound.Refused(
                    f"{host} ({address}) is not in ADVISOR_LOADTEST_ALLOWED_HOSTS "
                    f"({self.describe()}); ask an administrator to allow it"
                )


# What a policy check returns: the only addresses requests to that base URL may connect to.
CheckedTarget = outbound.Destination


def check_target(
    base_url: str,
    *,
    allowed_hosts: list[str] | tuple[str, ...],
    resolver: Resolve | None = None,
) -> CheckedTarget:
    """Resolve ``base_url`` once and refuse (``AdvisorError(field="base_url")``) a target outside
    the allow-list; the result pins the checked addresses for every request that follows."""
    try:
        return outbound.pin(base_url, check=AllowList.parse(allowed_hosts).check, resolver=resolver)
    except outbound.Refused as exc:
        raise AdvisorError(str(exc), field="base_url") from None


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
    """Refuse settings past ``config.BOUNDS`` and plans past the caps (``AdvisorError`` naming
    the field)."""
    config.check_bounds()
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


def check_hourly_limit(
    started_in_last_hour: int, *, limit: int = LOADTESTS_PER_USER_PER_HOUR
) -> None:
    if started_in_last_hour >= limit:
        raise AdvisorError(
            f"you started {started_in_last_hour} load tests in the last hour; the limit is {limit}",
            field="base_url",
        )


def check_config(
    config: LoadTestConfig,
    *,
    allowed_hosts: list[str] | tuple[str, ...],
    resolver: Resolve | None = None,
) -> CheckedTarget:
    """Every check that needs no database: caps, then the target. Returns the pinned target."""
    check_limits(config)
    return check_target(config.base_url, allowed_hosts=allowed_hosts, resolver=resolver)
