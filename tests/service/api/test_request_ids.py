"""Request ids (service/api/request_ids.py) and JSON log lines (service/log_format.py): the id a
refusal's body and `X-Request-ID` header carry is the one on that request's log lines; a client's
sane id is kept, any other replaced; a websocket connection's lines carry its own."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import websockets
from support.harness import Server, event, service_settings, start_server

from service.log_format import JsonLines

# Where records end up: uvicorn's loggers do not propagate to the root.
HANDLED = ("", "uvicorn", "uvicorn.access")
NEW_ID = re.compile(r"[0-9a-f]{32}")


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonLines())
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]


@pytest.fixture
async def logged(sqlite_url: str) -> AsyncIterator[tuple[Server, Lines]]:
    server = await start_server(service_settings(sqlite_url, log_format="json"))
    lines = Lines()
    names = ("", "uvicorn", "uvicorn.access", "uvicorn.error")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    for name in HANDLED:
        logging.getLogger(name).addHandler(lines)
    try:
        yield server, lines
    finally:
        await server.stop()
        for name in HANDLED:
            logging.getLogger(name).removeHandler(lines)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def test_a_refusal_names_its_request_as_its_log_lines_do(
    logged: tuple[Server, Lines],
) -> None:
    server, lines = logged
    async with await server.client("adapter", "A") as adapter:
        refused = await adapter.post(
            "/api/v1/events?trace=1", json=event("e1", "call.received", "not a time")
        )
        stored = await adapter.post(
            "/api/v1/events", json=event("e1", "call.received", "2026-01-01T00:00:00Z")
        )
    assert refused.status_code == 422
    body = refused.json()
    rid = refused.headers["x-request-id"]
    assert NEW_ID.fullmatch(rid)
    assert body["request_id"] == rid
    assert body["field"] == "at" and "at" in body["detail"], body  # as it was, plus the id
    assert stored.status_code == 200 and "request_id" not in stored.json()
    assert (
        NEW_ID.fullmatch(stored.headers["x-request-id"]) and stored.headers["x-request-id"] != rid
    )

    records = lines.records()
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record), record
        assert datetime.fromisoformat(record["time"]).utcoffset() is not None
    (access,) = [r for r in records if r.get("request_id") == rid]
    assert access["logger"] == "uvicorn.access"
    assert (access["method"], access["path"], access["status"]) == (
        "POST",
        "/api/v1/events?…",
        422,
    )
    assert access["duration_ms"] >= 0


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("cad-7.gateway_42", True), ("has space", False), ("x" * 65, False), ('a"b', False)],
)
async def test_a_clients_request_id_is_kept_only_when_sane(
    server: Server, sent: str, kept: bool
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as anonymous:
        refused = await anonymous.get(
            "/api/v1/rejects", params={"agency": "A"}, headers={"X-Request-ID": sent}
        )
    assert refused.status_code == 401
    rid = refused.headers["x-request-id"]
    assert refused.json()["request_id"] == rid
    assert (rid == sent) is kept
    if not kept:
        assert NEW_ID.fullmatch(rid)


async def test_a_websocket_connection_has_an_id_on_its_lines(
    logged: tuple[Server, Lines],
) -> None:
    server, lines = logged
    token = await server.token("supervisor", "A")
    async with websockets.connect(server.ws_url) as connection:
        rid = connection.response.headers["x-request-id"]
        await connection.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await connection.recv())["type"] == "snapshot"
    await server.stop()  # the close is logged once the connection's task is done
    mine = [r for r in lines.records() if r.get("request_id") == rid]
    assert any("WebSocket /ws" in r["message"] for r in mine), mine
    assert any(r["message"].startswith("websocket closed (code 1000)") for r in mine), mine
