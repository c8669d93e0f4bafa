"""The scoreboard's rates: Wilson intervals, and small counts never shown as a bare percentage."""

from __future__ import annotations

import pytest

from maestro_tui.domain.scoreboard import Score, rate_text, row_texts, wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [  # reference values: R's prop.test(k, n, correct = FALSE)$conf.int
        (2, 2, 0.3424, 1.0),
        (0, 3, 0.0, 0.5615),
        (9, 10, 0.5958, 0.9821),
        (50, 100, 0.4038, 0.5962),
    ],
)
def test_wilson_matches_reference_values(k: int, n: int, lo: float, hi: float) -> None:
    interval = wilson(k, n)
    assert interval is not None
    assert interval == pytest.approx((lo, hi), abs=5e-4)


def test_no_case_no_interval() -> None:
    assert wilson(0, 0) is None and rate_text(0, 0) == "–"


def test_small_counts_show_counts_and_an_interval_not_a_percentage() -> None:
    assert rate_text(2, 2) == "2/2 [34–100 %]"
    assert "100 %" not in rate_text(2, 2).split("[")[0]
    assert rate_text(9, 10) == "9/10 90 % [60–98]"


def score(**more: int | float) -> Score:
    base = dict(worker="claude", model="opus", role="tester", tasks=4, merged=3, green_known=4,
                green_first=1, fix_known=4, fix_rounds=6, conflicts=1, cost_usd=0.9,
                unpriced_calls=0, simulated=False, merged_wall_s=30.0, merged_timed=3, runs=2,
                landed=3, reverted=1)  # fmt: skip
    base.update(more)
    return Score(**base)  # type: ignore[arg-type]


def test_a_row_of_the_scoreboard() -> None:
    s = score()
    assert row_texts(s, joined=True)[0] == "claude · opus"
    assert row_texts(s) == (
        "claude", "opus", "tester", "4", "3/4 [30–95 %]", "1/4 [5–70 %]", "1.50", "1",
        "$0.3000", "10.0s", "1/3 [6–79 %]",
    )  # fmt: skip
    data = s.to_dict()
    assert data["merge_rate"]["k"] == 3 and data["merge_rate"]["n"] == 4
    assert data["cost_per_merged_usd"] == pytest.approx(0.3)
    assert data["revert_rate"]["n"] == 3


def test_nothing_merged_has_no_cost_or_time_per_merged_task() -> None:
    s = score(merged=0, merged_timed=0, merged_wall_s=0.0, landed=0, reverted=0)
    assert (s.cost_per_merged, s.time_per_merged) == (None, None)
    assert row_texts(s)[8:] == ("–", "–", "–")
