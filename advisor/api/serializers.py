"""Shared serializer behaviour for API input: JSON types as documented, unknown keys refused.

DRF coerces by default (``"5"`` for an integer field, ``5`` for a string field). A script sending
the wrong JSON type has a bug it should hear about, and the schema promises the types, so input
serializers built on ``StrictInputSerializer`` refuse values whose JSON type does not match.
"""

from __future__ import annotations

from rest_framework import serializers

UNKNOWN_FIELD = "Unknown field; see the schema at /api/schema/."


def _type_error(field: serializers.Field, value) -> str | None:
    """The message for a value of the wrong JSON type for ``field``; None when it fits."""
    if value is None:
        return None  # DRF's own allow_null handling decides
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "Must be a whole number."
    if isinstance(field, serializers.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "Must be a number."
    if isinstance(field, serializers.CharField | serializers.ChoiceField):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ListField):
        if not isinstance(value, list):
            return "Must be a list."
        for item in value:
            problem = _type_error(field.child, item)
            if problem:
                return f"Every item: {problem[0].lower()}{problem[1:]}"
    return None


class StrictInputSerializer(serializers.Serializer):
    """An input serializer that refuses undeclared keys and values of the wrong JSON type."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {key: [UNKNOWN_FIELD] for key in sorted(set(data) - set(self.fields))}
            for name, field in self.fields.items():
                if name in data and not field.read_only:
                    problem = _type_error(field, data[name])
                    if problem:
                        errors[name] = [problem]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
