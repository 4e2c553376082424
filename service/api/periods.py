"""The agencies and period a read covers, from its `agency`, `from` and `to` query parameters
(from <= T0 < to). A bare date means midnight UTC (`period_bound`: the DESIGN.md §8 contract of
`/api/v1/measures`) or midnight in an agency's own zone (`local_bound`: the QI reports, counted
in the local calendar QI staff use).

A training agency (`"training": true` in its settings) holds scenarios played to trainees, not
calls of the public: its figures are never mixed into real ones. A set that names it together
with other agencies is refused naming `agency` (`apart`); named alone it is reported, marked
`"training": true`, and never leaves the service as a file (`real_only`: CSV, CARES, NEMSIS and
audit exports go to records and registries, where a training figure would pass for a real one).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Final
from zoneinfo import ZoneInfo

from fastapi import Depends, Query

from contract import policy
from contract.times import parse_rfc3339
from service.api.deps import PrincipalDep, ServicesDep, require
from service.api.refusals import unprocessable
from service.settings import Settings
from service.store.tokens import Principal

MAX_AGENCIES: Final = 200


def period_bound(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 datetime with offset, or a date meaning midnight UTC."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(0), UTC)
        return parse_rfc3339(value)
    except ValueError as exc:
        raise unprocessable(name, str(exc)) from None


def local_bound(value: str | None, name: str, zone: str, expected: str = "") -> datetime | None:
    """An RFC 3339 datetime with offset, or a date meaning midnight in `zone`; a refusal names
    `name` and says what was `expected` before why the value is not it."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            local = datetime.combine(date.fromisoformat(value), time(0), ZoneInfo(zone))
            local.astimezone(UTC)  # stored and compared in UTC
            return local
        return parse_rfc3339(value)
    except ValueError as exc:
        raise unprocessable(name, f"{expected}: {exc}" if expected else str(exc)) from None
    except OverflowError:
        raise unprocessable(name, f"{value!r} falls outside the years 1 to 9999 in UTC") from None


def ordered(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise unprocessable("to", "must be after from")


def agencies_allowed(principal: Principal, agencies: Sequence[str]) -> list[str]:
    """The named agencies, each once, in the order given; each one the token's (else 403)."""
    if not agencies:
        raise unprocessable("agency", "at least one agency is required")
    if len(agencies) > MAX_AGENCIES:
        raise unprocessable("agency", f"at most {MAX_AGENCIES} agencies")
    for agency in agencies:
        if not 1 <= len(agency) <= 32:
            raise unprocessable("agency", "each agency code is 1 to 32 characters")
    unique = list(dict.fromkeys(agencies))
    for agency in unique:
        require(principal, policy.READ_MEASURES, agency)
    return unique


def apart(settings: Settings, agencies: Sequence[str]) -> None:
    """A training agency is reported on alone: with any other agency it is refused by name."""
    if len(agencies) < 2:
        return
    for agency in agencies:
        if settings.is_training(agency):
            raise unprocessable(
                "agency",
                f"{agency} is a training agency; its calls are kept out of real measures: "
                "report on it alone",
            )


def real_only(settings: Settings, agency: str, what: str) -> None:
    """Files for records and registries (`what`) are of real agencies only."""
    if settings.is_training(agency):
        raise unprocessable(
            "agency",
            f"{agency} is a training agency; its calls never leave the service in {what}: "
            "its figures are read on the page, marked training",
        )


@dataclass(frozen=True, slots=True)
class ReportScope:
    """What a QI report covers: agencies the caller may read measures of, and the period as
    given (file names repeat it; a trend reads it in each agency's zone)."""

    agencies: list[str]
    start: str | None
    end: str | None
    # The one agency is a training agency: every answer says so (`"training": true`).
    training: bool = False

    @property
    def agency(self) -> str:
        """The agency of a report that is of one agency."""
        if len(self.agencies) != 1:
            raise unprocessable("agency", "this report is of one agency; name one")
        return self.agencies[0]

    def utc_period(self) -> tuple[datetime | None, datetime | None]:
        t1, t2 = period_bound(self.start, "from"), period_bound(self.end, "to")
        ordered(t1, t2)
        return t1, t2

    def local_period(self, zone: str) -> tuple[datetime | None, datetime | None]:
        t1, t2 = local_bound(self.start, "from", zone), local_bound(self.end, "to", zone)
        ordered(t1, t2)
        return t1, t2


def report_scope(
    principal: PrincipalDep,
    services: ServicesDep,
    agency: Annotated[list[str], Query()],
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> ReportScope:
    agencies = agencies_allowed(principal, agency)
    apart(services.settings, agencies)
    return ReportScope(agencies, start, end, services.settings.is_training(agencies[0]))


ReportScopeDep = Annotated[ReportScope, Depends(report_scope)]
