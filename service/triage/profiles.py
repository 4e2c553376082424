"""Benchmark profiles and per-agency triage configuration (DESIGN.md §3, §4).

`aha-2020` encodes the AHA T-CPR program measures (2020 update): recognition of out-of-hospital
cardiac arrest in under 90 s from call connection and the first directed compression in under
150 s, with warnings 30 s before each. `ra-legacy` is the older Resuscitation Academy target
(recognition 120 s, first compression 180 s). Every audit records the profile it was judged against.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final


@dataclass(frozen=True, slots=True)
class BenchmarkProfile:
    name: str
    recognition_s: float
    first_compression_s: float
    recognition_warning_s: float
    first_compression_warning_s: float

    def alert_offsets(self) -> dict[str, float]:
        """Seconds from T0 at which each alert of DESIGN.md §4 falls due. Dispatch in parallel is
        held to the recognition standard (AHA: a "no" to either question prompts immediate
        dispatch)."""
        return {
            "recognition_due": self.recognition_warning_s,
            "recognition_overdue": self.recognition_s,
            "compression_due": self.first_compression_warning_s,
            "compression_overdue": self.first_compression_s,
            "dispatch_overdue": self.recognition_s,
        }


AHA_2020: Final = BenchmarkProfile("aha-2020", 90, 150, 60, 120)
RA_LEGACY: Final = BenchmarkProfile("ra-legacy", 120, 180, 90, 150)
PROFILES: Final = {p.name: p for p in (AHA_2020, RA_LEGACY)}

# MPDS protocol 9 (Cardiac or Respiratory Arrest / Death) Echo and Delta determinants, written
# the ways CADs print them: 09-E-01, 9E1, 09E01, 09-D-01A.
DEFAULT_ARREST_NATURE_PATTERNS: Final = (r"^0?9[-\s]?[ED][-\s]?\d{1,2}[A-Z]?$",)
# Any MPDS (medical) determinant: protocols 1 to 37, levels Omega to Echo, e.g. 10-D-1, 26A01.
# The fire (FPDS 51-79) and police (PPDS 101-133) protocols print the same way with other numbers.
DEFAULT_MEDICAL_NATURE_PATTERNS: Final = (
    r"^0?([1-9]|[12][0-9]|3[0-7])[-\s]?[OABCDE][-\s]?\d{1,2}[A-Z]?$",
)
ALERT_SCOPES: Final = ("all", "medical")
DEFAULT_FEED_SILENCE_S: Final = 300


@dataclass(frozen=True, slots=True)
class AgencyConfig:
    """What an agency configures: its benchmark profile, which nature codes mean arrest, its IANA
    time zone (months and years of QI reports are the agency's local ones) and its own QI reason
    codes."""

    profile: BenchmarkProfile = AHA_2020
    arrest_nature_patterns: tuple[str, ...] = DEFAULT_ARREST_NATURE_PATTERNS
    zone: str = "UTC"
    # The agency's own coded reasons, offered beside the seeded ones of DESIGN.md §5.
    extra_nonrecognition_reasons: tuple[str, ...] = ()
    extra_delay_reasons: tuple[str, ...] = ()
    # Which live calls raise alerts (DESIGN.md §4): every call, or medical ones only (a nature
    # matching `medical_nature_patterns`, or any console event: the script was opened).
    alert_scope: str = "all"
    medical_nature_patterns: tuple[str, ...] = DEFAULT_MEDICAL_NATURE_PATTERNS
    # `dispatch_overdue`, for feeds that report units live (off by default).
    dispatch_alerts: bool = False
    # No event nor heartbeat from the CAD feed for this long: the floor is told (0: never).
    feed_silence_s: int = DEFAULT_FEED_SILENCE_S
    # A training agency (`"training": true`): its calls are scenarios played to trainees, kept
    # out of every real agency's board, measures, exports and registry views.
    training: bool = False
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    _medical: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = tuple(re.compile(p, re.IGNORECASE) for p in self.arrest_nature_patterns)
        object.__setattr__(self, "_compiled", compiled)
        medical = tuple(re.compile(p, re.IGNORECASE) for p in self.medical_nature_patterns)
        object.__setattr__(self, "_medical", medical)

    def is_arrest_nature(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        code = code.strip()
        return any(p.search(code) for p in self._compiled)

    def is_medical_nature(self, code: object) -> bool:
        if not isinstance(code, str):
            return False
        code = code.strip()
        return any(p.search(code) for p in self._medical) or self.is_arrest_nature(code)


DEFAULT_CONFIG: Final = AgencyConfig()


def profile_named(name: str) -> BenchmarkProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown benchmark profile {name!r}; known: {sorted(PROFILES)}") from None
