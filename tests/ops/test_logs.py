"""LOG_FORMAT=json: one JSON object a line with the structured fields of the request log."""

import json
import logging
import sys

from advisor.logs import JsonFormatter


def test_it_writes_one_json_object_with_extra_fields():
    record = logging.makeLogRecord(
        {"name": "advisor.requests", "levelname": "INFO", "msg": "GET %s", "args": ("/x",)}
    )
    record.status = 200
    record.duration_ms = 1.5
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "GET /x" and entry["logger"] == "advisor.requests"
    assert entry["status"] == 200 and entry["duration_ms"] == 1.5
    assert entry["time"].endswith("+00:00")


def test_it_includes_the_exception_and_stringifies_odd_values():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.makeLogRecord(
            {"name": "x", "levelname": "ERROR", "msg": "failed", "exc_info": sys.exc_info()}
        )
    record.thing = object()
    entry = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in entry["exception"]
    assert entry["thing"].startswith("<object object")


def test_it_logs_each_request_with_route_and_status(client, caplog, db):
    with caplog.at_level(logging.INFO, logger="advisor.requests"):
        client.get("/api/v1/tokens/")
    record = next(r for r in caplog.records if r.name == "advisor.requests")
    assert record.status == 401 and record.route == "api/v1/tokens/" and record.duration_ms >= 0
