"""JSON text from outside (API bodies, uploads, form fields, files): parsed with bounded nesting.

Python's ``json`` parser recurses once per nesting level and raises ``RecursionError`` near 1,000
levels (CPython's Modules/_json.c guards each nested array and object with
``Py_EnterRecursiveCall``), which is not a ``ValueError`` and so escaped every caller as a server
error. Nothing the advisor reads nests deeper than a model's
``config.json`` (four or five levels), so ``MAX_DEPTH`` leaves plenty of room. Plain Python: the
pure core, the forms and the API parser share it.
"""

from __future__ import annotations

import json

# Deepest nesting accepted: a hardware report nests 4 levels, a Hugging Face config.json about 5.
MAX_DEPTH = 64


class JsonTooDeep(ValueError):
    """The JSON nests deeper than ``MAX_DEPTH`` (a ``ValueError``, like a syntax error)."""

    def __init__(self, max_depth: int = MAX_DEPTH):
        super().__init__(f"JSON nested deeper than {max_depth} levels")


def json_depth_check(value: object, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise ``JsonTooDeep`` if ``value`` (lists and dicts) nests deeper than ``max_depth``.

    Walks with an explicit stack, so any depth is checked without recursion.
    """
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            raise JsonTooDeep(max_depth)
        stack.extend((child, depth + 1) for child in children)


def json_loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> object:
    """``json.loads`` that raises ``JsonTooDeep`` (a ``ValueError``) for deep nesting instead of
    ``RecursionError``; other bad text raises ``json.JSONDecodeError`` as usual."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise JsonTooDeep(max_depth) from None
    json_depth_check(value, max_depth=max_depth)
    return value
