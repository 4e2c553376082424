"""Training scenarios: simulated cardiac-arrest calls a trainer plays live into a trainee's panel.

Each scenario is one call as a CAD would report it (offsets in seconds from its start, the
`call.received` at the first PSAP: T0), the caller's lines the trainer reads aloud at each point
of the script the trainee has reached, and what correct handling is. The calls follow the
barriers of the T-CPR literature the simulator (cad_adapters/simulator.py) models: agonal
breathing reported as breathing (Lewis et al., Circulation 2013, the main cause of missed
arrests), a caller who will not do compressions, a transfer that runs the clock before the
trainee answers, an infant, a caller alone with the patient (speakerphone), a language barrier.

Only what a CAD sends is played (received, transferred, answered, nature, units, ended); every
console event comes from the trainee. Arrest nature codes come late (after the 90 s benchmark,
as a CAD updates the determinant after the call-taker's entry), so a code can never recognise an
arrest in time on the trainee's behalf. Pure: times come from the arguments.

The texts and timelines are the one table `SCENARIOS` at the bottom: ids are fixed (the training
needs suggest them by id), texts may be improved freely.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

# The points of the script a caller's lines answer, in the order a call meets them.
POINTS: Final = (
    "ringing",
    "opening",
    "conscious",
    "breathing",
    "describe",
    "ruled_out",
    "instructions",
    "compressions",
    "not_given",
)
# The call's phase (service/triage/call_state.py `phase`) -> the points whose lines the trainer
# reads now.
POINTS_BY_PHASE: Final[Mapping[str, tuple[str, ...]]] = {
    "ask_conscious": ("opening", "conscious"),
    "ask_breathing": ("breathing",),
    "triage": ("conscious", "breathing"),
    "verify_breathing": ("describe",),
    "ruled_out": ("ruled_out",),
    "recognized": ("instructions",),
    "tcpr_instructions": ("instructions",),
    "compressions": ("compressions",),
    "tcpr_not_given": ("not_given",),
    "ended": (),
}


@dataclass(frozen=True, slots=True)
class Line:
    """One thing the caller says: `cue` tells the trainer when, `gloss` translates it."""

    cue: str
    text: str
    gloss: str | None = None


@dataclass(frozen=True, slots=True)
class Step:
    """One CAD event of the timeline, `offset_s` seconds after the start."""

    kind: str
    offset_s: float
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Expectation:
    """Correct handling. Every scenario is an arrest to recognise; `exclusion` is the
    `tcpr.not_given` reason that is correct (None: T-CPR is to be given), `variant` and
    `language` what `tcpr.started` should say, `volunteers_arrest` whether the caller says at
    once that the patient is not breathing (a direct recognition needs no questions then)."""

    exclusion: str | None = None
    variant: str | None = None
    language: str | None = None
    volunteers_arrest: bool = False


@dataclass(frozen=True, slots=True)
class Scenario:
    id: str
    title: str
    brief: str  # one line for the trainer: what the scenario tests
    steps: tuple[Step, ...]
    lines: Mapping[str, tuple[Line, ...]]
    expect: Expectation = Expectation()

    @property
    def duration_s(self) -> float:
        return max(s.offset_s for s in self.steps)

    def lines_at(self, phase: str, answered: bool) -> tuple[Line, ...]:
        """What the caller says now: before the trainee answers, the ringing; then the lines of
        the phase the call is in."""
        points = ("ringing",) if not answered else POINTS_BY_PHASE.get(phase, ())
        return tuple(line for p in points for line in self.lines.get(p, ()))


def call_id_of(session_id: int, number: int) -> str:
    """The call id of a session's `number`th scenario (1-based)."""
    return f"TRN-{session_id}-{number}"


def cad_records(
    scenario: Scenario,
    *,
    agency: str,
    call_id: str,
    trainee: str,
    start: datetime,
    speed: float = 1.0,
) -> list[dict[str, Any]]:
    """The scenario's CAD events as canonical event records, at `start` + offset / `speed`
    (a faster speed plays the timeline quicker; a trainee's actions are timed as they come).
    Ids derive from the call, so the same arguments give the same records."""
    if start.utcoffset() is None:
        raise ValueError("start needs a UTC offset")
    if not speed > 0:
        raise ValueError("speed must be positive")
    records = []
    for i, step in enumerate(sorted(scenario.steps, key=lambda s: s.offset_s), start=1):
        record: dict[str, Any] = {
            "event_id": f"{call_id}-{i:02d}",
            "call_id": call_id,
            "agency": agency,
            "kind": step.kind,
            "at": (start + timedelta(seconds=step.offset_s / speed)).isoformat(),
            "source": "cad",
        }
        if step.kind == "call.answered":
            record["actor"] = trainee  # the trainee's console answers the call
        if step.data:
            record["data"] = dict(step.data)
        records.append(record)
    return records


def scenario_named(scenario_id: str) -> Scenario:
    try:
        return BY_ID[scenario_id]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario_id!r}; known: {', '.join(BY_ID)}") from None


def _cad(
    answered: float,
    dispatched: float,
    on_scene: float,
    natures: tuple[tuple[float, str, str], ...],
    unit: str,
    transfer: tuple[float, str, str] | None = None,
) -> tuple[Step, ...]:
    """A call's CAD timeline: received at 0, perhaps transferred (at, from PSAP, to), answered,
    the natures (at, code, text), a unit dispatched and on scene, ended 30 s after arrival."""
    psap = transfer[1] if transfer else "TRAINING-PSAP"
    steps = [Step("call.received", 0, {"psap": psap})]
    if transfer:
        steps.append(Step("call.transferred", transfer[0], {"to": transfer[2]}))
    steps.append(Step("call.answered", answered))
    steps += [Step("call.nature", at, {"code": code, "text": text}) for at, code, text in natures]
    steps += [
        Step("unit.dispatched", dispatched, {"unit": unit}),
        Step("unit.on_scene", on_scene, {"unit": unit}),
        Step("call.ended", on_scene + 30),
    ]
    return tuple(steps)


def _lines(**points: list[tuple[str, ...]]) -> Mapping[str, tuple[Line, ...]]:
    return {p: tuple(Line(*line) for line in lines) for p, lines in points.items()}


RINGING_HERE = ("Ringing", "(Wait for the trainee to answer.)")
ARREST_LATE = (100, "09-E-01", "Cardiac arrest - not breathing at all")

SCENARIOS: Final = (
    Scenario(
        "classic_arrest",
        "Classic arrest",
        "A man collapsed at home; his wife is with him and willing. Ask both questions, coach.",
        _cad(6, 45, 450, ((25, "32-D-01", "Unknown problem - person down"), ARREST_LATE), "M12"),
        _lines(
            ringing=[RINGING_HERE],
            opening=[("First words", "Please help! My husband just collapsed in the kitchen!")],
            conscious=[("Asked if he is awake", "No! He's not answering me at all.")],
            breathing=[
                ("Asked if he is breathing normally", "No... I don't think he's breathing.")
            ],
            describe=[
                ("Asked to describe the breathing", "There's nothing. His chest isn't moving.")
            ],
            ruled_out=[("If the trainee moves on", "He's NOT answering me, he's not moving!")],
            instructions=[
                ("Told to start CPR", "Yes, yes, tell me what to do!"),
                ("Asked to get him on the floor", "He's on the floor. He's on his back."),
            ],
            compressions=[("Pushing", "Okay, I'm pushing... one, two, three, four...")],
            not_given=[("T-CPR given up", "What? What do I do now?")],
        ),
    ),
    Scenario(
        "agonal_breathing",
        "Agonal breathing",
        "The caller says he is breathing: he is snoring and gasping. Verify the breathing.",
        _cad(5, 50, 420, ((22, "31-D-01", "Unconscious person"),), "M14"),
        _lines(
            ringing=[RINGING_HERE],
            opening=[("First words", "My husband passed out on the couch, I can't wake him up!")],
            conscious=[("Asked if he is awake", "No, he won't wake up. I've been shaking him.")],
            breathing=[("Asked if he is breathing normally", "Yes, he's breathing. He's snoring.")],
            describe=[
                (
                    "Asked to describe the breathing",
                    "It's like a snore... then a gasp, every few seconds. Kind of gurgling.",
                ),
                ("Asked to hold the phone to his mouth", "(Two slow, gasping breaths, then none.)"),
            ],
            ruled_out=[("If the trainee moves on", "He's making that gasping noise again...")],
            instructions=[
                ("Told to start CPR", "But he's breathing! ...Okay. Okay. What do I do?")
            ],
            compressions=[("Pushing", "I'm pushing, I'm pushing! One, two, three...")],
            not_given=[("T-CPR given up", "Is someone coming? He's still gasping.")],
        ),
    ),
    Scenario(
        "caller_refuses",
        "Caller refuses",
        "The caller will not do compressions whatever is said: record T-CPR not given, refused.",
        _cad(7, 48, 470, ((30, "32-D-01", "Unknown problem - man down"), ARREST_LATE), "M21"),
        _lines(
            ringing=[RINGING_HERE],
            opening=[("First words", "There's a man lying on the sidewalk outside my shop.")],
            conscious=[("Asked if he is awake", "No, he's not moving. I called out to him.")],
            breathing=[("Asked if he is breathing normally", "No. No, I don't think so.")],
            describe=[("Asked to describe the breathing", "Nothing. He looks grey.")],
            ruled_out=[("If the trainee moves on", "He's not moving at all, I'm telling you.")],
            instructions=[
                ("Told to start CPR", "No. I'm not touching him. I can't do that."),
                ("Encouraged again", "I'm sorry, I won't. Just send the ambulance, please."),
            ],
            compressions=[("If the trainee records a compression", "(The caller never pushes.)")],
            not_given=[("T-CPR recorded as not given", "Thank you... I'll wait by the door.")],
        ),
        Expectation(exclusion="caller_refused"),
    ),
    Scenario(
        "transfer",
        "Transfer from another PSAP",
        "Received at a primary PSAP and transferred: the clock runs ~40 s before the trainee.",
        _cad(
            41,
            70,
            460,
            ((18, "32-D-01", "Unknown problem / man down"),),
            "M23",
            transfer=(28, "PRIMARY-PSAP", "TRAINING-EMS"),
        ),
        _lines(
            ringing=[
                (
                    "Being transferred",
                    "(The call was received at the primary PSAP and is being transferred: "
                    "the clock is already running.)",
                )
            ],
            opening=[
                ("First words", "Hello? They said you'd send help. My coworker just dropped!")
            ],
            conscious=[("Asked if he is awake", "No, he's not responding to anything.")],
            breathing=[
                ("Asked if he is breathing normally", "He's... making a weird noise now and then.")
            ],
            describe=[("Asked to describe the breathing", "Like a big gasp. Then nothing.")],
            ruled_out=[("If the trainee moves on", "He's not waking up, what do we do?")],
            instructions=[("Told to start CPR", "Okay, we've got him on the floor. Go.")],
            compressions=[("Pushing", "I'm pushing hard, one, two, three...")],
            not_given=[("T-CPR given up", "Are they almost here?")],
        ),
    ),
    Scenario(
        "infant",
        "Infant",
        "A 4-month-old is not breathing: recognise it and coach infant CPR (switch variant: V).",
        _cad(5, 40, 400, ((22, "32-D-01", "Unknown problem - baby"), ARREST_LATE), "M31"),
        _lines(
            ringing=[RINGING_HERE],
            opening=[
                (
                    "First words",
                    "My baby's not breathing! She's four months old, she's all floppy!",
                )
            ],
            conscious=[("Asked if she is awake", "No, she won't wake up, she's not crying.")],
            breathing=[("Asked if she is breathing normally", "No! Her lips are blue.")],
            describe=[("Asked to describe the breathing", "Her chest isn't moving at all.")],
            ruled_out=[("If the trainee moves on", "She's not moving! Please!")],
            instructions=[
                ("Told to start CPR", "She's so small, what do I do?"),
                ("Asked to put her on a firm surface", "She's on the table."),
            ],
            compressions=[("Pushing", "I'm pressing with two fingers... is this right?")],
            not_given=[("T-CPR given up", "Please hurry, please!")],
        ),
        Expectation(variant="infant", volunteers_arrest=True),
    ),
    Scenario(
        "caller_alone",
        "Caller alone",
        "The caller is alone with the patient: have the phone put on speaker and set down.",
        _cad(8, 55, 480, ((24, "32-D-01", "Unknown problem / man down"),), "E7"),
        _lines(
            ringing=[RINGING_HERE],
            opening=[("First words", "My dad collapsed, he's not answering me! I'm on my own!")],
            conscious=[("Asked if he is awake", "No, he's not waking up.")],
            breathing=[("Asked if he is breathing normally", "I can't tell... I don't think so.")],
            describe=[("Asked to describe the breathing", "Nothing. I can't hear anything.")],
            ruled_out=[("If the trainee moves on", "Dad? Dad! He's not answering!")],
            instructions=[
                ("Told to start CPR", "I'm by myself, how can I hold the phone and do that?"),
                ("Told to put the phone on speaker", "Okay... it's on speaker, it's on the floor."),
            ],
            compressions=[("Pushing", "(From a distance) I'm pushing! One, two, three, four...")],
            not_given=[("T-CPR given up", "Hello? Are you still there?")],
        ),
    ),
    Scenario(
        "spanish_caller",
        "Spanish-speaking caller",
        "The caller speaks Spanish: coach in Spanish (L switches the panel to ES).",
        _cad(
            6,
            60,
            450,
            ((35, "32-D-01", "Unknown problem - Spanish speaker"), ARREST_LATE),
            "E9",
        ),
        _lines(
            ringing=[RINGING_HERE],
            opening=[
                (
                    "First words",
                    "¡Mi esposo se cayó y no responde! ¡Ayúdenme, por favor!",
                    "My husband fell and isn't responding! Help me, please!",
                )
            ],
            conscious=[
                (
                    "Asked if he is awake",
                    "No, no despierta. No me contesta.",
                    "No, he won't wake up. He doesn't answer me.",
                ),
            ],
            breathing=[
                (
                    "Asked if he is breathing normally",
                    "No... no respira bien. Está morado.",
                    "No... he isn't breathing right. He's turning purple.",
                ),
            ],
            describe=[
                (
                    "Asked to describe the breathing",
                    "Hace un ruido, como ronquido, y nada más.",
                    "He makes a noise, like a snore, and nothing else.",
                ),
            ],
            ruled_out=[
                (
                    "If the trainee moves on",
                    "¡No está despierto! ¡No se mueve!",
                    "He's not awake! He's not moving!",
                ),
            ],
            instructions=[
                ("Told to start CPR", "¿Qué hago? ¡Dígame qué hago!", "What do I do? Tell me!"),
            ],
            compressions=[
                (
                    "Pushing",
                    "Estoy empujando... uno, dos, tres, cuatro...",
                    "I'm pushing... one, two, three, four...",
                ),
            ],
            not_given=[("T-CPR given up", "¿Ya vienen?", "Are they coming?")],
        ),
        Expectation(language="es"),
    ),
)
BY_ID: Final = {s.id: s for s in SCENARIOS}
SCENARIO_IDS: Final = tuple(BY_ID)
