"""Which calls the supervisor debriefs with the telecommunicator (issue 19), pure.

AHA T-CPR program: every cardiac arrest call gets individual QI review with helpful feedback; a
call the telecommunicator never recognised, or one that missed a benchmark, is one to talk
through face to face. A call **needs a debrief** when it is an arrest EMS confirmed in the §5
population (the latest `ems.outcome` says `ohca` with `resuscitation_attempted`, not
`ems_witnessed`) and at least one of these holds:

- `never_recognised`: no telecommunicator recognition before EMS arrived (a recognition at or
  after the first `unit.on_scene` is the crew's), unless the review in force found the arrest
  not recognisable from the call (`recognizable: false`: nothing to debrief about recognition);
- `recognition_late`: recognised at or after the profile's recognition benchmark;
- `compression_late`: the first directed compression at or after the compression benchmark;
- `no_compression`: recognised, yet no directed first compression and no exclusion standing
  (a `tcpr.not_given` the review in force rejects does not stand): the call counts against the
  T-CPR rate exactly as the measures count it.

Out of it, as out of the population: an arrest EMS witnessed happened in front of the crew and
was not the telecommunicator's to recognise; one EMS did not try to resuscitate (obvious death,
a valid DNR) was not a call for T-CPR. A benchmark is missed when its interval is not strictly
under the threshold (service.triage.intervals `met`, the one rule), judged on the exact interval.
The calls' judgements come from their summary (service.qi.summary), so a review in force (its
corrected times, its `recognizable`, its `exclusion_valid`) decides here as in the audit.
"""

from __future__ import annotations

from typing import Final

from service.qi.summary import CallSummary
from service.triage.intervals import met
from service.triage.profiles import BenchmarkProfile

NEVER_RECOGNISED: Final = "never_recognised"
RECOGNITION_LATE: Final = "recognition_late"
COMPRESSION_LATE: Final = "compression_late"
NO_COMPRESSION: Final = "no_compression"
REASONS: Final = (NEVER_RECOGNISED, RECOGNITION_LATE, COMPRESSION_LATE, NO_COMPRESSION)


def exclusion_stands(call: CallSummary) -> bool:
    """T-CPR was not given for a reason the review in force has not rejected."""
    return call.excluded and call.exclusion_valid is not False


def debrief_reasons(call: CallSummary, profile: BenchmarkProfile) -> tuple[str, ...]:
    """Why the call needs a debrief, in `REASONS` order; empty when it needs none."""
    if not call.in_population:
        return ()
    out: list[str] = []
    if not call.recognized and call.recognizable is not False:
        out.append(NEVER_RECOGNISED)
    if call.recognized and met(call.to_recognition, profile.recognition_s) is False:
        out.append(RECOGNITION_LATE)
    if met(call.to_first_compression, profile.first_compression_s) is False:
        out.append(COMPRESSION_LATE)
    if call.recognized and call.to_first_compression is None and not exclusion_stands(call):
        out.append(NO_COMPRESSION)
    return tuple(out)


def needs_debrief(call: CallSummary, profile: BenchmarkProfile) -> bool:
    return bool(debrief_reasons(call, profile))
