"""The API's one body parser: DRF's JSON parser with bounded nesting (``advisor.jsontext``)."""

from __future__ import annotations

import codecs

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from advisor.jsontext import json_loads


class BoundedJSONParser(JSONParser):
    """JSON bodies nested at most ``advisor.jsontext.MAX_DEPTH`` deep; deeper or malformed ones
    are a 400 in the error shape (DRF's parser let ``RecursionError`` through as a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            return json_loads(text)
        except ValueError as exc:  # JSONDecodeError, JsonTooDeep, UnicodeDecodeError
            raise ParseError(f"JSON parse error - {exc}") from None
