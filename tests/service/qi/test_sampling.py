"""The review sample (service.qi.sampling): reproducible, nested, and about the fraction asked."""

from __future__ import annotations

from service.qi.sampling import Sample, ticket

CALLS = [f"24-{i:06d}" for i in range(4000)]


def test_the_same_seed_draws_the_same_calls() -> None:
    assert Sample(0.2, "q1").drawn("A", CALLS) == Sample(0.2, "q1").drawn("A", list(CALLS))
    assert Sample(0.2, "q1").drawn("A", CALLS) != Sample(0.2, "q2").drawn("A", CALLS)
    # Another agency's call of the same number is another ticket.
    assert ticket("q1", "A", "24-000001") != ticket("q1", "B", "24-000001")


def test_a_larger_fraction_only_adds_calls() -> None:
    small = set(Sample(0.1, "s").drawn("A", CALLS))
    large = set(Sample(0.3, "s").drawn("A", CALLS))
    assert small < large
    assert set(Sample(1.0, "s").drawn("A", CALLS)) == set(CALLS)


def test_the_share_drawn_is_about_the_fraction() -> None:
    # 4000 calls at 25 %: the binomial sd is sqrt(4000 * 0.25 * 0.75) = 27.4; allow 4 sd.
    drawn = len(Sample(0.25, "share").drawn("A", CALLS))
    assert abs(drawn - 1000) < 110
    assert all(0 <= ticket("t", "A", c) < 1 for c in CALLS[:500])
