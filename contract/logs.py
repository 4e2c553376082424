"""What the service's and the adapters' logs may carry: ids, counts, kinds, statuses and reasons;
never event data, request bodies, caller details, query strings or credentials (a log is read by
more people, and kept longer, than the call records it would copy).

Our own log calls are written that way. Three things from libraries are not, and are fixed here:
- uvicorn's access and websocket lines carry the full URL, query string included (a filter may
  name a person): the query is cut to `?…`.
- at DEBUG, the websocket protocol dumps frames (`< TEXT '{"type": "auth", "token": …'`): dropped.
- at TRACE, uvicorn's ASGI message log prints each scope, query string included: dropped.
- SQLAlchemy's engine logs SQL parameters at INFO and rows at DEBUG, aiosqlite every statement
  with its parameters at DEBUG; those are event data. Both are held at WARNING unless someone
  set their level on purpose (and the engines hide parameters in error messages: store/db.py).
"""

from __future__ import annotations

import logging

# uvicorn hands its websocket protocol "uvicorn.error"; the adapters' EIDO client is websockets'.
FILTERED = (
    "uvicorn.access",
    "uvicorn.error",
    "uvicorn.asgi",
    "websockets.client",
    "websockets.server",
)
QUIET = ("sqlalchemy.engine", "aiosqlite")
FRAME_DUMPS = frozenset({"< %s", "> %s"})


class NoPatientData(logging.Filter):
    """Cuts query strings from uvicorn's URLs; drops websocket frame and ASGI message dumps."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in FRAME_DUMPS or record.name == "uvicorn.asgi":
            return False
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(arg) for arg in record.args)
        return True


def _path_only(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return arg.partition("?")[0] + "?…"
    return arg


def install() -> None:
    """Idempotent: every app the process creates calls it."""
    for name in FILTERED:
        logger = logging.getLogger(name)
        if not any(isinstance(f, NoPatientData) for f in logger.filters):
            logger.addFilter(NoPatientData())
    for name in QUIET:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
