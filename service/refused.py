"""Why an input was refused, below HTTP: what went wrong (the class), why (`reason`), the field
at fault and the agency the input was for, when known. The HTTP layer alone turns each class into
a status code and a response (service/api/refusals.py); the reject store keeps both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Refused(Exception):
    reason: str
    field: str | None = None
    agency: str | None = None


class Unauthenticated(Refused):
    """No valid credential came with the input."""


class NotAllowed(Refused):
    """The sender's role or agencies do not allow it, or it came from another site's page."""


class NotFound(Refused):
    """It names something that does not exist."""


class Conflicting(Refused):
    """It contradicts what is stored (an event id with other content, a report linked elsewhere)."""


class TooLarge(Refused):
    """The body is over the size limit."""


class UnreadableType(Refused):
    """The body's media type is not one this input is read in."""


class Invalid(Refused):
    """A field is missing or invalid: `field` names it."""
