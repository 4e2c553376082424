"""Feed health: a dead CAD feed must not look like a quiet night.

A CAD feed shows it is alive by its events (source `cad`) and, between them, by heartbeats its
adapter sends (`POST /api/v1/feeds/heartbeat`, every 30 s by default). When an agency has had
neither for its `feed_silence_seconds` (default 300), every panel of the agency is told
(`{"type": "feed", "status": "silent", ...}`) and shows "CAD feed silent since HH:MM:SS" until
data flows again (`"status": "ok"`). `GET /healthz` stays about the service itself;
`GET /api/v1/feeds` lists each agency's feeds with their last event and beat.

Every replica sees every event through the live view, and heartbeats are announced on the broker,
so each replica judges silence alike and tells its own panels. An agency is watched from the start
when the log has a recent CAD event of it or `TCPR_AGENCIES` names it (set its
`feed_silence_seconds` to 0 where it has no feed); any other from its first event or beat.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from contract.event import iso
from service.broker import Broker, follow
from service.clock import Clock, system_clock
from service.live import Update
from service.settings import Settings
from service.tasks import periodically, stop_all
from service.triage.profiles import DEFAULT_FEED_SILENCE_S

log = logging.getLogger(__name__)

CHECK_EVERY_S: Final = 5.0
Send = Callable[[str, str], None]  # (agency, message): to that agency's panels


def channel(settings: Settings) -> str:
    return f"{settings.broker_channel}.feeds"


@dataclass(slots=True)
class AgencyFeeds:
    """What is known of one agency's CAD feed."""

    last_event_at: datetime | None = None
    beats: dict[str, datetime] = field(default_factory=dict)  # feed name -> last beat
    silent: bool = False

    def last_activity(self) -> datetime | None:
        times = [t for t in (self.last_event_at, *self.beats.values()) if t is not None]
        return max(times, default=None)


class FeedWatch:
    def __init__(
        self,
        settings: Settings,
        broker: Broker,
        send: Send,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self._settings = settings
        self._broker = broker
        self._send = send
        self._clock = clock
        self.agencies: dict[str, AgencyFeeds] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self, last_events: Mapping[str, datetime] | None = None) -> None:
        """Follow the beats and judge silence. `last_events` (each agency's latest CAD event
        in the log) and the agencies configured in `TCPR_AGENCIES` are watched from the start,
        so a feed that died while the service was down is told too (an agency with neither is
        watched from its first event or beat)."""
        now = self._clock()
        for agency, at in (last_events or {}).items():
            if now - at <= timedelta(days=1):
                self.agencies.setdefault(agency, AgencyFeeds()).last_event_at = at
        for agency in self._settings.agencies:
            feeds = self.agencies.setdefault(agency, AgencyFeeds())
            if feeds.last_event_at is None:
                feeds.last_event_at = now  # nothing recent in the log: silent from now on
        subscribed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(
                follow(self._broker, channel(self._settings), self._received, subscribed, "feed"),
                name="feeds-listen",
            ),
            asyncio.create_task(
                periodically(self.check_interval(), self.check, "feed check"), name="feeds-check"
            ),
        ]
        await subscribed.wait()

    async def stop(self) -> None:
        await stop_all(self._tasks)

    # -- what comes in ----------------------------------------------------------------------
    def on_update(self, update: Update) -> None:
        """A stored event: one the CAD sent recently shows its feed is alive. An old event (a
        replay, the catch-up after a restart) proves nothing about the feed now."""
        e = update.event
        if e.source != "cad":
            return
        now = self._clock()
        limit = self._settings.agency_config(e.agency).feed_silence_s or DEFAULT_FEED_SILENCE_S
        window = timedelta(seconds=limit)
        if e.at < now - window:
            return
        feeds = self.agencies.setdefault(e.agency, AgencyFeeds())
        feeds.last_event_at = now
        self._judge(e.agency, feeds, now)

    async def beat(self, agency: str, feed: str) -> datetime:
        """A heartbeat received here: applied at once and announced to the other replicas."""
        now = self._clock()
        self.apply_beat(agency, feed, now)
        try:
            message = json.dumps({"agency": agency, "feed": feed, "at": now.isoformat()})
            await self._broker.publish(channel(self._settings), message)
        except Exception:
            log.exception("heartbeat not broadcast; other replicas rely on the feed's events")
        return now

    def apply_beat(self, agency: str, feed: str, at: datetime) -> None:
        feeds = self.agencies.setdefault(agency, AgencyFeeds())
        if at > feeds.beats.get(feed, datetime.min.replace(tzinfo=UTC)):
            feeds.beats[feed] = at
        self._judge(agency, feeds, self._clock())

    # -- judging ----------------------------------------------------------------------------
    def check(self) -> None:
        now = self._clock()
        for agency, feeds in self.agencies.items():
            self._judge(agency, feeds, now)

    def _judge(self, agency: str, feeds: AgencyFeeds, now: datetime) -> None:
        silent = self.is_silent(agency, feeds, now)
        if silent != feeds.silent:
            feeds.silent = silent
            self._send(agency, json.dumps(self.message(agency, feeds), separators=(",", ":")))

    def is_silent(self, agency: str, feeds: AgencyFeeds, now: datetime) -> bool:
        limit = self._settings.agency_config(agency).feed_silence_s
        last = feeds.last_activity()
        return limit > 0 and last is not None and now - last > timedelta(seconds=limit)

    def message(self, agency: str, feeds: AgencyFeeds) -> dict[str, Any]:
        return {
            "type": "feed",
            "agency": agency,
            "status": "silent" if feeds.silent else "ok",
            "last_activity": iso(feeds.last_activity()),
            "silence_seconds": self._settings.agency_config(agency).feed_silence_s,
        }

    def messages(self, agencies: Iterable[str]) -> list[dict[str, Any]]:
        """The feed messages a panel opening now needs: one per silent agency of its own."""
        return [
            self.message(a, self.agencies[a])
            for a in sorted(agencies)
            if a in self.agencies and self.agencies[a].silent
        ]

    def status(self, agencies: Iterable[str]) -> list[dict[str, Any]]:
        """Each agency's feed as `GET /api/v1/feeds` shows it."""
        out = []
        for agency in sorted(agencies):
            feeds = self.agencies.get(agency)
            limit = self._settings.agency_config(agency).feed_silence_s
            out.append(
                {
                    "agency": agency,
                    "watched": feeds is not None,
                    "status": None if feeds is None else ("silent" if feeds.silent else "ok"),
                    "last_event_at": iso(feeds.last_event_at) if feeds else None,
                    "last_activity": iso(feeds.last_activity()) if feeds else None,
                    "silence_seconds": limit,
                    "feeds": [
                        {"feed": name, "last_beat_at": iso(at)}
                        for name, at in sorted((feeds.beats if feeds else {}).items())
                    ],
                }
            )
        return out

    # -- tasks ------------------------------------------------------------------------------
    def check_interval(self) -> float:
        """Often enough that a banner is never more than a tenth of the limit late."""
        limits = [
            c.feed_silence_s for c in self._settings.configured_agencies() if c.feed_silence_s
        ]
        return max(0.2, min([CHECK_EVERY_S, *(s / 10 for s in limits)]))

    def _received(self, raw: str) -> None:
        body = json.loads(raw)
        self.apply_beat(str(body["agency"]), str(body["feed"]), datetime.fromisoformat(body["at"]))
