"""How we decide: the rules engine's table, in evaluation order, grouped by category."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from advisor.rules.table import rules_table


@require_GET
def rules(request: HttpRequest) -> HttpResponse:
    groups: dict[str, list[dict]] = {}
    for rule in rules_table():
        groups.setdefault(rule["category"], []).append(rule)
    return render(
        request, "rules.html", {"groups": groups, "count": sum(map(len, groups.values()))}
    )
