"""Delivering the spool to the service: oldest first, an entry leaves the spool only once the
service has answered for it.

- Events go to `POST /api/v1/events` in batches. A batch is all-or-nothing, so a refused batch is
  sent again entry by entry: only the bad record is refused (the service keeps it in its reject
  store, and the dead-letter file notes it), the rest are stored.
- EIDO documents go to `POST /api/v1/eido`, bad records to `POST /api/v1/rejects`.
- The service down, overloaded or answering 5xx: wait (capped backoff) and try again; nothing is
  dropped. A bad record noted while the service is unreachable goes to the dead-letter file at
  once, and to the reject store when the service is back.
- The token refused (401/403): a configuration fault; keep everything and retry slowly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from cad_adapters.spool import Spool, Spooled

log = logging.getLogger("tcpr.adapter")

PATHS: Final = {"events": "/api/v1/events", "eido": "/api/v1/eido", "reject": "/api/v1/rejects"}
MAX_BATCH_EVENTS: Final = 1000
READ_AHEAD: Final = 500
MAX_BACKOFF_S: Final = 10.0


@dataclass
class Counts:
    delivered: int = 0  # entries the service acknowledged
    refused: int = 0  # entries the service refused for good (kept in its reject store)
    rejects: int = 0  # bad records filed in the service's reject store
    failures: int = 0  # attempts that did not reach a verdict (service down, 5xx)


class Unavailable(Exception):
    """The service gave no verdict (unreachable, 5xx, 429, token refused): retry later."""


@dataclass
class Delivery:
    spool: Spool
    client: httpx.AsyncClient  # base_url = the service, with the adapter's bearer token
    agency: str
    counts: Counts = field(default_factory=Counts)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; waits for `wake` when the spool is empty."""
        backoff = 0.2
        while not stop.is_set():
            self.wake.clear()
            try:
                sent = await self.deliver_once()
            except Unavailable as exc:
                self.counts.failures += 1
                log.warning("service unavailable (%s); retrying in %.1f s", exc, backoff)
                await pause(stop, backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = 0.2
            if not sent:
                await pause(self.wake, 1.0)

    async def drain(self, limit_s: float) -> bool:
        """Deliver what is spooled, for up to `limit_s`; True once the spool is empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        backoff = 0.2
        while self.spool.depth() and loop.time() < deadline:
            try:
                await self.deliver_once()
                backoff = 0.2
            except Unavailable:
                self.counts.failures += 1
                await asyncio.sleep(min(backoff, max(0.0, deadline - loop.time())))
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        return self.spool.depth() == 0

    async def deliver_once(self) -> int:
        """One pass over the head of the spool; returns how many entries got a verdict."""
        pending = self.spool.pending(READ_AHEAD)
        done = 0
        try:
            for group in _groups(pending):
                if group[0].entry.kind == "events":
                    await self._events(group)
                elif group[0].entry.kind == "eido":
                    await self._eido(group[0])
                else:
                    await self._reject(group[0])
                done += len(group)
        except Unavailable as exc:
            # Someone should see the bad records now, not when the service is back.
            for s in pending[done:]:
                if s.entry.kind == "reject" and not s.noted:
                    reason = f"service unavailable ({exc}): {s.entry.body['reason']}"
                    self.spool.note_dead(s, reason, keep=True)
            raise
        return done

    async def _events(self, group: list[Spooled]) -> None:
        body = [event for s in group for event in s.entry.body]
        response = await self._post("events", body, group)
        if response.status_code == 200:
            self._acked(group)
        elif len(group) > 1:
            # All-or-nothing: one by one, so only the bad record is refused.
            for one in group:
                await self._events([one])
        else:
            self._refused(group[0], response)

    async def _eido(self, spooled: Spooled) -> None:
        response = await self._post("eido", spooled.entry.body, [spooled])
        if response.status_code == 200:
            self._acked([spooled])
        else:
            self._refused(spooled, response)

    async def _reject(self, spooled: Spooled) -> None:
        body = {**spooled.entry.body, "source": spooled.entry.origin}
        body["position"] = spooled.entry.position
        response = await self._post("reject", body, [spooled])
        if response.status_code == 200:
            self.counts.rejects += 1
            self.spool.ack([spooled.seq])
        else:
            self._refused(spooled, response)

    async def _post(self, kind: str, body: Any, group: list[Spooled]) -> httpx.Response:
        self.spool.attempted([s.seq for s in group])
        try:
            response = await self.client.post(
                PATHS[kind], json=body, params={"agency": self.agency} if kind != "events" else None
            )
        except httpx.TransportError as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise Unavailable(f"HTTP {response.status_code}")
        if response.status_code == 401 or (
            response.status_code == 403 and _ours(kind, body, self.agency)
        ):
            # Not the record's fault: the token is wrong, expired, revoked or not valid for the
            # configured agency. Keep everything and retry until someone fixes the token.
            log.error("the service refused the adapter's token: %s", response.text[:300])
            raise Unavailable(f"HTTP {response.status_code}: {_detail(response)}")
        return response

    def _acked(self, group: list[Spooled]) -> None:
        self.spool.ack([s.seq for s in group])
        self.counts.delivered += len(group)

    def _refused(self, spooled: Spooled, response: httpx.Response) -> None:
        reason = f"refused by the service, HTTP {response.status_code}: {_detail(response)}"
        log.warning("%s %s: %s", spooled.entry.origin, spooled.entry.position, reason)
        self.counts.refused += 1
        self.spool.note_dead(spooled, reason, keep=False)


def _ours(kind: str, body: Any, agency: str) -> bool:
    """Whether a 403 can only be the token's fault: everything sent was for the configured
    agency (a recorded event naming another agency is that record's fault)."""
    if kind != "events":
        return True
    return all(isinstance(e, dict) and e.get("agency") == agency for e in body)


def _groups(pending: list[Spooled]) -> Iterator[list[Spooled]]:
    """Runs of event entries up to a batch's size; EIDOs and rejects one at a time."""
    run: list[Spooled] = []
    size = 0
    for s in pending:
        if s.entry.kind != "events":
            if run:
                yield run
                run, size = [], 0
            yield [s]
            continue
        if run and size + len(s.entry.body) > MAX_BATCH_EVENTS:
            yield run
            run, size = [], 0
        run.append(s)
        size += len(s.entry.body)
    if run:
        yield run


def _detail(response: httpx.Response) -> str:
    try:
        payload = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(payload, dict) and "detail" in payload:
        return str(payload["detail"])
    return response.text[:300]


async def pause(event: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if `event` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), seconds)
