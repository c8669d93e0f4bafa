"""Choosing among an ensemble's candidates: tests first, then the smaller diff, then a judge."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class CandidateResult:
    """One candidate's outcome, as selection sees it."""

    index: int  # 1-based
    commit: str | None  # None: failed or changed nothing
    tree: str | None = None  # the result's tree: equal trees are the same answer (for vote)
    tests_passed: bool | None = None  # None: no test command
    n_passed: int | None = None
    lines_changed: int = 0


@dataclass(frozen=True)
class Selection:
    index: int | None  # None: no candidate produced anything
    reason: str
    backed_by_tests: bool
    tied: tuple[int, ...] = ()  # candidates still level after tests and size (for a judge)
    method: str = "tests_first"  # how the pick was made in the end


def select_tests_first(results: Sequence[CandidateResult]) -> Selection:
    """Passing tests win (more passing tests first); ties go to the smaller diff."""
    usable = [r for r in results if r.commit]
    if not usable:
        return Selection(None, "no candidate produced a result", False)
    have_tests = any(r.tests_passed is not None for r in usable)

    def rank(r: CandidateResult) -> tuple[int, int, int]:
        return (0 if r.tests_passed else 1, -(r.n_passed or 0), r.lines_changed)

    ordered = sorted(usable, key=lambda r: (rank(r), r.index))
    best = ordered[0]
    tied = tuple(r.index for r in ordered if rank(r) == rank(best))
    if have_tests:
        green = sum(1 for r in usable if r.tests_passed)
        why = f"{green} of {len(results)} candidates pass the tests"
        why += "; the smallest passing diff wins" if best.tests_passed else "; none pass"
    else:
        why = "no tests to decide: the smallest diff wins"
    return Selection(best.index, why, have_tests and bool(best.tests_passed), tied)


def select_by_vote(results: Sequence[CandidateResult]) -> Selection:
    """The answer most candidates reached independently (equal trees), tests as tie-break."""
    usable = [r for r in results if r.commit and r.tree]
    if not usable:
        return Selection(None, "no candidate produced a result", False)
    votes = Counter(r.tree for r in usable)
    top = max(votes.values())
    winners = [r for r in usable if votes[r.tree] == top]
    chosen = select_tests_first(winners)
    reason = f"{top} of {len(results)} candidates reached the same result"
    if len(winners) > top:
        reason += f"; {chosen.reason}"
    return Selection(chosen.index, reason, chosen.backed_by_tests, chosen.tied, "vote")


def select(results: Sequence[CandidateResult], method: str) -> tuple[Selection, tuple[int, ...]]:
    """The pick by `method` (tests_first | llm_judge | vote), and the candidates a judge should
    still choose among: those level after tests and size, or every usable one for llm_judge
    (empty: the pick stands)."""
    if method == "vote":
        return select_by_vote(results), ()
    chosen = select_tests_first(results)
    if method == "tests_first":
        pool = chosen.tied
    else:
        pool = tuple(r.index for r in results if r.commit)
    return chosen, pool if len(pool) >= 2 else ()


def judged(chosen: Selection, pick: int, why: str, pool: Sequence[int], method: str) -> Selection:
    """The selection once a judge picked among `pool`."""
    reason = f"{chosen.reason}; the judge picked {pick}: {why}" if chosen.tied else why
    how = "llm_judge" if method == "llm_judge" else "tests_first+judge"
    return replace(chosen, index=pick, reason=reason, tied=tuple(pool), method=how)
