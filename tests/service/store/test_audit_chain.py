"""Tamper evidence: events stored through the real API are chained per agency, and
`tcpr verify-audit` catches and names every edit made to the database behind the service's back
(with sqlite3 / asyncpg, as someone with database access would), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Awaitable, Callable
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from support.harness import Server, event, service_settings, start_server

from service.cli import main
from service.store import chain_store
from service.store.chain import Head, extend
from service.store.db import is_sqlite, migrate
from service.store.event_rows import content_hash, to_event

Verify = Callable[..., Awaitable[tuple[int, dict[str, str]]]]

# Two agencies' events interleaved in the global sequence, over several transactions.
BATCHES = [
    ("A", ["A-1", "A-2"]),
    ("B", ["B-1"]),
    ("A", ["A-3"]),
    ("B", ["B-2", "B-3"]),
    ("A", ["A-4", "A-5"]),
    ("B", ["B-4"]),
    ("A", ["A-6"]),
]


def _call(event_id: str) -> str:
    return "C1" if int(event_id[2:]) <= 3 else "C2"


async def ingest(server: Server) -> None:
    clients = {agency: await server.client("adapter", agency) for agency in ("A", "B")}
    try:
        for agency, ids in BATCHES:
            batch = [
                event(
                    i,
                    "call.received" if i.endswith("-1") or i.endswith("-4") else "call.ended",
                    f"2026-01-15T14:00:0{i[-1]}.25{i[-1]}-05:00",
                    call_id=_call(i),
                    agency=agency,
                    data={"psap": "Nord-Est é", "n": [1, 2.5, None]},
                )
                for i in ids
            ]
            response = await clients[agency].post("/api/v1/events", json=batch)
            assert response.status_code == 200, response.text
    finally:
        for client in clients.values():
            await client.aclose()


async def raw(url: str, *statements: str) -> list[tuple[Any, ...]]:
    """Run SQL on the database directly, behind the service's back; the last statement's rows."""
    if is_sqlite(url):

        def run() -> list[tuple[Any, ...]]:
            with closing(sqlite3.connect(url.split("///", 1)[1])) as db, db:
                rows: list[tuple[Any, ...]] = []
                for statement in statements:
                    rows = db.execute(statement).fetchall()
                return rows

        return await asyncio.to_thread(run)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        result: list[tuple[Any, ...]] = []
        for statement in statements:
            result = [tuple(r) for r in await conn.fetch(statement)]
        return result
    finally:
        await conn.close()


async def seq_of(url: str, event_id: str) -> int:
    rows = await raw(url, f"SELECT seq FROM events WHERE event_id = '{event_id}'")
    return int(rows[0][0])


@pytest.fixture
def verify_audit(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Verify:
    """`tcpr verify-audit` as its main() runs it: (exit code, {agency: rest of its line})."""
    # Two rows a read: every chain here spans several reads, as a large log does.
    monkeypatch.setattr(chain_store, "CHUNK", 2)

    async def run(url: str, *args: str) -> tuple[int, dict[str, str]]:
        capsys.readouterr()
        code = await asyncio.to_thread(main, ["verify-audit", "--database-url", url, *args])
        out = capsys.readouterr().out
        return code, dict(line.split(": ", 1) for line in out.splitlines())

    return run


def failed_at(seq: int, event_id: str, problem: str) -> str:
    return f"FAILED at seq {seq} (event_id {event_id!r}, call_id {_call(event_id)!r}): {problem}:"


async def test_the_untouched_log_verifies_and_prints_each_head(
    server: Server, verify_audit: Verify
) -> None:
    await ingest(server)
    code, lines = await verify_audit(server.settings.database_url)
    heads = dict(
        await raw(server.settings.database_url, "SELECT agency, last_hash FROM chain_heads")
    )
    assert code == 0, lines
    assert lines == {
        "A": f"6 events, head {heads['A']}, ok",
        "B": f"4 events, head {heads['B']}, ok",
    }
    code, lines = await verify_audit(server.settings.database_url, "--agency", "B")
    assert (code, list(lines)) == (0, ["B"])


async def test_changed_data_is_caught_even_with_its_content_hash_fixed(
    server: Server, verify_audit: Verify
) -> None:
    """The attacker also recomputes the `content_hash` column: the chain does not trust it."""
    await ingest(server)
    url = server.settings.database_url
    forged = to_event_row(
        await raw(url, f"SELECT {SELECTED} FROM events WHERE event_id = 'A-3'"), url
    )
    forged["data"] = {"psap": "elsewhere"}
    digest = content_hash(to_event(_Row(forged)))
    await raw(
        url,
        f"UPDATE events SET data = '{json.dumps(forged['data'])}', content_hash = '{digest}' "
        "WHERE event_id = 'A-3'",
    )
    code, lines = await verify_audit(url)
    assert code == 1
    assert lines["A"].startswith(failed_at(await seq_of(url, "A-3"), "A-3", "altered"))
    assert lines["B"].endswith(", ok"), "one agency's tampering must not blame the other"


async def test_a_removed_event_is_missing_before_the_next(
    server: Server, verify_audit: Verify
) -> None:
    await ingest(server)
    url = server.settings.database_url
    await raw(url, "DELETE FROM events WHERE event_id = 'B-2'")
    code, lines = await verify_audit(url)
    assert code == 1
    assert lines["B"].startswith(failed_at(await seq_of(url, "B-3"), "B-3", "missing before it"))
    assert lines["A"].endswith(", ok")


async def test_a_removed_last_event_is_missing_at_the_end(
    server: Server, verify_audit: Verify
) -> None:
    await ingest(server)
    url = server.settings.database_url
    last = await seq_of(url, "A-6")
    await raw(url, "DELETE FROM events WHERE event_id = 'A-6'")
    code, lines = await verify_audit(url)
    assert code == 1
    assert lines["A"].startswith(failed_at(await seq_of(url, "A-5"), "A-5", "missing at the end"))
    assert f"6 events up to seq {last}" in lines["A"]
    assert lines["B"].endswith(", ok")


async def test_reordered_events_are_caught(server: Server, verify_audit: Verify) -> None:
    await ingest(server)
    url = server.settings.database_url
    first, second = await seq_of(url, "A-2"), await seq_of(url, "A-3")
    await raw(
        url,
        f"UPDATE events SET seq = -1 WHERE seq = {first}",
        f"UPDATE events SET seq = {first} WHERE seq = {second}",
        f"UPDATE events SET seq = {second} WHERE seq = -1",
    )
    code, lines = await verify_audit(url, "--agency", "A")
    assert code == 1
    assert lines["A"].startswith(failed_at(first, "A-3", "missing before it"))


async def test_a_changed_received_at_is_caught(server: Server, verify_audit: Verify) -> None:
    await ingest(server)
    url = server.settings.database_url
    moved = "'2026-01-15 19:00:00.000000'" if is_sqlite(url) else "'2026-01-15 19:00:00+00'"
    await raw(url, f"UPDATE events SET received_at = {moved} WHERE event_id = 'B-4'")
    code, lines = await verify_audit(url)
    assert code == 1
    assert lines["B"].startswith(failed_at(await seq_of(url, "B-4"), "B-4", "altered"))
    assert lines["A"].endswith(", ok")


async def test_an_event_added_behind_the_services_back_is_caught(
    server: Server, verify_audit: Verify
) -> None:
    await ingest(server)
    url = server.settings.database_url
    columns = "agency, event_id, call_id, kind, at, at_offset_s, source, actor, data, content_hash"
    await raw(
        url,
        f"INSERT INTO events (seq, {columns}, received_at) SELECT seq + 1000, agency, 'A-99', "
        f"call_id, kind, at, at_offset_s, source, actor, data, content_hash, received_at "
        "FROM events WHERE event_id = 'A-6'",
    )
    code, lines = await verify_audit(url)
    assert code == 1
    assert lines["A"].startswith(failed_at(await seq_of(url, "A-99"), "A-99", "not in the chain"))


async def test_migration_chains_the_events_of_an_upgraded_database(
    database_url: str, verify_audit: Verify
) -> None:
    """Events stored before 0003 (no links) verify clean once the database is at head, and the
    service chains its next events onto the backfilled heads."""
    await asyncio.to_thread(migrate, database_url, "0002")
    zone = "" if is_sqlite(database_url) else "+00"
    rows = [
        f"('{'AB'[n % 2]}', 'old-{n}', 'C1', 'call.received', "
        f"'2026-01-15 19:00:0{n}.000000{zone}', -18000, 'cad', NULL, '{{\"n\": {n}}}', 'x', "
        f"'2026-01-15 19:00:0{n}.500000{zone}')"
        for n in range(7)
    ]
    await raw(
        database_url,
        "INSERT INTO events (agency, event_id, call_id, kind, at, at_offset_s, source, "
        "actor, data, content_hash, received_at) VALUES " + ", ".join(rows),
    )
    await asyncio.to_thread(migrate, database_url)
    code, lines = await verify_audit(database_url)
    assert code == 0, lines
    assert (lines["A"][:9], lines["B"][:9]) == ("4 events,", "3 events,")
    running = await start_server(service_settings(database_url))
    try:
        await ingest(running)
    finally:
        await running.stop()
    code, lines = await verify_audit(database_url)
    assert (code, lines["A"][:10], lines["B"][:9]) == (0, "10 events,", "7 events,"), lines


async def test_with_a_key_a_chain_recomputed_without_it_is_caught(
    sqlite_url: str, verify_audit: Verify, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone with only database access re-links every event after an edit (and the head):
    without the audit key the forged links are not the service's."""
    monkeypatch.setenv("TCPR_AUDIT_KEY", "k" * 32)
    running = await start_server(service_settings(sqlite_url))
    try:
        await ingest(running)
    finally:
        await running.stop()
    assert (await verify_audit(sqlite_url))[0] == 0
    await raw(
        sqlite_url, "UPDATE events SET data = '{\"psap\": \"elsewhere\"}' WHERE event_id = 'A-3'"
    )
    await rechain(sqlite_url, "A", key=None)
    code, lines = await verify_audit(sqlite_url)
    assert code == 1
    assert lines["A"].startswith(failed_at(await seq_of(sqlite_url, "A-1"), "A-1", "altered"))
    assert lines["B"].endswith(", ok")
    # Without a key the same forgery passes: the chain then proves only consistency, which is
    # why the printed head must be recorded elsewhere.
    monkeypatch.delenv("TCPR_AUDIT_KEY")
    code, lines = await verify_audit(sqlite_url, "--agency", "A")
    assert code == 0


async def test_verify_audit_runs_as_a_command(sqlite_url: str, tmp_path: Path) -> None:
    running = await start_server(service_settings(sqlite_url))
    try:
        await ingest(running)
    finally:
        await running.stop()
    await raw(sqlite_url, "DELETE FROM events WHERE event_id = 'A-2'")
    proc = await asyncio.create_subprocess_exec(
        str(Path(__import__("sys").executable).with_name("tcpr")),
        "verify-audit",
        env={"TCPR_DATABASE_URL": sqlite_url, "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1, err.decode()
    assert "A: FAILED at seq" in out.decode() and "'A-3'" in out.decode()
    assert "B: 4 events, head " in out.decode()


# -- helpers over raw rows --------------------------------------------------------------------


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


EVENT_COLUMNS = [
    "seq",
    "agency",
    "event_id",
    "call_id",
    "kind",
    "at",
    "at_offset_s",
    "source",
    "actor",
    "data",
    "content_hash",
    "received_at",
    "chain_hash",
    "chain_prev_seq",
]
SELECTED = ", ".join(EVENT_COLUMNS)


def to_event_row(rows: list[tuple[Any, ...]], url: str) -> dict[str, Any]:
    """A row of `SELECT {SELECTED} FROM events`: times aware, data parsed."""
    values = dict(zip(EVENT_COLUMNS, rows[0], strict=True))
    for name in ("at", "received_at"):
        if isinstance(values[name], str):
            values[name] = datetime.fromisoformat(values[name] + "+00:00")
    if isinstance(values["data"], str):
        values["data"] = json.loads(values["data"])
    return values


async def rechain(url: str, agency: str, key: bytes | None) -> None:
    """Re-link every event of the agency and its head with `key`, as a forger would."""
    rows = [
        to_event_row([r], url)
        for r in await raw(
            url, f"SELECT {SELECTED} FROM events WHERE agency = '{agency}' ORDER BY seq"
        )
    ]
    head = extend({}, rows, key)[agency]
    await raw(
        url,
        *(
            f"UPDATE events SET chain_hash = '{r['chain_hash']}' WHERE seq = {r['seq']}"
            for r in rows
        ),
        f"UPDATE chain_heads SET last_hash = '{head.last_hash}' WHERE agency = '{agency}'",
    )
    assert isinstance(head, Head)
