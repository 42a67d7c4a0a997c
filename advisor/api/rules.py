"""``GET /api/v1/rules/``: the rules table ("how we decide"), public."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny

from advisor.rules.table import Category, Effect, rules_table


class RuleOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    category = serializers.ChoiceField(choices=[c.value for c in Category])
    condition = serializers.CharField(help_text="When the rule fires, in words.")
    effect = serializers.ChoiceField(choices=[e.value for e in Effect])
    effect_text = serializers.CharField()
    backend = serializers.CharField(allow_null=True, help_text="ollama, vllm, or null.")
    weight = serializers.FloatField()
    message = serializers.CharField(help_text="The template shown when it fires.")
    source = serializers.CharField(help_text="Where the judgement comes from.")


class RuleListApi(ListAPIView):
    """Every rule in evaluation order, with its condition, effect, weight and source."""

    permission_classes = [AllowAny]
    serializer_class = RuleOutputSerializer

    def get_queryset(self):
        return rules_table()
