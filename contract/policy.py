"""Who may do what (DESIGN.md §8), always within the token's agencies."""

from __future__ import annotations

from typing import Final

from contract.kinds import CONSOLE_KINDS, KINDS, Kind

ALL_KINDS: Final = frozenset(KINDS)
# `alert.raised` is written only by the service itself (DESIGN.md §2), so it is nobody's to post:
# an alert each call raises once, posted from outside, would silence the service's own. An
# adapter posts every other kind but `qi.review` (§8), a console's acknowledgements among them.
POST_KINDS: Final[dict[str, frozenset[str]]] = {
    "adapter": ALL_KINDS - {Kind.QI_REVIEW, Kind.ALERT_RAISED},
    "telecommunicator": CONSOLE_KINDS | {Kind.FEEDBACK_ACKNOWLEDGED},
    # The AHA names "the supervisor (or designated QI person)" as the reviewer.
    "supervisor": frozenset({Kind.QI_REVIEW}),
    "qi": frozenset({Kind.QI_REVIEW, Kind.EMS_OUTCOME}),
    "admin": ALL_KINDS - {Kind.ALERT_RAISED},
}
READ_AUDITS: Final = frozenset({"supervisor", "qi", "admin"})
# Debriefs (issue 19): QI sees which are outstanding; the supervisor holds them (the floor's
# conversation with their own telecommunicator), so only a supervisor or admin marks one done.
READ_DEBRIEFS: Final = frozenset({"supervisor", "qi", "admin"})
HOLD_DEBRIEFS: Final = frozenset({"supervisor", "admin"})
READ_MEASURES: Final = frozenset({"qi", "admin"})
READ_REJECTS: Final = frozenset({"admin"})
# Who read which audit: QI reviews who looked at a call; admins answer for the whole record.
READ_ACCESS_LOG: Final = frozenset({"qi", "admin"})
# NEMSIS patient care reports in (DESIGN.md §8), and linking the unmatched ones by hand.
POST_NEMSIS: Final = frozenset({"qi", "adapter", "admin"})
LINK_EMS: Final = frozenset({"qi", "admin"})
# NENA EIDO documents from a CAD (DESIGN.md §8).
POST_EIDO: Final = frozenset({"adapter", "admin"})
# A CAD adapter filing a record it could not read, for the reject store.
FILE_REJECTS: Final = frozenset({"adapter", "admin"})
# Issuing, listing and revoking tokens, within the admin's own agencies.
MANAGE_TOKENS: Final = frozenset({"admin"})
# The reviews of one's own calls (DESIGN.md §8): whoever takes calls, never a machine client.
READ_OWN_FEEDBACK: Final = frozenset({"telecommunicator", "supervisor", "qi", "admin"})
# Continuing-education hours and training needs (service/training/hours.py): supervisors run the
# training, QI keeps the programme's records; a telecommunicator reads only their own line.
READ_TRAINING: Final = frozenset({"supervisor", "qi", "admin"})
READ_OWN_TRAINING: Final = frozenset({"telecommunicator"})
ENTER_TRAINING: Final = frozenset({"supervisor", "admin"})
WATCH: Final = frozenset({"telecommunicator", "supervisor", "qi", "admin"})
# CAD feed health: an adapter's heartbeat, and the feeds' state for the floor's supervisors.
POST_HEARTBEAT: Final = frozenset({"adapter", "admin"})
READ_FEEDS: Final = frozenset({"supervisor", "admin"})
# Training sessions (issue 19): a supervisor or admin trains, within the training agency and the
# trainee's own agency; the trainee reads their own sessions' reports.
TRAIN: Final = frozenset({"supervisor", "admin"})
# GET /metrics from an address outside TCPR_METRICS_ALLOW (the installation's counts, no call data).
READ_METRICS: Final = frozenset({"admin"})


def may_post(role: str, kind: str) -> bool:
    return kind in POST_KINDS.get(role, frozenset())
