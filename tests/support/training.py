"""Training sessions for the tests: a scenario's score read again from its audit JSON, check by
check, so a test compares the service's score with what the audit says (never a hard-coded
result)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.training.scenarios import Scenario

TRAINING_AGENCIES = {"KCE-TRAIN": {"training": True}}


def expected_from_audit(scenario: Scenario, audit: dict[str, Any]) -> dict[str, bool]:
    """Each check of service/training/scoring.py as the audit JSON answers it."""
    path, answers, tcpr = audit["recognition_path"], audit["answers"], audit["tcpr"]
    recognized_at = audit["timestamps"]["recognized"]
    asked_first = recognized_at is not None and any(
        e["kind"] == "triage.conscious"
        and datetime.fromisoformat(e["at"]) <= datetime.fromisoformat(recognized_at)
        for e in audit["timeline"]
    )
    out = {
        "recognition": audit["benchmarks"]["recognition_met"] is True,
        "breathing_verified": path == "direct" or answers["breathing"] in ("no", "unsure"),
        "script": path == "question"
        or (path == "direct" and (scenario.expect.volunteers_arrest or asked_first)),
    }
    reason = tcpr["not_given_reason"]
    if scenario.expect.exclusion is None:
        out["first_compression"] = audit["benchmarks"]["first_compression_met"] is True
        out["exclusion"] = reason is None
    else:
        out["exclusion"] = reason == scenario.expect.exclusion and tcpr["excluded"] is True
    if scenario.expect.variant:
        out["variant"] = tcpr["started"] and tcpr["variant"] == scenario.expect.variant
    if scenario.expect.language:
        language = (tcpr["language"] or "").split("-")[0]
        out["language"] = tcpr["started"] and language == scenario.expect.language
    return out


def checks_of(score: dict[str, Any]) -> dict[str, bool]:
    """A score as the API gives it, as check name -> passed."""
    return {c["name"]: c["passed"] for c in score["checks"]}
