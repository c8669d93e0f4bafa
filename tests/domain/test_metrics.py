"""Coordination metrics from hand-built runs: every number checked exactly."""

from __future__ import annotations

from typing import Any

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.metrics import RunMetrics, compute_metrics, format_metrics
from maestro_tui.engine.bus import EventBus


class Run:
    """A tiny script of a run: each method emits the events one step produces."""

    def __init__(self, *task_ids: str) -> None:
        self.bus = EventBus("r1")
        self.events: list[ev.Event] = []
        self.bus.subscribe(self.events.append)
        tasks = [{"id": t, "title": t, "prompt": "p"} for t in task_ids]
        self.bus.emit(ev.PlanProposed, plan={"goal": "g", "tasks": tasks})

    def emit(self, cls: type[ev.Event], **fields: Any) -> Run:
        self.bus.emit(cls, **fields)
        return self

    def calls(self, task: str | None, n: int, cost: float | None = 0.01, **tags: Any) -> Run:
        cls = ev.LLMUsage
        for _ in range(n):
            self.emit(cls, task=task, model="m", tokens_in=1, tokens_out=1, cost_usd=cost, **tags)
        return self

    def attempt(
        self,
        task: str,
        n: int,
        calls: int,
        ok: bool = True,
        counts: tuple[int | None, int | None] | None = (3, 0),
    ) -> Run:
        self.emit(ev.TaskStarted, task=task, attempt=n, worker="llm")
        self.calls(task, calls)
        if counts is not None:
            self.emit(
                ev.TestsRan,
                task=task,
                attempt=n,
                command="pytest",
                passed=ok,
                exit_code=0 if ok else 1,
                n_passed=counts[0],
                n_failed=counts[1],
            )
        if ok:
            return self.emit(ev.TaskFinished, task=task, attempt=n, commit="c" + task)
        return self.emit(ev.TaskFailed, task=task, attempt=n, reason="tests", retry_in_s=1.0)

    def merge(self, task: str) -> Run:
        self.emit(ev.MergeQueued, task=task, commit="c" + task)
        return self.emit(ev.Merged, task=task, commit="h" + task)


def test_single_agent_run_has_no_overhead() -> None:
    run = Run("a", "b").calls(None, 1).attempt("a", 1, 4).merge("a").attempt("b", 1, 2).merge("b")
    m = compute_metrics(run.events)
    assert (m.model_calls, m.planner_calls, m.baseline_calls) == (7, 1, 7.0)
    assert m.overhead_pct == 0.0 and m.overhead.meets_target is True
    assert m.success_rate == 1.0 and m.efficiency == 1.0
    assert (m.decisions, m.decisions_backed, m.test_signal_coverage) == (2, 2, 1.0)
    assert (m.merged, m.merge_success_rate) == (2, 1.0)
    assert m.cost_usd == pytest.approx(0.07)
    assert m.cost_per_merged_task == pytest.approx(0.035) and m.cost_complete


def test_retries_and_extra_planner_calls_are_overhead() -> None:
    # planner asked twice; task a fails once (3 calls), succeeds on attempt 2 (2 calls)
    run = Run("a").calls(None, 2).attempt("a", 1, 3, ok=False).attempt("a", 2, 2).merge("a")
    m = compute_metrics(run.events)
    assert m.model_calls == 7
    assert m.baseline_calls == 3.0  # 1 planner call + attempt 2's 2 calls
    assert m.overhead_pct == pytest.approx(400 * 1 / 3)  # (7 - 3) / 3
    assert m.efficiency == pytest.approx(1.0 / (1 + 4 / 3))


def test_task_that_never_succeeds_counts_its_first_attempt() -> None:
    run = Run("a", "b").attempt("a", 1, 2).merge("a")
    run.attempt("b", 1, 2, ok=False).attempt("b", 2, 4, ok=False)
    run.emit(ev.TaskFailed, task="b", attempt=2, reason="gave up")
    m = compute_metrics(run.events)
    assert m.baseline_calls == 4.0  # no planner call (plan from a file): a's 2 + b's first 2
    assert m.overhead_pct == 100.0 and m.overhead.meets_target is True
    assert (m.tasks_succeeded, m.tasks_total, m.success_rate) == (1, 2, 0.5)
    assert m.efficiency == 0.25 and m.efficiency_metric.meets_target is False


def test_losing_candidates_and_judge_calls_are_overhead() -> None:
    run = Run("a").calls(None, 1)
    run.emit(ev.TaskStarted, task="a", attempt=1, worker="llm")
    for candidate, n in ((0, 2), (1, 3), (2, 4)):
        run.calls("a", n, candidate=candidate)
        run.emit(
            ev.CandidateFinished,
            task="a",
            candidate=candidate,
            commit="c",
            tests_passed=True,
            n_passed=5,
            n_failed=0,
        )
    run.calls("a", 1, purpose="judge")
    run.emit(
        ev.CandidateSelected, method="tests_first", task="a", candidate=1, backed_by_tests=True
    )
    run.emit(ev.TaskFinished, task="a", attempt=1, commit="ca").merge("a")
    m = compute_metrics(run.events)
    assert m.model_calls == 11 and m.review_calls == 1
    assert m.baseline_calls == 4.0  # planner + the selected candidate's 3 calls
    assert m.overhead_pct == 175.0
    assert (m.decisions, m.decisions_backed) == (2, 2)  # the selection and the merge


def test_untagged_candidate_calls_are_shared_evenly() -> None:
    run = Run("a").emit(ev.TaskStarted, task="a", attempt=1, worker="llm").calls("a", 9)
    for candidate in range(3):
        run.emit(
            ev.CandidateFinished,
            task="a",
            candidate=candidate,
            commit="c",
            tests_passed=True,
            n_passed=1,
            n_failed=0,
        )
    run.emit(ev.CandidateSelected, method="tests_first", task="a", candidate=2)
    run.emit(ev.TaskFinished, task="a", attempt=1, commit="ca").merge("a")
    m = compute_metrics(run.events)
    assert m.baseline_calls == 3.0 and m.overhead_pct == 200.0


def test_critic_calls_after_the_attempt_are_overhead() -> None:
    run = Run("a").attempt("a", 1, 2).calls("a", 2)  # a critic reading the diff
    run.emit(ev.CriticVerdict, task="a", attempt=1, approved=True).merge("a")
    m = compute_metrics(run.events)
    assert (m.baseline_calls, m.review_calls, m.overhead_pct) == (2.0, 2, 100.0)


def test_overhead_target_and_no_calls() -> None:
    run = Run("a").attempt("a", 1, 1, ok=False).attempt("a", 2, 1, ok=False)
    run.attempt("a", 3, 1, ok=False).attempt("a", 4, 1, ok=False).attempt("a", 5, 1)
    m = compute_metrics(run.events)
    assert m.overhead_pct == 400.0 and m.overhead.meets_target is False
    silent = compute_metrics(Run("a").attempt("a", 1, 0).merge("a").events)
    assert silent.overhead_pct is None and silent.efficiency is None
    assert silent.overhead.meets_target is None


def test_test_signal_coverage_needs_counts_before_the_decision() -> None:
    run = Run("a", "b", "c", "d", "e")
    run.attempt("a", 1, 1).merge("a")  # backed
    run.attempt("b", 1, 1, counts=(None, None)).merge("b")  # tests ran, no counts
    run.attempt("c", 1, 1, counts=None).merge("c")  # no tests at all
    run.attempt("d", 1, 1).emit(ev.MergeRejected, task="d", reason="no")  # backed rejection
    run.emit(ev.TaskStarted, task="e", attempt=1, worker="llm")
    run.emit(
        ev.CandidateSelected, method="tests_first", task="e", candidate=0, backed_by_tests=False
    )
    m = compute_metrics(run.events)
    assert (m.decisions, m.decisions_backed) == (5, 2)
    assert m.test_signal_coverage == 0.4 and m.coverage.meets_target is False


def test_tests_of_an_earlier_attempt_do_not_back_a_later_merge() -> None:
    run = Run("a").attempt("a", 1, 1, ok=False).attempt("a", 2, 1, counts=None).merge("a")
    assert compute_metrics(run.events).test_signal_coverage == 0.0


def test_selection_without_stated_backing_uses_candidate_results() -> None:
    run = Run("a").emit(ev.TaskStarted, task="a", attempt=1, worker="llm")
    run.emit(
        ev.CandidateFinished,
        task="a",
        candidate=0,
        commit="c",
        tests_passed=True,
        n_passed=2,
        n_failed=1,
    )
    run.emit(ev.CandidateSelected, task="a", candidate=0, method="tests_first")
    assert compute_metrics(run.events).decisions_backed == 1


def test_merge_success_counts_final_outcomes() -> None:
    run = Run("a", "b", "c", "d", "e")
    for t in "abcde":
        run.attempt(t, 1, 1)
    run.merge("a").merge("b")
    run.emit(ev.MergeConflict, task="c", files=("x.py",))  # conflicted, never merged
    run.emit(ev.MergeConflict, task="d", files=("x.py",))
    run.emit(ev.MergeApproved, task="d").emit(ev.Merged, task="d", commit="h", auto=False)
    run.emit(ev.MergeRejected, task="e", reason="withdrawn: retrying on the current branch")
    run.emit(ev.MergeRejected, task="e", reason="too big")
    m = compute_metrics(run.events)
    assert (m.merged, m.rejected, m.conflicted) == (3, 1, 1)
    assert m.merge_success_rate == 0.6 and m.merge_success.meets_target is False
    assert m.decisions == 4  # three merges and one rejection; the withdrawal is no decision


def test_cost_per_merged_task_unknown_prices() -> None:
    unpriced = Run("a").calls("a", 0).attempt("a", 1, 0).calls(None, 2, cost=None).merge("a")
    m = compute_metrics(unpriced.events)
    assert m.cost_usd is None and m.cost_per_merged_task is None
    partial = Run("a").calls(None, 1, cost=None).calls(None, 2, cost=0.5)
    partial.attempt("a", 1, 0).merge("a")
    m = compute_metrics(partial.events, cost_target_usd=2.0)
    assert m.cost_per_merged_task == 1.0 and not m.cost_complete
    assert m.cost_per_merged.meets_target is True
    nothing_merged = compute_metrics(Run("a").calls(None, 1).events)
    assert nothing_merged.cost_usd == 0.01 and nothing_merged.cost_per_merged_task is None


def test_format_metrics_lines() -> None:
    run = Run("a").calls(None, 1).attempt("a", 1, 3, ok=False).attempt("a", 2, 1).merge("a")
    lines = format_metrics(compute_metrics(run.events))
    assert len(lines) == 5
    assert lines[0].startswith("coordination overhead")
    assert "150 %" in lines[0] and "(target < 300 %)" in lines[0] and " ok " in lines[0]
    assert "0.40" in lines[1] and "MISS" in lines[1]  # 1 / 2.5 = 0.4 is not > 0.4
    assert "100 %" in lines[2] and "1 of 1 decisions" in lines[2]
    assert "$0.0500" in lines[4]
    empty = format_metrics(compute_metrics([]))
    assert all("n/a" in line for line in empty)


def running_run() -> Run:
    """Task a has started and made calls; nothing has finished yet."""
    run = Run("a", "b").calls(None, 1)
    return run.emit(ev.TaskStarted, task="a", attempt=1, worker="llm").calls("a", 2)


def test_success_and_efficiency_are_not_a_miss_before_a_task_finishes() -> None:
    m = compute_metrics(running_run().events)
    assert m.overhead_pct == 0.0  # the calls so far are what one agent would make
    assert (m.success_rate, m.efficiency, m.efficiency_metric.meets_target) == (None, None, None)
    assert "n/a" in format_metrics(m)[1] and "MISS" not in "".join(format_metrics(m))

    failed = running_run().emit(ev.TaskFailed, task="a", attempt=1, reason="gave up")
    m = compute_metrics(failed.events)
    assert (m.success_rate, m.efficiency) == (0.0, 0.0)  # one finished, badly: now a miss
    assert "MISS" in format_metrics(m)[1]


def test_the_event_types_a_store_may_skip_are_read_by_neither_metrics_nor_reducer() -> None:
    from maestro_tui.domain.metrics import NOT_READ, _Tally
    from maestro_tui.domain.state import _HANDLERS

    assert not set(NOT_READ) & (set(_HANDLERS) | set(_Tally()._handlers))


def test_a_task_that_changed_none_of_its_files_did_not_succeed() -> None:
    """The first run that planned the demo on another repository: every task "done, no
    changes" (or a commit beside the point) read 13/13 succeeded, efficiency 1.00."""
    bus = EventBus("r1")
    events: list[ev.Event] = []
    bus.subscribe(events.append)
    tasks = [
        {"id": "nothing", "prompt": "p", "files": ["shop/pricing.py"]},  # no commit at all
        {"id": "elsewhere", "prompt": "p", "files": ["shop/cart.py"]},  # a commit, not there
        {"id": "folder", "prompt": "p", "files": ["docs"]},  # a file under the folder it named
        {"id": "review", "prompt": "p", "files": ["shop/cart.py"], "role": "reviewer"},
    ]
    bus.emit(ev.PlanProposed, plan={"goal": "g", "tasks": tasks})
    changed = {"elsewhere": ("notes.txt",), "folder": ("docs/usage.md",)}
    for task in ("nothing", "elsewhere", "folder", "review"):
        bus.emit(ev.TaskStarted, task=task, attempt=1, worker="llm")
        bus.emit(ev.LLMUsage, task=task, model="m", tokens_in=1, tokens_out=1, cost_usd=0.0)
        commit = "c" + task if task in changed else None
        if commit:
            bus.emit(ev.TaskCommitted, task=task, attempt=1, commit=commit, files=changed[task])
        bus.emit(ev.TaskFinished, task=task, attempt=1, commit=commit)
        if commit:
            bus.emit(ev.MergeQueued, task=task, commit=commit)
            bus.emit(ev.Merged, task=task, commit="h" + task)
    m = compute_metrics(events)
    assert (m.tasks_succeeded, m.tasks_unchanged, m.tasks_total) == (2, 2, 4)
    assert m.success_rate == 0.5 and m.efficiency == 0.5
    assert "2/4 tasks succeeded (2 changed none of their files)" in format_metrics(m)[1]
    assert RunMetrics.from_dict(m.to_dict()) == m
