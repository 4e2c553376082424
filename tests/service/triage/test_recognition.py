"""DESIGN.md §3: recognition at the earliest of the question, direct and nature-code paths."""

from __future__ import annotations

import pytest
from support.timeline import CEST, EST, UTC

from service.triage.call_state import phase
from service.triage.profiles import DEFAULT_CONFIG, AgencyConfig


def test_question_path_timed_by_completing_answer(tl):
    tl.received(0)
    tl.conscious(20, "no", tz=CEST)
    tl.breathing(35, "no", tz=UTC)
    s = tl.fold()
    assert s.recognized is True
    assert s.recognized_at == tl.t(35)
    assert s.recognition_path == "question"
    assert s.path == "question"
    assert s.ruled_out is False


def test_question_path_breathing_first_then_conscious(tl):
    tl.received(0)
    tl.breathing(12, "no")
    tl.conscious(41, "no", tz=CEST)
    s = tl.fold()
    assert s.recognized_at == tl.t(41)
    assert s.path == "question"


@pytest.mark.parametrize(
    ("conscious", "breathing"), [("unsure", "no"), ("no", "unsure"), ("unsure", "unsure")]
)
def test_unsure_counts_as_no(tl, conscious, breathing):
    tl.received(0)
    tl.conscious(15, conscious)
    tl.breathing(27, breathing)
    s = tl.fold()
    assert s.recognized is True
    assert s.recognized_at == tl.t(27)
    assert s.path == "question"


def test_one_answer_alone_does_not_recognise(tl):
    tl.received(0)
    tl.conscious(15, "no")
    s = tl.fold()
    assert s.recognized is False
    assert s.recognized_at is None
    assert s.path is None
    assert s.ruled_out is False
    assert phase(s) == "ask_breathing"


def test_invalid_answer_is_ignored(tl):
    tl.received(0)
    tl.conscious(15, "no")
    tl.breathing(20, "maybe")
    s = tl.fold()
    assert s.recognized is False
    assert s.breathing is None


def test_direct_recognition(tl):
    tl.received(0)
    tl.recognized(47, tz=CEST)
    s = tl.fold()
    assert s.recognized is True
    assert s.recognized_at == tl.t(47)
    assert s.path == "direct"


@pytest.mark.parametrize("code", ["09-E-01", "9E1", "09-D-01", " 09-e-01 ", "09-D-01A", "09E01"])
def test_nature_code_path_default_patterns(tl, code):
    tl.received(0)
    tl.nature(33, code)
    s = tl.fold()
    assert s.recognized is True
    assert s.recognized_at == tl.t(33)
    assert s.path == "nature_code"


@pytest.mark.parametrize("code", ["09-C-01", "10-D-01", None, "", "09-O-01", "19-D-01", "09"])
def test_nature_code_that_is_not_arrest(tl, code):
    tl.received(0)
    tl.nature(33, code)
    s = tl.fold()
    assert s.recognized is False
    assert s.path is None


def test_default_config_patterns_directly():
    assert DEFAULT_CONFIG.is_arrest_nature("09-E-01") is True
    assert DEFAULT_CONFIG.is_arrest_nature("9E1") is True
    assert DEFAULT_CONFIG.is_arrest_nature("09-D-01") is True
    assert DEFAULT_CONFIG.is_arrest_nature("09-C-01") is False
    assert DEFAULT_CONFIG.is_arrest_nature("10-D-01") is False
    assert DEFAULT_CONFIG.is_arrest_nature(None) is False
    assert DEFAULT_CONFIG.is_arrest_nature(9) is False


def test_agency_configured_nature_pattern(tl):
    config = AgencyConfig(arrest_nature_patterns=(r"^ARREST$",))
    tl.received(0)
    tl.nature(10, "09-E-01")  # not arrest for this agency
    tl.nature(50, "arrest")
    s = tl.fold(config)
    assert s.recognized_at == tl.t(50)
    assert s.path == "nature_code"


@pytest.mark.parametrize(
    ("direct", "nature", "question_pair", "expected_s", "expected_path"),
    [
        # question completes at 30, direct at 50, nature at 70 -> question
        (50, 70, (20, 30), 30, "question"),
        # direct first
        (25, 70, (20, 30), 25, "direct"),
        # nature first
        (50, 18, (20, 30), 18, "nature_code"),
    ],
)
def test_earliest_path_wins(tl, direct, nature, question_pair, expected_s, expected_path):
    # appended deliberately latest-first so list order is not the deciding factor
    tl.recognized(direct, tz=CEST)
    tl.nature(nature, "09-E-01", tz=UTC)
    tl.breathing(question_pair[1], "no", tz=EST)
    tl.conscious(question_pair[0], "unsure", tz=CEST)
    tl.received(0)
    s = tl.fold()
    assert s.recognized_at == tl.t(expected_s)
    assert s.path == expected_path


def test_yes_rules_out_then_later_no_reopens(tl):
    tl.received(0)
    tl.conscious(10, "no")
    tl.breathing(20, "yes", tz=CEST)
    verify = tl.fold()
    # Not awake, "yes, breathing" unconfirmed: the agonal-breathing trap, not ruled out (§3).
    assert verify.recognized is False
    assert verify.ruled_out is False
    assert verify.verify_breathing is True
    assert phase(verify) == "verify_breathing"
    # The caller described the breathing and it is normal: ruled out now.
    tl.add("triage.breathing", 40, data={"answer": "yes", "confirmed": True})
    ruled = tl.fold()
    assert (ruled.ruled_out, ruled.verify_breathing) == (True, False)
    assert phase(ruled) == "ruled_out"

    tl.breathing(95, "no", tz=UTC)  # "patient stopped breathing"
    s = tl.fold()
    assert s.recognized is True
    assert s.ruled_out is False
    assert s.recognized_at == tl.t(95)
    assert s.path == "question"


def test_conscious_yes_then_no_reopens_at_the_later_answer(tl):
    tl.received(0)
    tl.conscious(10, "yes")
    tl.breathing(20, "no")
    assert tl.fold().ruled_out is True
    tl.conscious(64, "unsure", tz=CEST)
    s = tl.fold()
    assert s.recognized_at == tl.t(64)
    assert s.path == "question"


def test_yes_to_one_question_keeps_it_ruled_out(tl):
    tl.received(0)
    tl.conscious(10, "yes")
    tl.breathing(20, "no")
    tl.breathing(30, "unsure")
    s = tl.fold()
    assert s.recognized is False
    assert s.ruled_out is True
    assert s.conscious == "yes"
    assert s.breathing == "unsure"


def test_direct_recognition_reopens_a_ruled_out_call(tl):
    tl.received(0)
    tl.conscious(10, "yes")
    tl.breathing(20, "yes")
    tl.recognized(80)
    s = tl.fold()
    assert s.recognized is True
    assert s.ruled_out is False
    assert s.recognized_at == tl.t(80)
    assert s.path == "direct"


def test_recognition_is_kept_after_a_later_yes(tl):
    tl.received(0)
    tl.conscious(10, "no")
    tl.breathing(20, "no")
    tl.breathing(40, "yes")
    s = tl.fold()
    assert s.recognized_at == tl.t(20)
    assert s.path == "question"
    assert s.ruled_out is False


def test_out_of_order_answers_use_source_time_not_arrival(tl):
    # breathing "no" at +50 arrives before the "yes" at +20; the latest by time is "no"
    tl.received(0)
    tl.conscious(10, "no")
    tl.breathing(50, "no", tz=CEST)
    tl.breathing(20, "yes", tz=EST)
    s = tl.fold()
    assert s.recognized_at == tl.t(50)
    assert s.breathing == "no"


def test_same_instant_answers_ordered_by_arrival(tl):
    tl.received(0)
    tl.conscious(10, "no")
    tl.breathing(20, "no", tz=CEST)  # arrival 3
    tl.add("triage.breathing", 20, tz=UTC, data={"answer": "yes"}, arrival=4)
    s = tl.fold()
    # at +20 the "no" completes the pair first (arrival 3), so recognition stands at +20
    assert s.recognized_at == tl.t(20)
    assert s.breathing == "yes"
