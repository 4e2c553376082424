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
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from cad_adapters.spool import Spool, Spooled
from cad_adapters.waiting import Backoff, gave_no_verdict, pause

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
        backoff = Backoff(MAX_BACKOFF_S)
        while not stop.is_set():
            self.wake.clear()
            try:
                sent = await self.deliver_once()
            except Unavailable as exc:
                wait = backoff.next()
                log.warning("service unavailable (%s); retrying in %.1f s", exc, wait)
                await pause(stop, wait)
                continue
            backoff.reset()
            if not sent:
                await pause(self.wake, 1.0)

    async def drain(self, limit_s: float) -> bool:
        """Deliver what is spooled, for up to `limit_s`; True once the spool is empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit_s
        backoff = Backoff(MAX_BACKOFF_S)
        while self.spool.depth() and loop.time() < deadline:
            try:
                await self.deliver_once()
                backoff.reset()
            except Unavailable:
                await asyncio.sleep(min(backoff.next(), max(0.0, deadline - loop.time())))
        return self.spool.depth() == 0

    async def deliver_once(self) -> int:
        """One pass over the head of the spool; returns how many entries got a verdict."""
        pending = self.spool.pending(READ_AHEAD)
        done = 0
        try:
            for group in _groups(pending):
                try:
                    await self._deliver(group)
                except Unencodable as exc:
                    for one in group:  # find which: the others go through on their own
                        try:
                            await self._deliver([one])
                        except Unencodable:
                            self._refused(one, f"not sendable as JSON: {exc}")
                done += len(group)
        except Unavailable as exc:
            # Someone should see the bad records now, not when the service is back.
            for s in pending[done:]:
                if s.entry.kind == "reject" and not s.noted:
                    reason = f"service unavailable ({exc}): {s.entry.body['reason']}"
                    self.spool.note_dead(s, reason, keep=True)
            raise
        return done

    async def _deliver(self, group: list[Spooled]) -> None:
        if group[0].entry.kind == "events":
            await self._events(group)
        elif group[0].entry.kind == "eido":
            await self._eido(group[0])
        else:
            await self._reject(group[0])

    async def _events(self, group: list[Spooled]) -> None:
        body = [event for s in group for event in s.entry.body]
        response = await self._post("events", body, group)
        if response.status_code == 200:
            self._acked(group)
        elif len(group) > 1:
            # All-or-nothing: one by one, so only the bad record is refused.
            for one in group:
                await self._events([one])
        elif len(body) > 1:
            await self._events_one_by_one(group[0])
        else:
            self._refused(group[0], response)

    async def _events_one_by_one(self, spooled: Spooled) -> None:
        """A record whose events were refused together: each on its own, so a conflict on one
        (say a re-exported row whose answering telecommunicator was corrected) does not cost
        the record's other, new facts. The refused ones go to the dead-letter file."""
        refused = []
        for event in spooled.entry.body:
            response = await self._post("events", [event], [spooled])
            if response.status_code != 200:
                refused.append(event)
                reason = _reason(response)
                _log_refusal(spooled, response)
                self.spool.dead_letter_line(spooled.entry, reason, [event])
        self.spool.ack([spooled.seq])
        self.counts.delivered += 1
        self.counts.refused += bool(refused)

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
        """The service's answer when it is a verdict on this body (200, or a refusal that is the
        record's fault); Unavailable for everything else, to be retried."""
        self.spool.attempted([s.seq for s in group])
        params = {"agency": self.agency} if kind != "events" else None
        try:
            response = await self.client.post(PATHS[kind], json=body, params=params)
        except httpx.TransportError as exc:
            raise Unavailable(f"{type(exc).__name__}: {exc}") from None
        except (ValueError, UnicodeError) as exc:
            # Not representable as JSON (NaN, a lone surrogate): the record's fault, never the
            # delivery's; readers refuse these, this is the last guard.
            raise Unencodable(str(exc)) from None
        status = response.status_code
        if status == 200 or status in (409, 413, 422):
            return response
        if status == 403 and _records_fault(kind, body, self.agency, response):
            return response
        if status in (401, 403):
            # The token is wrong, expired, revoked or not valid for the configured agency.
            log.error("the service refused the adapter's token: %s", response.text[:300])
        elif not gave_no_verdict(status):
            # 404, 405, 408...: a wrong service URL, a proxy, an older service. Not the record's
            # fault: keep everything and say so loudly.
            log.error("unexpected answer from %s: HTTP %d", response.request.url, status)
        raise Unavailable(f"HTTP {status}: {_detail(response)}")

    def _acked(self, group: list[Spooled]) -> None:
        self.spool.ack([s.seq for s in group])
        self.counts.delivered += len(group)

    def _refused(self, spooled: Spooled, response: httpx.Response | str) -> None:
        reason = response if isinstance(response, str) else _reason(response)
        _log_refusal(spooled, response)
        self.counts.refused += 1
        self.spool.note_dead(spooled, reason, keep=False)


class Unencodable(Exception):
    """A spooled body that cannot be sent as JSON."""


def _log_refusal(spooled: Spooled, response: httpx.Response | str) -> None:
    """The service's reason may quote the record's values: it goes to the dead-letter file;
    the log says where the record was, the status and the field only."""
    if isinstance(response, str):
        status, field = "not sendable", None
    else:
        status = f"HTTP {response.status_code}"
        try:
            field = response.json().get("field")
        except (ValueError, AttributeError):
            field = None
    entry = spooled.entry
    log.warning(
        "%s %s: refused (%s, field %s); see the dead-letter file",
        entry.origin,
        entry.position,
        status,
        field,
    )


def _reason(response: httpx.Response) -> str:
    return f"refused by the service, HTTP {response.status_code}: {_detail(response)}"


def _records_fault(kind: str, body: Any, agency: str, response: httpx.Response) -> bool:
    """Whether a 403 is the record's fault rather than the token's: a kind the adapter role may
    not post (a `qi.review` in a recording), or an event naming another agency than the
    configured one."""
    if kind != "events":
        return False
    try:
        field = response.json().get("field")
    except (ValueError, AttributeError):
        return False
    if field == "kind":
        return True
    others = any(isinstance(e, dict) and e.get("agency") != agency for e in body)
    return field == "agency" and others


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
