"""No patient or caller details, and no token, in any log record (contract/logs.py): the service
runs with every logger at DEBUG while events, a refused body, an EIDO and a NEMSIS document
carrying a distinctive name, phone number and address go through it, its records written as
text and as JSON lines (`TCPR_LOG_FORMAT=json`, service/log_format.py)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import pytest
from support.harness import Panel, Server, at, event, service_settings, start_server
from support.paths import SHARED

from service.log_format import LogFormat, formatter

NAME = "Zebulon Quixtaffer"
PHONE = "919-555-0147"
ADDRESS = "4711 Marigold Crescent"
SECRETS = (NAME, PHONE, ADDRESS, "Quixtaffer", "5550147", "Marigold")
SHARED = SHARED / "standards"
# Handlers where records end up (uvicorn's loggers do not propagate to the root); levels on
# every logger that has one of its own.
HANDLED = ("", "uvicorn", "uvicorn.access")
CLIENT = ("httpx", "httpcore")
LOGGERS = (*HANDLED, "uvicorn.error", "uvicorn.asgi", "websockets", "sqlalchemy")


class Capture(logging.Handler):
    def __init__(self, log_format: LogFormat) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.json = log_format == "json"
        self.setFormatter(formatter(log_format))

    def service_lines(self) -> list[str]:
        """The lines not written by the test's own HTTP client."""
        if self.json:
            return [x for x in self.lines if not json.loads(x)["logger"].startswith("http")]
        return [x for x in self.lines if x.split(" ", 4)[3].partition(".")[0] not in CLIENT]

    def messages(self) -> list[str]:
        """Each record as `logger LEVEL message`, whichever the format."""
        if not self.json:  # date time LEVEL logger message
            return [" ".join((p[3], p[2], p[4])) for p in (x.split(" ", 4) for x in self.lines)]
        records = [json.loads(x) for x in self.lines]
        return [f"{r['logger']} {r['level']} {r['message']}" for r in records]

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # with any traceback


@pytest.fixture(params=["text", "json"])
async def captured(
    sqlite_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[tuple[Server, Capture]]:
    """A running service, then every logger at DEBUG into one capture (after uvicorn set up its
    own loggers, which replaces their handlers; the harness asks it for warnings only), written
    in the format `tcpr serve` writes with that `TCPR_LOG_FORMAT`."""
    server = await start_server(service_settings(sqlite_url, log_format=request.param))
    capture = Capture(request.param)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        if logger.name in HANDLED or logger is logging.getLogger():
            logger.addHandler(capture)
    try:
        yield server, capture
    finally:
        await server.stop()
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(capture)
            logger.setLevel(level)


def eido() -> bytes:
    sample = SHARED / "eido" / "samples" / "sample_call_transfer_EIDO.json"
    document = json.loads(sample.read_text())
    document["personComponent"][0]["personNameText"] = NAME
    document["callbackComponent"][0]["callBackInformationUri"] = [f"tel:{PHONE}"]
    document["locationComponent"][0]["civicAddressText"] = ADDRESS
    return json.dumps(document).encode()


def nemsis() -> bytes:
    sample = SHARED / "nemsis" / "samples" / "2022-EMS-1-Cardiac-Transport_v350.xml"
    text = sample.read_text()
    for element, value in (("ePatient.02", NAME), ("ePatient.05", ADDRESS)):
        start = text.index(f"<{element}")
        end = text.index(f"</{element}>", start)
        text = text[: text.index(">", start) + 1] + value + text[end:]
    return text.replace("</ePatient.02>", f"</ePatient.02><!-- {PHONE} -->", 1).encode()


async def test_no_caller_details_or_tokens_in_any_log_record(
    captured: tuple[Server, Capture],
) -> None:
    server, capture = captured
    if not SHARED.is_dir():
        pytest.skip(f"the shared standards samples are not at {SHARED}")
    personal = {"caller_name": NAME, "callback": PHONE, "address": ADDRESS, "notes": NAME}
    adapter_token = await server.token("adapter", "A")
    supervisor_token = await server.token("supervisor", "A")
    panel = await Panel.open(server, supervisor_token)
    await panel.next(type="snapshot")
    async with await server.client("adapter", "A") as adapter:
        stored = await adapter.post(
            "/api/v1/events", json=event("e1", "call.received", at(60), data=personal)
        )
        assert stored.status_code == 200, stored.text
        await panel.next(type="call")
        # Refused, each quoting the details somewhere: a bad time, a bad body, a conflict.
        bad_time = await adapter.post("/api/v1/events", json=event("e2", "call.answered", ADDRESS))
        assert bad_time.status_code == 422
        broken = await adapter.post("/api/v1/events", content=f'{{"caller": "{NAME}", {PHONE}')
        assert broken.status_code == 422
        changed = {**personal, "callback": PHONE + "9"}
        conflict = await adapter.post(
            "/api/v1/events", json=event("e1", "call.received", at(60), data=changed)
        )
        assert conflict.status_code == 409
        eido_answer = await adapter.post(
            "/api/v1/eido", content=eido(), headers={"Content-Type": "application/json"}
        )
        assert eido_answer.status_code in (200, 422), eido_answer.text
        report = await adapter.post(
            "/api/v1/ems/nemsis", content=nemsis(), headers={"Content-Type": "application/xml"}
        )
        assert report.status_code in (200, 422), report.text
    async with await server.client("admin", "A") as admin:
        assert (await admin.get("/api/v1/calls/A/C1/audit")).status_code == 200
        listed = await admin.get("/api/v1/audits", params={"agency": "A", "telecommunicator": NAME})
        assert listed.status_code == 200
        rejects = (await admin.get("/api/v1/rejects", params={"agency": "A"})).json()["rejects"]
        assert any(NAME in r["body"] for r in rejects)  # kept where it belongs
    await panel.close()

    lines = capture.messages()
    # The capture works: requests and the websocket were logged, at DEBUG too.
    assert any('"POST /api/v1/events HTTP/1.1" 200' in line for line in lines), lines[:20]
    assert any("/api/v1/audits?…" in line for line in lines)
    assert any("WebSocket /ws" in line for line in lines)
    assert any(" DEBUG " in line for line in lines)
    # The test's own HTTP client logs its requests too; it is not the service.
    for line in capture.service_lines():
        for secret in (*SECRETS, adapter_token, supervisor_token, "tcpr_"):
            assert secret not in line, line
