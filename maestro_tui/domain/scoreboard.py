"""The scoreboard: per worker × model × role, how its tasks came out across the history.

Pure: counts in (from the store's task outcomes, see domain/outcomes.py for what each count
means), rates and their intervals out. A rate is never shown bare: always as k/n, and with a
Wilson score interval (95 %), so that "2 of 2" reads as the little it says (34–100 %), not as
"100 %". Below `SMALL` cases the point estimate is left out altogether.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

Z95 = 1.959963984540054  # the normal quantile for a two-sided 95 % interval
SMALL = 10  # fewer cases than this: "k/n [lo–hi %]", no point percentage


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of k successes in n trials (None when n is 0)."""
    if n <= 0:
        return None
    p = k / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate_text(k: int, n: int) -> str:
    """ "9/10 90 % [60–98]", "2/2 [34–100 %]", or "–" with no case at all."""
    interval = wilson(k, n)
    if interval is None:
        return "–"
    lo, hi = (round(x * 100) for x in interval)
    if n < SMALL:
        return f"{k}/{n} [{lo}–{hi} %]"
    return f"{k}/{n} {round(100 * k / n)} % [{lo}–{hi}]"


@dataclass(frozen=True)
class Score:
    """One worker × model × role: counts over its settled tasks (ensemble candidates each)."""

    worker: str
    model: str
    role: str
    tasks: int  # units that ran and settled or wait for a human (not taken over, not unstarted)
    merged: int
    green_known: int  # units whose first test run is known
    green_first: int  # ... and passed
    fix_known: int  # units whose fix rounds are known
    fix_rounds: int  # their total
    conflicts: int  # units that hit a merge conflict
    cost_usd: float  # everything they spent (failed ones too)
    unpriced_calls: int
    simulated: bool
    merged_wall_s: float  # the wall time of the merged ones, summed
    merged_timed: int  # merged units with a wall time
    runs: int  # runs they come from
    landed: int = 0  # merged units that put a change on the branch (not "done", no change)
    reverted: int | None = 0  # of those, the ones later reverted (git); None: unknown

    @property
    def merge_rate(self) -> tuple[float, float] | None:
        return wilson(self.merged, self.tasks)

    @property
    def mean_fix_rounds(self) -> float | None:
        return self.fix_rounds / self.fix_known if self.fix_known else None

    @property
    def cost_per_merged(self) -> float | None:
        """All the spend of the group per merged task (None: nothing merged)."""
        return self.cost_usd / self.merged if self.merged else None

    @property
    def time_per_merged(self) -> float | None:
        return self.merged_wall_s / self.merged_timed if self.merged_timed else None

    def to_dict(self) -> dict[str, Any]:
        """Counts, derived figures and intervals, for `stats --json`."""
        data = asdict(self)
        intervals = {
            "merge_rate": (self.merged, self.tasks),
            "first_try_green_rate": (self.green_first, self.green_known),
        }
        if self.reverted is not None:
            intervals["revert_rate"] = (self.reverted, self.landed)
        else:  # its repository is gone: what was reverted there cannot be known
            data["revert_rate"] = {"k": None, "n": self.landed, "rate": None, "wilson95": None}
        for name, (k, n) in intervals.items():
            data[name] = {"k": k, "n": n, "rate": k / n if n else None, "wilson95": wilson(k, n)}
        data["mean_fix_rounds"] = self.mean_fix_rounds
        data["cost_per_merged_usd"] = self.cost_per_merged
        data["time_per_merged_s"] = self.time_per_merged
        return data


def who(s: Score) -> str:
    """Worker and model in one cell: "claude · opus"; an LLM worker names its model already."""
    worker, model = s.worker or "?", s.model or "?"
    return worker if worker == f"llm:{model}" else f"{worker} · {model}"


def row_texts(s: Score, *, joined: bool = False) -> tuple[str, ...]:
    """The scoreboard's cells for one row: the CLI's table, or (`joined`: worker and model in
    one cell, under JOINED_HEADERS) the launcher's narrower tab."""
    cost = "–" if s.cost_per_merged is None else f"${s.cost_per_merged:.4f}"
    if s.cost_per_merged is not None and s.unpriced_calls:
        cost = "≥" + cost
    if s.cost_per_merged is not None and s.simulated:
        cost += " sim"
    fixes = "–" if s.mean_fix_rounds is None else f"{s.mean_fix_rounds:.2f}"
    time = "–" if s.time_per_merged is None else f"{s.time_per_merged:.1f}s"
    names = (who(s),) if joined else (s.worker or "?", s.model or "?")
    return (
        *names,
        s.role,
        str(s.tasks),
        rate_text(s.merged, s.tasks),
        rate_text(s.green_first, s.green_known),
        fixes,
        str(s.conflicts),
        cost,
        time,
        "?" if s.reverted is None else rate_text(s.reverted, s.landed),
    )


_FIGURES = (
    "role",
    "tasks",
    "merged",
    "green 1st try",
    "fixes",
    "conflicts",
    "$/merged",
    "t/merged",
    "reverted",
)
HEADERS = ("worker", "model", *_FIGURES)
JOINED_HEADERS = ("worker · model", *_FIGURES)
