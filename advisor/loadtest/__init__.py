"""The load generator (pure asyncio, no Django): see docs/loadtest.md.

Public names (docs/CONTRACTS.md): ``LoadTestConfig``, ``run_load_test``, ``discover``,
``LoadTestResult``, ``DiscoveredServer`` (what answers at the base URL).
"""

from advisor.loadtest.config import ApiKind, Endpoint, LoadShape, LoadTestConfig
from advisor.loadtest.discovery import DiscoveredServer, discover
from advisor.loadtest.metrics import LevelResult, Stats
from advisor.loadtest.result import LoadTestResult, Progress, StopCode
from advisor.loadtest.runner import run_load_test
from probes.kinds import ServerKind

__all__ = [
    "ApiKind",
    "Endpoint",
    "LevelResult",
    "LoadShape",
    "LoadTestConfig",
    "LoadTestResult",
    "Progress",
    "ServerKind",
    "Stats",
    "StopCode",
    "DiscoveredServer",
    "discover",
    "run_load_test",
]
