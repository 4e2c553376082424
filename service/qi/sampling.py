"""A reproducible random sample of population calls for QI review, pure.

The AHA asks for a QI review of every resuscitation-attempted call; where a centre cannot sustain
100 %, it reviews a random sample and says so (the reviewed measures' coverage then shows the
share). The draw must be reproducible and auditable: each call gets a number in [0, 1) from
SHA-256 of (seed, agency, call id), and a call is in the sample when its number is under the
fraction. The same seed and fraction always give the same calls, a larger fraction with the same
seed only adds calls, and nobody can steer which calls are drawn without changing the seed, which
the access log records with the fraction (the query of every audit-list read).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

SEED_MAX: Final = 64
_SCALE: Final = float(1 << 52)


@dataclass(frozen=True, slots=True)
class Sample:
    fraction: float  # 0 < fraction <= 1
    seed: str

    def draws(self, agency: str, call_id: str) -> bool:
        return ticket(self.seed, agency, call_id) < self.fraction

    def drawn(self, agency: str, call_ids: Iterable[str]) -> list[str]:
        return [c for c in call_ids if self.draws(agency, c)]


def ticket(seed: str, agency: str, call_id: str) -> float:
    """The call's number in [0, 1) for this seed: uniform, fixed, independent between calls."""
    digest = hashlib.sha256("\x1f".join((seed, agency, call_id)).encode()).digest()
    return (int.from_bytes(digest[:7], "big") >> 4) / _SCALE
