"""Switch triggers: what would change the verdict, each a what-if re-decided by ``verdict.decide``.

Every verdict gets them, toward the other server, and a trigger is listed only when ``decide`` on
the changed facts really gives the other server (nothing here is a hand-written claim):

- **users**: the exact peak-user count where the verdict flips (a search: the verdict is monotone
  in users, docs/rules.md). When fewer users alone never flip a vLLM verdict (or more users an
  Ollama one), the count together with one other answer that must change with it ("at most 4
  peak concurrent users and you no longer need several LoRA adapters"), each re-decided.
- **hardware**, checked with the capacity model: serving from a Mac (vLLM -> Ollama; the smallest
  catalog Mac whose memory holds the model on Ollama); a Linux server with the reference GPU
  (Mac or CPU only -> vLLM, with the users it takes); a smaller format or a smaller model of the
  same family that fits one GPU (tensor parallelism -> Ollama, with the users it takes).
- **answers**: each latency target dropped, each feature removed or added, another use case,
  deployment target, team skills or OS. A requirement (Mac, CPU only, tensor parallelism) is not
  moved by weighed answers, so these are tried only for a weighed verdict.
- **measured**: for Ollama, the mildest load test at the peak that would flip it; for vLLM, a load
  test showing Ollama holding the peak.

Each trigger is ``{id, condition, becomes, message, threshold?, what_if?}``: ``threshold`` is the
numeric flip point, ``what_if`` the answers to change (JSON; None clears an answer), absent for a
measurement. Cost: answer-only what-ifs reuse the facts' capacity estimate (``Facts.with_answers``,
no re-estimate); the hardware what-ifs run the capacity model a bounded number of times
(``what_ifs.py``: ``MAX_MAC_ESTIMATES``; ``MAX_ONE_GPU_CANDIDATES`` and one ``facts_build`` of the
chosen one; the reference server's 1-4 per weight format, ``MAX_GPU_SERVER_ESTIMATES``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from advisor.errors import AdvisorError
from advisor.rules.checks import ms
from advisor.rules.facts import Facts, metric
from advisor.rules.thresholds import (
    COLLAPSE_P95_RATIO,
    DEGRADED_P95_RATIO,
    MAX_FAILURE_RATE,
)
from advisor.rules.verdict import Verdict, decide
from advisor.rules.what_ifs import (
    WhatIf,
    answer_what_ifs,
    gpu_server_what_if,
    mac_what_if,
    merge,
    one_gpu_what_if,
)
from probes.kinds import Backend

MAX_USERS_SEARCHED = 100_000  # the questionnaire's bound on peak_concurrent_users
MAX_COMBINED = 2  # "users and another change" triggers listed when users alone never flip


# ---- the users search ----------------------------------------------------------------------------


def backend_at(facts: Facts, users: int) -> Backend:
    """The verdict at ``users`` peak users, all else equal, as a re-run with that answer gives it:
    the facts are built again (``Facts.rebuild``), because Ollama's slots, the predicted levels
    and so the cost at the peak are sized for the peak. Facts made by hand are only re-decided."""
    changed = facts.with_answers(peak_concurrent_users=users)
    if users != facts.users and facts.rebuild is not None:
        # Answers a re-run refuses (the report's GPUs and a stated TP) are only re-decided.
        with contextlib.suppress(AdvisorError):
            changed = facts.rebuild(changed.answers)
    return decide(changed).backend


def first_vllm_count(facts: Facts, ollama_at: int, vllm_at: int | None = None) -> int | None:
    """The smallest peak-user count above ``ollama_at`` (which gives Ollama) that gives vLLM.

    Searches up to ``vllm_at`` when it is known to give vLLM, else up to ``MAX_USERS_SEARCHED``
    (None when even that gives Ollama). It gallops up from ``ollama_at`` (+1, +2, +4...) before
    bisecting, because the flip is usually a few users away: ~5 re-decisions instead of ~17 for a
    bisection up to the bound (both find the same count, the verdict being monotone in users).
    """
    high = vllm_at
    if high is None:
        if backend_at(facts, MAX_USERS_SEARCHED) is Backend.OLLAMA:
            return None
        high = MAX_USERS_SEARCHED
    low, step = ollama_at, 1
    while low + step < high:
        probe = low + step
        if backend_at(facts, probe) is Backend.VLLM:
            high = probe
            break
        low, step = probe, step * 2
    while high - low > 1:  # invariant: Ollama at low, vLLM at high
        mid = (low + high) // 2
        low, high = (mid, high) if backend_at(facts, mid) is Backend.OLLAMA else (low, mid)
    return high


def users_flip_point(facts: Facts, verdict: Verdict) -> int | None:
    """The peak-user count at which the answer changes, all else equal; None if it never does.

    For Ollama, the smallest count that gives vLLM; for vLLM, the largest count that gives Ollama
    (None when vLLM wins even at one user). A requirement is not moved by users: None.
    """
    if verdict.required:
        return None
    if verdict.backend is Backend.OLLAMA:
        return first_vllm_count(facts, facts.users)
    if backend_at(facts, 1) is Backend.VLLM:
        return None
    first = first_vllm_count(facts, 1, facts.users)
    return None if first is None else first - 1


def _users_text(backend: Backend, count: int) -> str:
    """The users part of a condition, toward the other server of ``backend``."""
    if backend is Backend.OLLAMA:
        return f"peak concurrent users of {count} or more"
    if count == 1:
        return "a single user at a time"
    return f"peak concurrent users of {count} or fewer"


def _users_with(what_if: WhatIf, backend: Backend, users: int) -> int | None:
    """The flip count under ``what_if`` for a verdict on ``backend`` that users alone never flip:
    for vLLM the most users that still give Ollama, for Ollama the fewest that give vLLM. None
    when the change does not need users (it flips at any load) or users cannot help."""
    if backend is Backend.VLLM:
        if backend_at(what_if.facts, 1) is Backend.VLLM:
            return None
        first = first_vllm_count(what_if.facts, 1)
        return None if first is None else first - 1
    if backend_at(what_if.facts, users) is Backend.VLLM:
        return None  # the change alone flips it: listed on its own
    return first_vllm_count(what_if.facts, users)


def _combined(what_if: WhatIf, backend: Backend, count: int) -> dict[str, Any]:
    return _trigger(
        f"users+{what_if.id}",
        f"{_users_text(backend, count)} and {what_if.text}",
        backend.other,
        threshold=count,
        what_if={"peak_concurrent_users": count, **what_if.answers_json()},
    )


def _trigger(wid: str, condition: str, becomes: Backend, **extra: Any) -> dict[str, Any]:
    return {"id": wid, "condition": condition, "becomes": becomes.value, **extra}


# ---- measurements --------------------------------------------------------------------------------


def _hypothetical_sweep(single_ms: float, users: int, ratio: float, failed: int) -> dict[str, Any]:
    """An Ollama load-test result with one user at ``single_ms`` and the peak at ``ratio`` x that."""

    def level(concurrency: int, p95: float, failures: int) -> dict[str, Any]:
        requests = 100
        return {"concurrency": concurrency, "requests": requests, "succeeded": requests - failures,
                "failed": failures, "e2el_ms": {"p50": p95, "p95": p95}}  # fmt: skip

    return {
        "target": {"kind": "ollama", "base_url": "hypothetical", "model": ""},
        "levels": [level(1, single_ms, 0), level(users, single_ms * ratio, failed * 2)],
    }


def _measured_triggers(facts: Facts, backend: Backend) -> list[dict[str, Any]]:
    """For Ollama, the mildest measurement at the peak that would flip it to vLLM; for vLLM, a
    measurement of Ollama holding the peak. Each checked by re-deciding with a load test showing
    exactly that (a what-if, not a promise)."""
    single = metric(facts.predicted(Backend.OLLAMA).single(), "e2el_ms") or 1_000.0
    users = facts.users
    at = f"at {users} concurrent users"
    if backend is Backend.VLLM:
        tries = [("measured_holds", 1.0, 0,
                  f"Ollama's p95 {at} under {DEGRADED_P95_RATIO:g}x single-user "
                  f"({ms(single * DEGRADED_P95_RATIO)}), with no failures and your targets met",
                  DEGRADED_P95_RATIO)]  # fmt: skip
    elif users > 1:
        tries = [
            ("measured_p95", DEGRADED_P95_RATIO * 1.01, 0,
             f"Ollama's p95 {at} above {DEGRADED_P95_RATIO:g}x single-user ({ms(single * DEGRADED_P95_RATIO)})",
             DEGRADED_P95_RATIO),
            ("measured_collapse", COLLAPSE_P95_RATIO * 1.01, 0,
             f"Ollama's p95 {at} above {COLLAPSE_P95_RATIO:g}x single-user ({ms(single * COLLAPSE_P95_RATIO)})",
             COLLAPSE_P95_RATIO),
            ("measured_failures", 1.0, 1,
             f"more than {MAX_FAILURE_RATE:.0%} failed requests on Ollama {at}", MAX_FAILURE_RATE),
        ]  # fmt: skip
    else:
        return []
    for wid, ratio, failed, text, threshold in tries:
        hypothetical = _hypothetical_sweep(single, users, ratio, failed)
        changed = facts.with_load_tests((*facts.load_tests, hypothetical))
        if decide(changed).backend is backend.other:
            condition = f"a load test shows {text}"
            return [_trigger(wid, condition, backend.other, threshold=threshold)]
    return []  # the mildest measurement that flips it is the one to watch


# ---- all together --------------------------------------------------------------------------------


def switch_triggers(facts: Facts, verdict: Verdict, flip: int | None) -> tuple[dict[str, Any], ...]:
    """What would change ``verdict`` (``flip``: its ``users_flip_point``), each re-decided: the
    users first, then the counts with another change, the single changes, the measurements."""
    backend, other = verdict.backend, verdict.backend.other
    users: list[dict[str, Any]] = []
    if flip is not None:
        fewer = {"peak_concurrent_users": flip}
        users.append(
            _trigger("users", _users_text(backend, flip), other, threshold=flip, what_if=fewer)
        )
    combined: list[dict[str, Any]] = []
    single: list[dict[str, Any]] = []
    for what_if in _hardware_what_ifs(facts, verdict):
        if decide(what_if.facts).backend is other:
            single.append(_single(what_if, other))
        elif verdict.required:  # a weighed verdict's users are searched with the answers below
            count = _users_with(what_if, backend, facts.users)
            if count is not None:
                combined.append(_combined(what_if, backend, count))
    measured: list[dict[str, Any]] = []
    if not verdict.required:
        what_ifs = answer_what_ifs(facts)
        if flip is None:
            combined += _combined_triggers(facts, backend, what_ifs)
        single += [_single(w, other) for w in what_ifs if decide(w.facts).backend is other]
        measured = _measured_triggers(facts, backend)
    out = users + combined + single + measured
    for trigger in out:
        trigger["message"] = f"{trigger['condition']}: {other.label}"
    return tuple(out)


def _hardware_what_ifs(facts: Facts, verdict: Verdict) -> list[WhatIf]:
    """vLLM: one GPU instead of tensor parallelism (when it is required), a Mac. Ollama required
    by a Mac or CPU only: a Linux GPU server. A weighed Ollama verdict: none (its hardware
    already runs vLLM)."""
    ids = {r.rule_id for r in verdict.required}
    makers: list[Callable[[Facts], WhatIf | None]] = []
    if verdict.backend is Backend.VLLM:
        if "constraint.tensor_parallel" in ids:
            makers.append(one_gpu_what_if)
        makers.append(mac_what_if)
    elif ids & {"constraint.macos", "constraint.cpu_only"}:
        makers.append(gpu_server_what_if)
    return [w for w in (make(facts) for make in makers) if w is not None]


def _single(what_if: WhatIf, becomes: Backend) -> dict[str, Any]:
    return _trigger(what_if.id, f"if {what_if.text}", becomes, what_if=what_if.answers_json())


def _combined_triggers(
    facts: Facts, backend: Backend, what_ifs: list[WhatIf]
) -> list[dict[str, Any]]:
    """Users alone never flip it: the answer changes that, with the right number of users, do.

    The first ``MAX_COMBINED`` changes that do on their own (the one with the most room first);
    when none does, the changes that each narrow the margin, added greedily (narrowest first)
    until together they do. Probed at one user for vLLM, at the most users searched for Ollama,
    where the users are most on the other server's side.
    """
    other = backend.other
    probe = 1 if backend is Backend.VLLM else MAX_USERS_SEARCHED

    def at_probe(f: Facts) -> tuple[Backend, float]:
        v = decide(f.with_answers(peak_concurrent_users=probe))
        return v.backend, v.scores[backend.value] - v.scores[other.value]

    base = at_probe(facts)[1]
    found: list[tuple[int, int, WhatIf]] = []
    narrowing: list[tuple[float, int, WhatIf]] = []
    for index, what_if in enumerate(what_ifs):
        flipped, margin = at_probe(what_if.facts)
        if flipped is other:
            count = _users_with(what_if, backend, facts.users)
            if count is not None:
                found.append((count, index, what_if))
                if len(found) == MAX_COMBINED:
                    break
        elif margin < base:
            narrowing.append((margin, index, what_if))
    if not found:
        chosen: list[WhatIf] = []
        for _, _, what_if in sorted(narrowing, key=lambda row: row[:2]):
            merged = merge(facts, [*chosen, what_if])
            if merged is None:
                continue  # it changes an answer a chosen change already sets
            chosen.append(what_if)
            if at_probe(merged.facts)[0] is other:
                count = _users_with(merged, backend, facts.users)
                if count is not None:
                    found.append((count, 0, merged))
                break
    most_room = -1 if backend is Backend.VLLM else 1  # vLLM: most users first; Ollama: fewest
    found.sort(key=lambda row: (most_room * row[0], row[1]))
    return [_combined(what_if, backend, count) for count, _, what_if in found[:MAX_COMBINED]]
