"""Coordination metrics of a run, computed from its events: what verification and ensembles cost.

Pure: no I/O. Every number is defined here, once, so the headless summary, the `runs` listing
and the TUI show the same thing.

**Single-agent baseline** (the model calls one agent alone would have made): one planner call
(if the run was planned by a model at all), plus, for each task, the calls of its *first
successful attempt* — and of that attempt only the *selected candidate* (or, when calls are
not tagged with a candidate, the attempt's calls divided by its number of candidates). A task
that never succeeded counts its first attempt: a single agent would have tried once too.

**Coordination overhead** ``O% = (calls - baseline) / baseline × 100``: extra planner calls,
failed attempts and retries, losing candidates, critic and judge calls (``LLMUsage.purpose``;
in runs recorded before calls carried it, any call made while no attempt of its task ran).
Target < 300 %.

**Efficiency** ``Ec = success rate / (1 + O%/100)``: the share of tasks that succeeded per
unit of relative model work, i.e. success divided by calls-relative-to-a-single-agent. The idea
and both definitions follow Kim et al., "Towards a Science of Scaling Agent Systems"
(arXiv:2512.08296, 2025), which measures overhead against a single-agent system and defines
efficiency as success normalised by relative cost; we count model calls where they count
reasoning turns. Target > 0.4. Until a task has finished (merged, done, failed, blocked,
rejected or cancelled) the success rate, and so Ec, are n/a: 0 of N is not a miss yet. A task
that changed none of the files it was to change (``TaskView.missed_its_files``) did not succeed.

**Test-signal coverage**: the share of decisions — each ``Merged``, each ``MergeRejected``
(withdrawals for a retry excluded) and each ``CandidateSelected`` — that had test results with
counts (``TestsRan``, or a ``CandidateFinished`` with ``tests_passed`` set, with ``n_passed``
or ``n_failed``) for the task's current attempt before the decision, or a verdict of the merge
gate on a tree holding the task's result (``MergeTested``, not cancelled: the gate's verdict is
what let it land or kept it out). A ``CandidateSelected`` carrying ``backed_by_tests`` is taken
at its word. Target > 80 %.

**Merge success rate** ``merged / (merged + rejected + conflicted-and-not-merged)``, counted
per task by its final outcome. Target ≥ 80 % (our choice: below it, most results need a human).

**Cost per merged task**: priced model spend / merged tasks; None when no call had a known
price. When some calls were unpriced it is a lower bound (``cost_complete`` is False). It has no
target unless the caller gives one.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.events import Event
from maestro_tui.domain.state import RunState, fold

# Stored metrics computed by another version of these definitions are computed again.
METRICS_VERSION = 3
# Event types neither compute_metrics nor the reducer it folds with reads (most of a run's
# events): a store may leave them out when it loads a run to compute its metrics.
NOT_READ: tuple[type[Event], ...] = (ev.AgentOutput, ev.ToolCalled, ev.FileChanged)
OVERHEAD_TARGET_PCT = 300.0
EFFICIENCY_TARGET = 0.4
COVERAGE_TARGET = 0.8
MERGE_SUCCESS_TARGET = 0.8
_REVIEW_PURPOSES = frozenset({"critic", "judge"})
_WITHDRAWN = "withdrawn"  # MergeQueue.withdraw's reason: a retry, not a decision on the result


@dataclass(frozen=True)
class Metric:
    """One number with its target; `meets_target` is None when it cannot be measured."""

    name: str
    value: float | None
    target: str  # e.g. "< 300 %"; "" when there is none
    meets_target: bool | None
    detail: str = ""
    unit: str = "fraction"  # how `value` reads: fraction (0..1), percent, number or usd


@dataclass(frozen=True)
class RunMetrics:
    """The coordination metrics of one run, and the counts they come from."""

    model_calls: int
    planner_calls: int
    review_calls: int  # critic, judge and other calls outside any attempt
    baseline_calls: float
    overhead_pct: float | None
    tasks_total: int
    tasks_succeeded: int
    success_rate: float | None
    efficiency: float | None
    decisions: int
    decisions_backed: int
    test_signal_coverage: float | None
    merged: int
    rejected: int
    conflicted: int
    merge_success_rate: float | None
    cost_usd: float | None
    cost_complete: bool
    cost_simulated: bool
    cost_per_merged_task: float | None
    cost_target_usd: float | None = None
    tasks_unchanged: int = 0  # finished, but changed none of the files they were to change

    @property
    def overhead(self) -> Metric:
        return Metric(
            "coordination overhead",
            self.overhead_pct,
            f"< {OVERHEAD_TARGET_PCT:g} %",
            _check(self.overhead_pct, lambda v: v < OVERHEAD_TARGET_PCT),
            f"{self.model_calls} model calls, {_num(self.baseline_calls)} by a single agent",
            unit="percent",
        )

    @property
    def efficiency_metric(self) -> Metric:
        done = f"{self.tasks_succeeded}/{self.tasks_total} tasks succeeded"
        if self.tasks_unchanged:
            done += f" ({self.tasks_unchanged} changed none of their files)"
        return Metric(
            "efficiency Ec",
            self.efficiency,
            f"> {EFFICIENCY_TARGET:g}",
            _check(self.efficiency, lambda v: v > EFFICIENCY_TARGET),
            done + ", / (1 + O%/100)",
            unit="number",
        )

    @property
    def coverage(self) -> Metric:
        return Metric(
            "test-signal coverage",
            self.test_signal_coverage,
            f"> {COVERAGE_TARGET * 100:g} %",
            _check(self.test_signal_coverage, lambda v: v > COVERAGE_TARGET),
            f"{self.decisions_backed} of {self.decisions} decisions backed by test counts",
        )

    @property
    def merge_success(self) -> Metric:
        return Metric(
            "merge success",
            self.merge_success_rate,
            f">= {MERGE_SUCCESS_TARGET * 100:g} %",
            _check(self.merge_success_rate, lambda v: v >= MERGE_SUCCESS_TARGET),
            f"{self.merged} merged, {self.rejected} rejected, {self.conflicted} conflicted",
        )

    @property
    def cost_per_merged(self) -> Metric:
        limit = self.cost_target_usd
        return Metric(
            "cost per merged task",
            self.cost_per_merged_task,
            f"<= ${limit:g}" if limit is not None else "",
            None if limit is None else _check(self.cost_per_merged_task, lambda v: v <= limit),
            "some calls unpriced: a lower bound" if not self.cost_complete else "",
            unit="usd",
        )

    def metrics(self) -> tuple[Metric, ...]:
        """Every metric, in the order the summary shows them."""
        return (
            self.overhead,
            self.efficiency_metric,
            self.coverage,
            self.merge_success,
            self.cost_per_merged,
        )

    def to_dict(self) -> dict[str, Any]:
        """The counts and numbers as plain JSON-able values (RunMetrics.from_dict reads them)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunMetrics:
        """Inverse of to_dict; other fields (another version's) are a TypeError."""
        return cls(**data)


def _check(value: float | None, ok: Callable[[float], bool]) -> bool | None:
    return None if value is None else ok(value)


def _num(value: float) -> str:
    return f"{value:g}" if value == int(value) else f"{value:.1f}"


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


def _has_counts(e: ev.TestsRan | ev.CandidateFinished) -> bool:
    return e.n_passed is not None or e.n_failed is not None


class _Tally:
    """One pass over the events: calls per attempt and candidate, test evidence, decisions."""

    def __init__(self) -> None:
        self.calls = 0
        self.planner_calls = 0
        self.review_calls = 0
        self.work: dict[tuple[str, int], dict[int | None, int]] = defaultdict(dict)
        self.attempts: dict[str, list[int]] = defaultdict(list)  # started, in order
        self.succeeded: dict[str, list[int]] = defaultdict(list)
        self.open: dict[str, int] = {}  # task -> attempt running now
        self.current: dict[str, int] = {}  # task -> latest attempt started
        self.candidates: dict[tuple[str, int], set[int]] = defaultdict(set)
        self.selected: dict[tuple[str, int], int] = {}
        self.evidence: set[tuple[str, int]] = set()  # (task, attempt) with test counts
        self.decisions = 0
        self.backed = 0
        self.outcome: dict[str, str] = {}  # task -> merged | rejected | conflicted
        self.cost = 0.0
        self.priced = 0
        self.unpriced = 0
        self.simulated = False
        self._handlers: dict[type[Event], Callable[[Any], None]] = {
            ev.TaskStarted: self._started,
            ev.TaskFinished: self._finished,
            ev.TaskFailed: self._stopped,
            ev.TaskCancelled: self._stopped,
            ev.LLMUsage: self._usage,
            ev.TestsRan: self._tests,
            ev.MergeTested: self._gate_tested,
            ev.CandidateFinished: self._candidate_finished,
            ev.CandidateSelected: self._candidate_selected,
            ev.Merged: self._merged,
            ev.MergeRejected: self._rejected,
            ev.MergeConflict: self._conflict,
        }

    def feed(self, e: Event) -> None:
        handler = self._handlers.get(type(e))
        if handler is not None:
            handler(e)

    def _started(self, e: ev.TaskStarted) -> None:
        self.open[e.task] = self.current[e.task] = e.attempt
        if e.attempt not in self.attempts[e.task]:
            self.attempts[e.task].append(e.attempt)

    def _finished(self, e: ev.TaskFinished) -> None:
        self.succeeded[e.task].append(e.attempt)
        self.open.pop(e.task, None)

    def _stopped(self, e: ev.TaskFailed | ev.TaskCancelled) -> None:
        self.open.pop(e.task, None)

    def _usage(self, e: ev.LLMUsage) -> None:
        self.calls += 1
        if e.cost_usd is None:
            self.unpriced += 1
        else:
            self.priced += 1
            self.cost += e.cost_usd
        self.simulated = self.simulated or e.simulated
        if e.task is None:
            self.planner_calls += 1
            return
        # Runs recorded before calls carried their attempt: the one running at the time.
        attempt = e.attempt or self.open.get(e.task)
        if e.purpose in _REVIEW_PURPOSES or attempt is None:
            self.review_calls += 1
            return
        per_candidate = self.work[(e.task, attempt)]
        per_candidate[e.candidate] = per_candidate.get(e.candidate, 0) + 1
        if e.candidate is not None:
            self.candidates[(e.task, attempt)].add(e.candidate)

    def _tests(self, e: ev.TestsRan) -> None:
        if _has_counts(e):
            self.evidence.add((e.task, e.attempt))

    def _gate_tested(self, e: ev.MergeTested) -> None:
        if not e.cancelled:
            for task in e.tasks:
                self.evidence.add((task, self.current.get(task, 1)))

    def _candidate_finished(self, e: ev.CandidateFinished) -> None:
        attempt = self.current.get(e.task, 1)
        self.candidates[(e.task, attempt)].add(e.candidate)
        if e.tests_passed is not None and _has_counts(e):
            self.evidence.add((e.task, attempt))

    def _backed_now(self, task: str) -> bool:
        return (task, self.current.get(task, 1)) in self.evidence

    def _candidate_selected(self, e: ev.CandidateSelected) -> None:
        self.selected[(e.task, self.current.get(e.task, 1))] = e.candidate
        self._decide(e.backed_by_tests or self._backed_now(e.task))

    def _decide(self, backed: bool) -> None:
        self.decisions += 1
        self.backed += int(backed)

    def _merged(self, e: ev.Merged) -> None:
        self.outcome[e.task] = "merged"
        self._decide(self._backed_now(e.task))

    def _rejected(self, e: ev.MergeRejected) -> None:
        if e.reason.startswith(_WITHDRAWN):
            return
        self.outcome[e.task] = "rejected"
        self._decide(self._backed_now(e.task))

    def _conflict(self, e: ev.MergeConflict) -> None:
        if self.outcome.get(e.task) != "merged":
            self.outcome[e.task] = "conflicted"

    def task_baseline(self, task: str) -> float:
        """Calls of the task's first successful attempt's single candidate (see module doc)."""
        chosen = self.succeeded.get(task) or self.attempts.get(task)
        if not chosen:
            return 0.0
        key = (task, chosen[0])
        per_candidate = self.work.get(key, {})
        pick = self.selected.get(key)
        if pick is not None and pick in per_candidate:
            return float(per_candidate[pick])
        n = max(1, len(self.candidates.get(key, ())))
        return sum(per_candidate.values()) / n


def compute_metrics(
    events: Sequence[Event] | Iterable[Event],
    state: RunState | None = None,
    *,
    cost_target_usd: float | None = None,
) -> RunMetrics:
    """The coordination metrics of the run these events describe (`state`: their replay)."""
    events = list(events)
    tally = _Tally()
    for event in events:
        tally.feed(event)
    state = state if state is not None else fold(events)
    tasks_total = len(state.tasks)
    unchanged = sum(1 for t in state.tasks.values() if t.missed_its_files)
    succeeded = sum(1 for t in state.tasks.values() if t.status.satisfied) - unchanged
    # Until a task has finished one way or the other there is no success rate to speak of
    # (0 of N is not a miss yet): it and Ec read n/a.
    finished = any(t.status.settled for t in state.tasks.values())
    baseline = min(1, tally.planner_calls) + sum(
        tally.task_baseline(t) for t in set(tally.attempts) | set(state.tasks)
    )
    overhead = (tally.calls - baseline) / baseline * 100 if baseline else None
    success = _ratio(succeeded, tasks_total) if finished else None
    efficiency = None if success is None or overhead is None else success / (1 + overhead / 100)
    outcomes = list(tally.outcome.values())
    merged = outcomes.count("merged")
    rejected, conflicted = outcomes.count("rejected"), outcomes.count("conflicted")
    cost = tally.cost if tally.priced else None
    return RunMetrics(
        model_calls=tally.calls,
        planner_calls=tally.planner_calls,
        review_calls=tally.review_calls,
        baseline_calls=baseline,
        overhead_pct=overhead,
        tasks_total=tasks_total,
        tasks_succeeded=succeeded,
        success_rate=success,
        efficiency=efficiency,
        decisions=tally.decisions,
        decisions_backed=tally.backed,
        test_signal_coverage=_ratio(tally.backed, tally.decisions),
        merged=merged,
        rejected=rejected,
        conflicted=conflicted,
        merge_success_rate=_ratio(merged, merged + rejected + conflicted),
        cost_usd=cost,
        cost_complete=tally.unpriced == 0,
        cost_simulated=tally.simulated,
        cost_per_merged_task=cost / merged if cost is not None and merged else None,
        cost_target_usd=cost_target_usd,
        tasks_unchanged=unchanged,
    )


def _value(m: Metric, simulated: bool) -> str:
    if m.value is None:
        return "n/a"
    if m.unit == "usd":
        return f"${m.value:.4f}" + (" (simulated)" if simulated else "")
    if m.unit == "number":
        return f"{m.value:.2f}"
    return f"{m.value * (1 if m.unit == 'percent' else 100):.0f} %"


def format_metrics(m: RunMetrics) -> list[str]:
    """One line per metric for the headless summary: value, target, ok/MISS, and its counts."""
    lines = []
    for metric in m.metrics():
        verdict = {True: "ok", False: "MISS", None: "-"}[metric.meets_target]
        target = f"(target {metric.target})" if metric.target else ""
        value = _value(metric, m.cost_simulated)
        if metric.unit == "usd" and not m.cost_complete and metric.value is not None:
            value = ">= " + value
        line = f"{metric.name:<22} {value:>10} {target:<18} {verdict:<4}"
        lines.append((line + "  " + metric.detail if metric.detail else line).rstrip())
    return lines
