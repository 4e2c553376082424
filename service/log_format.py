"""How log records are written: uvicorn's text lines (the default) or, with
`TCPR_LOG_FORMAT=json`, one JSON object per line for a log shipper to index.

Either way a record carries only what contract/logs.py allows (its filters run before any
formatter). A JSON line holds `time` (RFC 3339, UTC), `level`, `logger`, `message`, the
`request_id` of the request or websocket connection it was written for (the one the client
sees in `X-Request-ID` and in every refusal's body), and for each request's access line its
`method`, `path` (the query cut), `status`, `client` and `duration_ms` (to the response's start).
"""

from __future__ import annotations

import json
import logging
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

LogFormat = Literal["text", "json"]


@dataclass(frozen=True, slots=True)
class Current:
    """The request (or websocket connection) a task is serving."""

    request_id: str
    began: float  # time.monotonic()


current: ContextVar[Current | None] = ContextVar("tcpr_request", default=None)

# What every LogRecord has: anything else on a record was passed with `extra=`.
STANDARD: Final = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's coloured copy of the message
    "taskName",
}
ACCESS_FIELDS: Final = ("client", "method", "path", "http_version", "status")


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (a traceback is a field, not more lines)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        now = current.get()
        if now is not None:
            line["request_id"] = now.request_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            line.update(zip(ACCESS_FIELDS, record.args, strict=False))
            if now is not None:
                line["duration_ms"] = round((time.monotonic() - now.began) * 1000, 1)
        for name, value in vars(record).items():
            if name not in STANDARD and name not in line and not name.startswith("_"):
                line[name] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter `tcpr` commands write records with in this format."""
    if log_format == "json":
        return JsonLines()
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")


def uvicorn_config(log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's `log_config` for `tcpr serve`: its own for text; for JSON the same handlers
    and loggers, every one (the root's too, where the service's records go) in JSON."""
    from uvicorn.config import LOGGING_CONFIG

    if log_format == "text":
        return LOGGING_CONFIG
    config: dict[str, Any] = json.loads(json.dumps(LOGGING_CONFIG))
    for name in config["formatters"]:
        config["formatters"][name] = {"()": f"{__name__}.JsonLines"}
    config["root"] = {"handlers": ["default"], "level": "INFO"}
    return config
