"""Running a training session: play its scenarios one after another, stop a call, and end the
session, crediting its time to the trainee's continuing-education record when it is completed
(an abandoned session credits nothing).

A scenario plays only after the one before it has ended: moving on (or ending the session)
while a call is still live ends that call now (`call.ended`, id `<call>-stop`), as a trainer
hanging up does, and the played entry keeps the time it ended.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from contract.kinds import Kind
from service.clock import Clock, system_clock
from service.store.events import EventStore
from service.store.tables import TrainingRecordRow
from service.store.training_sessions import (
    ABANDONED,
    COMPLETED,
    RUNNING,
    MovedOn,
    NoSuchSession,
    NotRunning,
    Played,
    TrainingSession,
    TrainingSessions,
)
from service.training.hours import MAX_RECORD_MINUTES
from service.training.player import Player, store_record
from service.training.scenarios import cad_records, call_id_of, scenario_named

TITLE_LIMIT: Final = 200
# A session credits the debrief of its last scenario, not the hours it was then left open.
AFTER_LAST_SCENARIO: Final = timedelta(minutes=30)


class AllPlayed(Exception):
    """Every scenario of the session has been played."""


class TraineeBusy(Exception):
    """Another session of the same trainee has a scenario playing: one caller at a time."""

    def __init__(self, session_id: int) -> None:
        super().__init__(session_id)
        self.session_id = session_id


class NothingPlayed(Exception):
    """No scenario has been played: there is no training to credit (abandon the session)."""


def credited_minutes(session: TrainingSession) -> int:
    """The session's time in whole minutes (rounded), as its education record credits: from its
    start to its end, but no later than `AFTER_LAST_SCENARIO` after its last scenario's call
    ended (the debrief of that scenario), and at most the longest record a supervisor may enter.
    A session left open at the end of a shift and ended the next morning is the training that
    happened, not a night of it."""
    end = session.ended_at or session.started_at
    ends = [p.ended_at for p in session.scenarios if p.call_id]
    if ends and all(t is not None for t in ends):
        last = max(t for t in ends if t is not None)
        end = min(end, last + AFTER_LAST_SCENARIO)
    minutes = max(0, round((end - session.started_at).total_seconds() / 60))
    return min(minutes, MAX_RECORD_MINUTES)


def record_title(session: TrainingSession) -> str:
    titles = [scenario_named(p.scenario).title for p in session.scenarios if p.call_id]
    text = f"T-CPR training session: {', '.join(titles) if titles else 'no scenario played'}"
    return text if len(text) <= TITLE_LIMIT else text[: TITLE_LIMIT - 1] + "…"


class Training:
    def __init__(
        self, store: EventStore, sessions: TrainingSessions, *, clock: Clock = system_clock
    ) -> None:
        self._store = store
        self.sessions = sessions
        self.clock = clock
        self.player = Player(store)

    async def close(self) -> None:
        await self.player.close()

    async def next(self, session_id: int) -> TrainingSession:
        """End the scenario playing (if any) and play the next one from now. Refused while
        another session of the same trainee has a call playing: a trainee takes one call at a
        time, and two training calls at once would score neither as the trainee meant."""
        session = await self._must(session_id)
        for other in await self.sessions.listing(session.home_agency, session.trainee):
            if other.id != session.id and other.status == RUNNING and await self._playing(other):
                raise TraineeBusy(other.id)
        ended = await self._end_current(session)
        now = self.clock()

        def edit(s: TrainingSession) -> tuple[list[Played], str, datetime | None]:
            _unchanged(session, s)
            scenarios = _with_end(s, ended)
            waiting = [i for i, p in enumerate(scenarios) if p.call_id is None]
            if not waiting:
                raise AllPlayed()
            i = waiting[0]
            scenarios[i] = Played(
                scenarios[i].scenario, scenarios[i].speed, call_id_of(s.id, i + 1), now
            )
            return scenarios, RUNNING, None

        after = await self.sessions.change(session_id, edit)
        played = after.scenarios[after.current or 0]
        assert played.call_id is not None and played.started_at is not None
        records = cad_records(
            scenario_named(played.scenario),
            agency=after.agency,
            call_id=played.call_id,
            trainee=after.trainee,
            start=played.started_at,
            speed=played.speed,
        )
        self.player.play(records, played.started_at)
        return after

    async def stop(self, session_id: int) -> TrainingSession:
        """End the call of the scenario playing now."""
        session = await self._must(session_id)
        ended = await self._end_current(session)

        def edit(s: TrainingSession) -> tuple[list[Played], str, datetime | None]:
            _unchanged(session, s)
            return _with_end(s, ended), RUNNING, None

        return await self.sessions.change(session_id, edit)

    async def finish(self, session_id: int, *, completed: bool, by: str) -> TrainingSession:
        """Complete (crediting the time) or abandon the session, ending any call playing."""
        session = await self._must(session_id)
        ended = await self._end_current(session)
        now = self.clock()
        status = COMPLETED if completed else ABANDONED

        def record(s: TrainingSession) -> TrainingRecordRow | None:
            if not completed:
                return None
            return TrainingRecordRow(
                agency=s.home_agency,
                person=s.trainee,
                category=s.category,
                kind="session",
                title=record_title(s),
                minutes=credited_minutes(s),
                taken_at=s.started_at,
                session_id=s.id,
                entered_by=by,
                entered_at=now,
            )

        def edit(s: TrainingSession) -> tuple[list[Played], str, datetime | None]:
            _unchanged(session, s)
            if completed and s.current is None:
                raise NothingPlayed()
            return _with_end(s, ended), status, now

        return await self.sessions.change(session_id, edit, record)

    async def _must(self, session_id: int) -> TrainingSession:
        session = await self.sessions.get(session_id)
        if session is None:
            raise NoSuchSession(session_id)
        if session.status != RUNNING:
            raise NotRunning(session.status)
        return session

    async def _playing(self, session: TrainingSession) -> bool:
        """Whether the session's latest scenario's call is still on: not stopped, and its CAD
        timeline has not ended it yet."""
        i = session.current
        if i is None or session.scenarios[i].ended_at is not None:
            return False
        call_id = session.scenarios[i].call_id
        assert call_id is not None
        events = await self._store.call_events(session.agency, call_id)
        return not any(e.kind == Kind.CALL_ENDED for e in events)

    async def _end_current(self, session: TrainingSession) -> datetime | None:
        """When the scenario played last ended: its call's `call.ended`, or now (stored now)."""
        i = session.current
        if i is None:
            return None
        played = session.scenarios[i]
        assert played.call_id is not None
        if played.ended_at is not None:
            return played.ended_at
        await self.player.cancel(played.call_id)
        events = await self._store.call_events(session.agency, played.call_id)
        ended = next((e.at for e in events if e.kind == Kind.CALL_ENDED), None)
        if ended is not None:
            return ended
        now = self.clock()
        stored = await store_record(
            self._store,
            {
                "event_id": f"{played.call_id}-stop",
                "call_id": played.call_id,
                "agency": session.agency,
                "kind": Kind.CALL_ENDED.value,
                "at": now.isoformat(),
                "source": "cad",
            },
        )
        if not stored:  # stopped at the same moment elsewhere: that stop's time stands
            events = await self._store.call_events(session.agency, played.call_id)
            return next((e.at for e in events if e.kind == Kind.CALL_ENDED), now)
        return now


def _unchanged(read: TrainingSession, locked: TrainingSession) -> None:
    """The call ended before the lock is the one played last under it: else another click
    played a scenario meanwhile (whose call this one has not ended), so this one stands down."""
    if locked.current != read.current:
        raise MovedOn()


def _with_end(session: TrainingSession, ended: datetime | None) -> list[Played]:
    """The session's scenarios with the one played last marked ended at `ended`."""
    scenarios = list(session.scenarios)
    i = session.current
    if i is not None and ended is not None and scenarios[i].ended_at is None:
        p = scenarios[i]
        scenarios[i] = Played(p.scenario, p.speed, p.call_id, p.started_at, ended)
    return scenarios
