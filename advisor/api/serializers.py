"""Shared serializer behaviour: unknown input keys are errors, never silently dropped."""

from __future__ import annotations

from rest_framework import serializers


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses keys it does not declare (a typo must not go unnoticed)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["Unknown field; see the schema at /api/schema/."] for key in unknown}
                )
        return super().to_internal_value(data)
