"""Who may do what: docs/security.md's tables walked against a running service.

The document is the matrix. Every route the app serves has exactly one row there (or is listed as
public), every row names a served route, and every cell is checked with a real request: a token of
that role in agency A asking about agency A, or an admin token of agency B ("foreign agency").
Each walk reports every wrong cell at once.

Adding a route: add its row to docs/security.md; when the default request (`?agency=A`, path
parameters from `PATH_VALUES`, no body) would not succeed for an allowed principal, add a
builder to `REQUESTS` that makes one that would.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import select
from starlette.routing import Mount, WebSocketRoute
from support.harness import Panel, Server, at, event, service_settings, start_server
from support.paths import REPO

from contract.kinds import KINDS
from service.app import create_app
from service.settings import Settings
from service.store.tables import TokenRow

try:  # FastAPI >= 0.12x keeps included routers lazy; their routes come out of route contexts.
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI lists every route flat

    def iter_route_contexts(routes: Any) -> Any:  # type: ignore[misc]
        return iter(routes)


DOC = REPO / "docs" / "security.md"
ROLES = ("telecommunicator", "supervisor", "qi", "admin", "adapter")
FOREIGN = "foreign agency"  # an admin token of agency B: the strongest role, the wrong agency
PRINCIPALS = (*ROLES, FOREIGN)
SYMBOLS = {"✓": True, "—": False}
ROUTE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|WS) /\S*$")

CALL_A = "A-2026-0115-7"  # the seeded call of agency A; a refusal must never mention it
LIVE_A, LIVE_B = "A-LIVE", "B-LIVE"
POSTED = "A-POSTED"  # where the matrix's own event posts go, away from the seeded call
T0 = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)

# One valid event of every kind of DESIGN.md §2, so only the policy can refuse it.
SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "call.received": {"psap": "PSAP-1"},
    "call.transferred": {"to": "PSAP-2"},
    "call.answered": {},
    "call.nature": {"code": "09-E-01", "text": "cardiac arrest"},
    "triage.conscious": {"answer": "no"},
    "triage.breathing": {"answer": "unsure"},
    "ohca.recognized": {},
    "tcpr.started": {},
    "tcpr.first_compression": {},
    "tcpr.not_given": {"reason": "caller_unable"},
    "unit.dispatched": {"unit": "M12"},
    "unit.on_scene": {"unit": "M12"},
    "call.ended": {},
    "ems.outcome": {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False},
    "qi.review": {"recognizable": True, "delay_reasons": ["call_transfer"]},
    "feedback.acknowledged": {"review": "a-review"},
    "alert.raised": {"alert": "recognition_due"},
}


# -- the document ------------------------------------------------------------------------------
def cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def doc_table(first: str) -> dict[str, dict[str, str]]:
    """The table of docs/security.md whose header starts with `first`: each row's backticked
    key (its first cell's code span) -> {column header: cell}."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("|") and cells(line)[0] == first]
    assert len(starts) == 1, f"docs/security.md: want one table headed {first!r}, found {starts}"
    header = cells(lines[starts[0]])
    rows: dict[str, dict[str, str]] = {}
    for line in lines[starts[0] + 2 :]:
        if not line.startswith("|"):
            break
        row = cells(line)
        key = re.match(r"`([^`]+)`", row[0])
        assert key, f"docs/security.md: row {line!r} does not start with a `code` key"
        assert key[1] not in rows, f"docs/security.md: two rows for {key[1]}"
        assert len(row) == len(header), f"docs/security.md: {key[1]}: {len(row)} cells"
        rows[key[1]] = dict(zip(header[1:], row[1:], strict=True))
    return rows


@cache
def matrix(first: str) -> dict[str, dict[str, bool]]:
    """A ✓ / — table as key -> principal -> allowed; any other cell fails, naming it."""
    out: dict[str, dict[str, bool]] = {}
    for key, row in doc_table(first).items():
        assert tuple(row) == PRINCIPALS, f"docs/security.md {first!r}: columns {tuple(row)}"
        for principal, symbol in row.items():
            assert symbol in SYMBOLS, f"docs/security.md: {key} / {principal}: {symbol!r}"
        out[key] = {p: SYMBOLS[s] for p, s in row.items()}
    return out


def actions() -> dict[str, dict[str, bool]]:
    return matrix("Action")


def kinds() -> dict[str, dict[str, bool]]:
    return matrix("Kind")


def public() -> set[str]:
    return set(doc_table("Public route"))


def served(app: Any) -> set[str]:
    """`METHOD path` of every route the app serves; `WS path` for a websocket, `GET path/{path}`
    for a mount of static files."""
    keys: set[str] = set()
    for route in iter_route_contexts(app.routes):
        original = getattr(route, "original_route", route)
        if isinstance(original, Mount):
            keys.add(f"GET {route.path}/{{path}}")
        elif isinstance(original, WebSocketRoute):
            keys.add(f"WS {route.path}")
        else:
            keys |= {f"{method} {route.path}" for method in route.methods - {"HEAD"}}
    return keys


def test_the_document_names_every_route_once_and_only_real_ones(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}"))
    routes = served(app)
    rows, open_ = set(actions()), public()
    problems = [f"{key}: served, but no row in docs/security.md" for key in routes - rows - open_]
    problems += [f"{key}: a row in docs/security.md, but not served" for key in rows - routes]
    problems += [f"{key}: listed public, but not served" for key in open_ - routes]
    problems += [f"{key}: both in the matrix and public" for key in rows & open_]
    problems += [f"{key}: not `METHOD /path`" for key in rows | open_ if not ROUTE.match(key)]
    assert set(kinds()) == set(KINDS), f"kind rows {sorted(kinds())} != kinds {sorted(KINDS)}"
    for principal in PRINCIPALS:  # the events row says: may post at least one kind
        may_post = any(row[principal] for row in kinds().values())
        if actions()["POST /api/v1/events"][principal] != may_post:
            problems.append(f"POST /api/v1/events / {principal}: disagrees with the kinds table")
    assert not problems, "docs/security.md against the app:\n" + "\n".join(problems)


# -- requests that succeed when allowed --------------------------------------------------------
@dataclass(frozen=True)
class Ask:
    """One request but for its method and token; `path` fills the route's path parameters
    over `Seed.path_values` (e.g. the id of a thing the builder just made)."""

    params: Any = (("agency", "A"),)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)


@dataclass
class Seed:
    """The seeded server, what it holds, and fresh ids for the requests that store things."""

    server: Server
    report_id: int
    ids: Iterator[int] = field(default_factory=count)

    def path_values(self) -> dict[str, str]:
        return {"agency": "A", "call_id": CALL_A, "report_id": str(self.report_id)}


def post_events(seed: Seed, principal: str) -> Ask:
    """An event of the first kind the principal may post (any, when none), on agency A."""
    allowed = [kind for kind, row in kinds().items() if row[principal]] or ["call.received"]
    when = (T0 + timedelta(minutes=next(seed.ids))).isoformat()
    e = event(f"m-{next(seed.ids)}", allowed[0], when, POSTED, data=SAMPLE_DATA[allowed[0]])
    return Ask(json=e)


def nemsis(key: str) -> bytes:
    """A NEMSIS EMSDataSet of one cardiac-arrest report that matches no call (no CAD number,
    no incident number, no PSAP time): it waits for a person to link it."""
    nil = 'xsi:nil="true" NV="7701003"'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<EMSDataSet xmlns="http://www.nemsis.org" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Header><DemographicGroup>'
        "<dAgency.01>1</dAgency.01><dAgency.02>A1</dAgency.02><dAgency.04>29</dAgency.04>"
        f'</DemographicGroup><PatientCareReport UUID="{key}-uuid">'
        f"<eRecord><eRecord.01>{key}</eRecord.01></eRecord><eResponse><eResponse.03 {nil}/>"
        "</eResponse><eDispatch><eDispatch.01>2301019</eDispatch.01><eDispatch.02>2302003"
        f"</eDispatch.02></eDispatch><eTimes><eTimes.01 {nil}/></eTimes><eArrest><eArrest.01>"
        "3001003</eArrest.01><eArrest.03>3003005</eArrest.03></eArrest></PatientCareReport>"
        "</Header></EMSDataSet>"
    ).encode()


def eido_document(seed: Seed, principal: str) -> Ask:
    when = T0.isoformat()
    leg = {"$id": "leg-1", "callStartTimestamp": when, "lastUpdateTimeStamp": when}
    document = {
        "$id": "urn:eido:A-EIDO",
        "incidentComponent": {"$id": "inc", "internalIncidentId": "A-EIDO"},
        "callComponent": [{**leg, "updatedByAgencyReference": {"$ref": "psap.a"}}],
    }
    return Ask(
        params={"agency": "A"},
        content=json.dumps(document).encode(),
        headers={"Content-Type": "application/json"},
    )


async def token_to_revoke(seed: Seed, principal: str) -> Ask:
    """A fresh token of agency A for each request, so an allowed revocation has one to end."""
    info, _ = await seed.server.services.tokens.issue("telecommunicator", ["A"], "to-revoke")
    return Ask(path={"token_id": str(info.id)})


TRAINING = {
    "agency": "A", "person": "tc-1", "category": "continuing", "kind": "classroom",
    "title": "Refresher", "minutes": 60, "taken_at": "2026-01-15",
}  # fmt: skip


async def record_to_remove(seed: Seed, principal: str) -> Ask:
    """A fresh training record of agency A for each request, so an allowed removal has one."""
    async with await seed.server.client("admin", "A") as admin:
        made = await admin.post("/api/v1/training/records", json=TRAINING)
    assert made.status_code == 201, made.text
    return Ask(path={"record_id": str(made.json()["id"])})


async def call_to_debrief(seed: Seed, principal: str) -> Ask:
    """A fresh EMS-confirmed arrest never recognised, so an allowed mark has a debrief to hold."""
    call_id = "A-debrief-" + re.sub(r"\W", "-", principal)
    outcome = {"ohca": True, "resuscitation_attempted": True, "ems_witnessed": False}
    events = [
        event(f"{call_id}-r", "call.received", T0.isoformat(), call_id),
        event(f"{call_id}-x", "ems.outcome", (T0 + timedelta(hours=1)).isoformat(), call_id,
              source="ems", data=outcome),
    ]  # fmt: skip
    async with await seed.server.client("admin", "A") as admin:
        stored = await admin.post("/api/v1/events", json=events)
        assert stored.status_code == 200, stored.text
    return Ask(path={"call_id": call_id}, json={})


# Training sessions: a trainer holds the training agency too (A-TRAIN; the foreign admin B-TRAIN).
TRAINING_AGENCIES = {"A-TRAIN": {"training": True}, "B-TRAIN": {"training": True}}
TRAINING_BODY = {
    "agency": "A-TRAIN",
    "home_agency": "A",
    "trainee": "test-telecommunicator",
    "category": "initial",
    "scenarios": ["classic_arrest"],
    "speed": 120,
}


@pytest.fixture
async def server(migrated_database_url: str) -> AsyncIterator[Server]:
    """The service, with the training agencies the training rows play into, and no address
    allowed to read `/metrics` without a token (loopback by default), so its row is walked like
    any other: by token."""
    settings = service_settings(migrated_database_url, agencies=TRAINING_AGENCIES, metrics_allow=[])
    running = await start_server(settings)
    try:
        yield running
    finally:
        await running.stop()


async def as_trainer(seed: Seed, principal: str) -> dict[str, str]:
    """The principal's role over A and A-TRAIN (the foreign admin: B and B-TRAIN)."""
    if principal == FOREIGN:
        token = await seed.server.token("admin", "B", "B-TRAIN")
    else:
        token = await seed.server.token(principal, "A", "A-TRAIN")
    return {"Authorization": f"Bearer {token}"}


async def new_training_session(
    seed: Seed, principal: str, trainee: str = str(TRAINING_BODY["trainee"])
) -> Ask:
    """A fresh running session of A's telecommunicator in A-TRAIN, asked about as a trainer."""
    given = {k: v for k, v in TRAINING_BODY.items() if k not in ("speed", "scenarios", "trainee")}
    session = await seed.server.services.training.sessions.create(
        **given,
        trainee=trainee,
        trainer="matrix",
        scenarios=TRAINING_BODY["scenarios"],
        speed=120.0,
        now=datetime.now(UTC),
    )
    return Ask(path={"session_id": str(session.id)}, headers=await as_trainer(seed, principal))


TRAINEES = itertools.count(1)


async def own_trainee_session(seed: Seed, principal: str) -> Ask:
    """A fresh session of a trainee of its own: a trainee takes one training call at a time, so
    the sessions the matrix plays must not share one."""
    return await new_training_session(seed, principal, trainee=f"trainee-{next(TRAINEES)}")


async def played_training_session(seed: Seed, principal: str) -> Ask:
    """A fresh session with its first scenario played (a session ends once it trained)."""
    ask = await own_trainee_session(seed, principal)
    await seed.server.services.training.next(int(ask.path["session_id"]))
    return ask


async def training_request(seed: Seed, principal: str) -> Ask:
    return Ask(json=TRAINING_BODY, headers=await as_trainer(seed, principal))


# (seed, principal) -> the request; a builder may be async, e.g. to make what it asks for.
Builder = Callable[[Seed, str], Ask | Awaitable[Ask]]
REQUESTS: dict[str, Builder] = {
    "POST /api/v1/events": post_events,
    "GET /api/v1/summary": lambda s, p: Ask(params={"agency": "A", "from": "2026-01-01"}),
    "POST /api/v1/rejects": lambda s, p: Ask(
        json={"source": "cad.txt", "position": "line 7", "raw": "7|??", "reason": "no call id"}
    ),
    "POST /api/v1/ems/nemsis": lambda s, p: Ask(
        content=nemsis("PCR-MATRIX"), headers={"Content-Type": "application/xml"}
    ),
    "POST /api/v1/ems/reports/{report_id}/link": lambda s, p: Ask(json={"call_id": CALL_A}),
    "POST /api/v1/eido": eido_document,
    "GET /api/v1/measures/breakdown": lambda s, p: Ask(params=(("agency", "A"), ("by", "sex"))),
    "POST /api/v1/tokens": lambda s, p: Ask(json={"role": "telecommunicator", "agencies": ["A"]}),
    "DELETE /api/v1/tokens/{token_id}": token_to_revoke,
    "POST /api/v1/training/records": lambda s, p: Ask(json=TRAINING),
    "DELETE /api/v1/training/records/{record_id}": record_to_remove,
    "POST /api/v1/debriefs/{agency}/{call_id}": call_to_debrief,
    "POST /api/v1/training/sessions": training_request,
    "GET /api/v1/training/sessions/{session_id}": new_training_session,
    "POST /api/v1/training/sessions/{session_id}/next": own_trainee_session,
    "POST /api/v1/training/sessions/{session_id}/stop": own_trainee_session,
    "POST /api/v1/training/sessions/{session_id}/end": played_training_session,
    "POST /api/v1/training/sessions/{session_id}/abandon": own_trainee_session,
}


async def request_for(seed: Seed, key: str, principal: str) -> tuple[str, str, Ask]:
    """The request of the row `key` for `principal`: its builder's, else `?agency=A`."""
    method, template = key.split(" ", 1)
    ask = REQUESTS.get(key, lambda s, p: Ask())(seed, principal)
    if inspect.isawaitable(ask):
        ask = await ask
    values = {**seed.path_values(), **ask.path}
    path = re.sub(r"\{(\w+)\}", lambda m: values[m[1]], template)
    return method, path, ask


async def send(client: httpx.AsyncClient, method: str, path: str, ask: Ask) -> httpx.Response:
    return await client.request(
        method, path, params=ask.params, json=ask.json, content=ask.content, headers=ask.headers
    )


async def token_for(server: Server, principal: str) -> str:
    return (
        await server.token("admin", "B")
        if principal == FOREIGN
        else await server.token(principal, "A")
    )


async def seeded(server: Server) -> Seed:
    """Agency A: a finished call with a unit dispatched (audits, measures and the linkage
    extract have something), a live call, a refusal, an EMS report waiting to be linked.
    Agency B: a finished and a live call."""
    events = [
        event(f"s-{i}", kind, (T0 + timedelta(seconds=20 * i)).isoformat(), CALL_A, data=data)
        for i, (kind, data) in enumerate(
            [
                ("call.received", {"psap": "PSAP-1"}),
                ("call.answered", {}),
                ("call.nature", {"code": "09-E-01", "text": "cardiac arrest"}),
                ("ohca.recognized", {}),
                ("tcpr.first_compression", {}),
                ("unit.dispatched", {"unit": "M12"}),
                ("call.ended", {}),
            ]
        )
    ]
    events += [
        event("s-live-a", "call.received", at(5), LIVE_A),
        event("s-b", "call.received", T0.isoformat(), "B-2026-0115-1", agency="B"),
        event("s-live-b", "call.received", at(5), LIVE_B, agency="B"),
    ]
    async with await server.client("admin", "A", "B") as admin:
        stored = await admin.post("/api/v1/events", json=events)
        assert stored.status_code == 200, stored.text
        refused = await admin.post("/api/v1/events", json=event("bad", "call.exploded", at(1)))
        assert refused.status_code == 422, refused.text
        imported = await admin.post(
            "/api/v1/ems/nemsis",
            params={"agency": "A"},
            content=nemsis("PCR-SEED"),
            headers={"Content-Type": "application/xml"},
        )
        assert imported.status_code == 200, imported.text
    report = imported.json()["reports"][0]
    assert report["match"] == "unmatched", report
    return Seed(server, report_id=report["id"])


def judge(principal: str, action: str, allowed: bool, response: httpx.Response) -> str | None:
    """A complaint when the response contradicts the cell, else None. Allowed means served
    (2xx); refused means 403, and a refusal carries none of agency A's data."""
    code = response.status_code
    if allowed and 200 <= code < 300:
        return None
    if not allowed and code == 403:
        return None if CALL_A not in response.text else f"{principal}: {action}: 403 leaks {CALL_A}"
    want = "✓ (2xx)" if allowed else "— (403)"
    return f"{principal:>16}  {action:<48} want {want}, got {code}: {response.text[:160]}"


async def test_every_cell_of_the_matrix(server: Server) -> None:
    seed = await seeded(server)
    clients = {p: await client_for(server, p) for p in PRINCIPALS}
    problems: list[str | None] = []
    try:
        for key, row in actions().items():
            if key.startswith("WS "):
                continue
            for principal in PRINCIPALS:
                method, path, ask = await request_for(seed, key, principal)
                response = await send(clients[principal], method, path, ask)
                problems.append(judge(principal, key, row[principal], response))
    finally:
        for client in clients.values():
            await client.aclose()
    found = [p for p in problems if p]
    assert not found, f"{len(found)} wrong cells of the role x action matrix:\n" + "\n".join(found)


async def client_for(server: Server, principal: str) -> httpx.AsyncClient:
    if principal == FOREIGN:
        return await server.client("admin", "B")
    return await server.client(principal, "A")


async def test_posting_each_kind_of_event(server: Server) -> None:
    problems: list[str | None] = []
    for principal in PRINCIPALS:
        async with await client_for(server, principal) as client:
            for i, (kind, row) in enumerate(kinds().items()):
                when = (T0 + timedelta(seconds=i)).isoformat()
                e = event(f"{principal}-{kind}", kind, when, f"R-{principal.split()[0]}")
                e["data"] = SAMPLE_DATA[kind]
                if kind == "feedback.acknowledged":  # the reader's own (the harness's names)
                    e["actor"] = f"test-{principal.split()[0]}"
                response = await client.post("/api/v1/events", json=e)
                problems.append(judge(principal, f"POST {kind}", row[principal], response))
    found = [p for p in problems if p]
    assert not found, "role x kind matrix:\n" + "\n".join(found)


async def until_live(server: Server, *calls: tuple[str, str]) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while not all(c in server.services.live.calls for c in calls):
        assert asyncio.get_running_loop().time() < deadline, f"{calls} never became live"
        await asyncio.sleep(0.05)


async def first_message(panel: Panel) -> tuple[dict[str, Any] | None, int | None]:
    """The panel's first message, or None and the close code when the server closed it."""
    try:
        return await panel.next(), None
    except websockets.ConnectionClosed as closed:
        return None, closed.rcvd.code if closed.rcvd else None


async def test_watching_calls_on_the_websocket(server: Server) -> None:
    """A panel of an allowed principal gets a snapshot with A's live call and A's updates; a
    refused role is closed with 4403; a foreign token gets none of A's calls, neither in its
    snapshot, nor in the missed events it asks for, nor in the updates."""
    await seeded(server)
    await until_live(server, ("A", LIVE_A), ("B", LIVE_B))
    row = actions()["WS /ws"]
    problems: list[str] = []
    panels: dict[str, Panel] = {}
    for principal in PRINCIPALS:
        panel = await Panel.open(server, await token_for(server, principal), since=0)
        first, code = await first_message(panel)
        seen = {c["call_id"] for c in first["calls"]} if first and "calls" in first else set()
        if row[principal]:
            if first is None or LIVE_A not in seen:
                problems.append(f"{principal}: want a snapshot with {LIVE_A}, got {code} / {seen}")
        elif principal != FOREIGN:
            if code != 4403:
                problems.append(f"{principal}: want close 4403, got {code} / {str(first)[:160]}")
        elif first is None or seen & {LIVE_A, CALL_A}:
            problems.append(f"{principal}: want a snapshot without A's calls, got {code} / {seen}")
        if first is not None:
            panels[principal] = panel
        else:
            await panel.close()
    try:
        async with await server.client("admin", "A", "B") as admin:
            for i, (agency, call_id) in enumerate([("A", LIVE_A), ("B", LIVE_B)]):
                e = event(f"ws-{i}", "call.answered", at(1), call_id, agency=agency)
                assert (await admin.post("/api/v1/events", json=e)).status_code == 200
        for principal, panel in panels.items():
            wanted = LIVE_A if row[principal] else LIVE_B
            try:
                await panel.next(type="call", call_id=wanted)
            except TimeoutError:
                problems.append(f"{principal}: never sent the update of {wanted}")
                continue
            leaked = [m for m in panel.messages if m.get("agency") == "A"]
            for part in ("calls", "events"):  # the snapshot's calls, the missed events
                leaked += [x for m in panel.messages for x in m.get(part, []) if x["agency"] == "A"]
            if not row[principal] and leaked:
                problems.append(f"{principal}: was sent agency A's {str(leaked)[:160]}")
    finally:
        for panel in panels.values():
            await panel.close()
    assert not problems, "WS /ws by role:\n" + "\n".join(problems)


# -- a state coordinator's several agencies ----------------------------------------------------
async def test_several_agencies_only_when_the_token_holds_each(server: Server) -> None:
    """A qi token over A and B reads A and B together; one over A alone asking for both is
    refused as a whole (403), not answered with A's part."""
    await seeded(server)
    both = [("agency", "A"), ("agency", "B")]
    problems: list[str] = []
    async with (
        await server.client("qi", "A", "B") as coordinator,
        await server.client("qi", "A") as local,
    ):
        for path in ["/api/v1/measures", "/api/v1/measures/trend", "/api/v1/exports/measures.csv"]:
            read = await coordinator.get(path, params=both)
            if read.status_code != 200:
                problems.append(f"qi over A+B: {path}: want 200, got {read.status_code}")
            elif path == "/api/v1/measures" and set(read.json()["by_agency"]) != {"A", "B"}:
                problems.append(f"qi over A+B: {path}: by_agency {read.json()['by_agency']}")
            for params in [both, [("agency", "B"), ("agency", "A")], [("agency", "B")]]:
                refused = await local.get(path, params=params)
                if refused.status_code != 403:
                    problems.append(f"qi over A: {path} {params}: got {refused.status_code}")
        by_agency = [*both, ("by", "agency")]
        read = await coordinator.get("/api/v1/measures/breakdown", params=by_agency)
        if read.status_code != 200 or {g["group"] for g in read.json()["groups"]} != {"A", "B"}:
            problems.append(f"qi over A+B: breakdown by agency: {read.status_code} {read.text}")
        refused = await local.get("/api/v1/measures/breakdown", params=by_agency)
        if refused.status_code != 403:
            problems.append(f"qi over A: breakdown by agency of A+B: got {refused.status_code}")
    assert not problems, "agency sets:\n" + "\n".join(problems)


# -- authentication ----------------------------------------------------------------------------
async def test_missing_bad_or_expired_token_is_401(server: Server) -> None:
    seed = await seeded(server)
    expired = await server.services.tokens.create(
        "admin", ["A"], "expired", expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    valid = await server.token("admin", "A")
    headers = {
        "no header": {},
        "bare scheme": {"Authorization": "Bearer"},
        "unknown token": {"Authorization": "Bearer tcpr_" + "x" * 43},
        "not a token": {"Authorization": "Bearer hunter2"},
        "wrong scheme": {"Authorization": f"Basic {valid}"},
        "token with a byte changed": {
            "Authorization": f"Bearer {valid[:-1]}{'A' if valid[-1] != 'A' else 'B'}"
        },
        "expired token": {"Authorization": f"Bearer {expired}"},
    }
    problems: list[str] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for key in public():
            path = PUBLIC_SAMPLES.get(key, key.split(" ", 1)[1])
            response = await client.get(path)
            if response.status_code != 200:
                problems.append(f"public {key} ({path}) without a token: {response.status_code}")
        for key in actions():
            if key.startswith("WS "):
                continue
            method, path, ask = await request_for(seed, key, "admin")
            # Only the credential under test: a builder's own token (a trainer's) is left out.
            own = {k: v for k, v in ask.headers.items() if k != "Authorization"}
            ask = replace(ask, headers=own)
            for name, header in headers.items():
                client.headers.clear()
                client.headers.update(header)
                response = await send(client, method, path, ask)
                if response.status_code != 401:
                    problems.append(f"{name:>26}: {key}: want 401, got {response.status_code}")
                elif "bearer" not in response.headers.get("www-authenticate", "").lower():
                    problems.append(f"{name:>26}: {key}: 401 without WWW-Authenticate")

    for name, token in [("unknown", "tcpr_" + "x" * 43), ("expired", expired), ("none", None)]:
        async with websockets.connect(server.ws_url) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            try:
                first = await asyncio.wait_for(ws.recv(), timeout=10)
                problems.append(f"WS with {name} token: want close 4401, got {first[:200]!r}")
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                if code != 4401:
                    problems.append(f"WS with {name} token: want close 4401, got {code}")
    assert not problems, "unauthenticated requests:\n" + "\n".join(problems)


# A file behind each public pattern, to fetch without a token.
PUBLIC_SAMPLES = {
    "GET /ui/{path}": "/ui/panel.html",
    "GET /ui/prompts/{language}.json": "/ui/prompts/en.json",
    "GET /docs/assets/{path}": "/docs/assets/swagger-ui-bundle.js",
}


async def test_tokens_are_stored_hashed(server: Server) -> None:
    plain = {role: await server.token(role, "A") for role in ROLES}
    expired = await server.services.tokens.create(
        "qi", ["A"], "expired-qi", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    plain["expired"] = expired

    async with server.services.tokens._sessions() as session:
        rows = list(await session.scalars(select(TokenRow)))
    assert len(rows) == len(plain)
    for row in rows:
        stored = " ".join(str(getattr(row, c.key)) for c in TokenRow.__table__.columns)
        for name, token in plain.items():
            assert token not in stored, f"the {name} token is stored in plain text"
            secret = token.removeprefix("tcpr_")
            assert secret not in stored, f"the {name} token's secret is stored in plain text"
    assert {row.role for row in rows} == set(ROLES)
    assert all(row.expires_at is None for row in rows if row.name != "expired-qi")

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        refused = await client.get(
            "/api/v1/measures",
            params={"agency": "A"},
            headers={"Authorization": f"Bearer {expired}"},
        )
        fresh = await client.get(
            "/api/v1/measures",
            params={"agency": "A"},
            headers={"Authorization": f"Bearer {plain['qi']}"},
        )
    assert refused.status_code == 401, refused.text
    assert fresh.status_code == 200, fresh.text
