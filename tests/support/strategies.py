"""What the property tests of the core draw calls from: zones, answers, nature codes, and the
event kinds weighted toward the ones that drive recognition."""

from __future__ import annotations

from datetime import UTC

from hypothesis import settings
from hypothesis import strategies as st

from support.timeline import CEST, EST, IST, NST

SETTINGS = settings(max_examples=200, deadline=None)
TZS = (UTC, EST, CEST, IST, NST)
AGENCY = "PSAP1"
ANSWER = st.sampled_from(("yes", "no", "unsure"))
BOOL = st.booleans()
CODES = st.sampled_from(("09-E-01", "9E1", "09-D-01", "09-C-01", "10-D-01", "26-A-01", None))
KINDS = (
    "call.received",
    "call.transferred",
    "call.answered",
    "call.nature",
    "triage.conscious",
    "triage.conscious",
    "triage.breathing",
    "triage.breathing",
    "ohca.recognized",
    "tcpr.started",
    "tcpr.first_compression",
    "tcpr.not_given",
    "unit.dispatched",
    "unit.on_scene",
    "call.ended",
    "ems.outcome",
    "qi.review",
    "alert.raised",
)
