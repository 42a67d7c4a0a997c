"""How we decide: the rule table."""

from __future__ import annotations

import pytest

from advisor.rules.table import rules_table

pytestmark = pytest.mark.django_db


def test_it_shows_every_rule_with_an_anchor_condition_effect_and_source(client):
    html = client.get("/how-we-decide/").content.decode()
    for rule in rules_table():
        assert f'id="rule-{rule["id"]}"' in html
    assert "requires" in html and "toward" in html
