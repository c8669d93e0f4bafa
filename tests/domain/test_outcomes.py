"""Task outcomes from hand-built runs: each figure of compare and stats checked exactly."""

from __future__ import annotations

from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.comparison import compare_runs
from maestro_tui.domain.outcomes import TaskOutcome, task_outcomes
from maestro_tui.engine.bus import EventBus

TICK = iter(range(10**6))


class Run:
    """A run emitted event by event on a clock that moves one second per event."""

    def __init__(self, run_id: str, tasks: list[dict[str, Any]]) -> None:
        ticks = iter(range(10**6))
        self.bus = EventBus(run_id, clock=lambda: float(next(ticks)))
        self.events: list[ev.Event] = []
        self.bus.subscribe(self.events.append)
        self.emit(ev.PlanProposed, plan={"goal": "g", "tasks": tasks})

    def emit(self, cls: type[ev.Event], **fields: Any) -> Run:
        self.bus.emit(cls, **fields)
        return self

    def usage(self, task: str, cost: float | None, **tags: Any) -> Run:
        return self.emit(
            ev.LLMUsage, task=task, model=tags.pop("model", "m1"), tokens_in=100,
            tokens_out=10, cost_usd=cost, **tags,
        )  # fmt: skip

    def tests(self, task: str, attempt: int, passed: bool) -> Run:
        return self.emit(
            ev.TestsRan, task=task, attempt=attempt, command="t", passed=passed,
            exit_code=0 if passed else 1, n_passed=3, n_failed=0 if passed else 1,
        )  # fmt: skip

    def outcomes(self) -> dict[tuple[str, int], TaskOutcome]:
        return {(o.task_id, o.candidate): o for o in task_outcomes(self.events)}


def task(task_id: str, **more: Any) -> dict[str, Any]:
    return {"id": task_id, "title": task_id, "prompt": "p", **more}


def test_a_task_red_first_fixed_then_merged_after_a_conflict_and_an_approval() -> None:
    run = Run("r", [task("api", files=["a.py"]), task("docs", role="doc_writer")])
    run.emit(ev.RunConfigured, settings="{}", workers={"api": "claude", "docs": "claude"})
    run.emit(ev.TaskStarted, task="api", attempt=1, worker="claude")  # ts 2
    run.usage("api", 0.01).tests("api", 1, False)
    run.emit(ev.TaskFixing, task="api", attempt=1, round=1, reason="1 failed")
    run.usage("api", None).tests("api", 1, True)
    run.emit(ev.TaskCommitted, task="api", attempt=1, commit="c1", files=("a.py", "b.py"),
             insertions=7, deletions=2)  # fmt: skip
    run.emit(ev.TaskFinished, task="api", attempt=1, commit="c1")
    run.emit(ev.MergeQueued, task="api", commit="c1")
    run.emit(ev.MergeConflict, task="api", files=("a.py",))
    run.emit(ev.MergeWaiting, task="api", reasons=("conflict",))
    run.emit(ev.SteerSent, task="api", text="hi")
    run.emit(ev.MergeApproved, task="api", resolution="ours")
    run.emit(ev.MergeTested, tasks=("api",), commit="m", tree="t", passed=True, n_passed=4,
             n_failed=0)  # fmt: skip
    run.emit(ev.Merged, task="api", commit="m1", auto=False)  # ts 16
    o = run.outcomes()[("api", 0)]
    assert (o.status, o.merged, o.started, o.worker, o.model) == (
        "merged", True, True, "claude", "m1",
    )  # fmt: skip
    assert (o.first_try_green, o.fix_rounds, o.conflicts, o.interventions) == (False, 1, 1, 2)
    assert (o.files, o.lines, o.commit) == (2, 9, "c1")
    assert (o.tokens_in, o.tokens_out, o.unpriced_calls) == (200, 20, 1)
    assert o.cost_usd == 0.01
    assert (o.gate, o.gate_n_passed, o.gate_n_failed) == ("passed", 4, 0)
    assert o.wall_s == 16 - 2 and o.run_id == "r"
    docs = run.outcomes()[("docs", 0)]
    assert (docs.started, docs.merged, docs.worker, docs.status) == (
        False,
        False,
        "claude",
        "pending",
    )


def test_done_counts_as_merged_only_for_a_task_with_nothing_to_change() -> None:
    run = Run("r", [task("review", role="reviewer", files=["a.py"]), task("code", files=["b.py"])])
    for t in ("review", "code"):
        run.emit(ev.TaskStarted, task=t, attempt=1, worker="w")
        run.emit(ev.TaskFinished, task=t, attempt=1)
    found = run.outcomes()
    assert found[("review", 0)].merged and not found[("code", 0)].merged


def test_ensemble_candidates_count_for_their_own_model() -> None:
    run = Run("r", [task("api", candidates=3, models=["gpt-a", "gpt-b"])])
    run.emit(ev.RunConfigured, settings="{}", workers={"api": "codex"})
    run.emit(ev.TaskStarted, task="api", attempt=1, worker="ensemble of 3")  # ts 2
    run.usage("api", 0.02, model="gpt-a", attempt=1, candidate=1)
    run.usage("api", 0.03, model="gpt-b", attempt=1, candidate=2)
    run.usage("api", 0.05, model="codex-model", attempt=1, candidate=3)
    run.tests("api", 1, True).tests("api", 1, False).tests("api", 1, True)
    run.emit(ev.CandidateFinished, task="api", candidate=1, commit="k1", tests_passed=True,
             lines_changed=5, model="gpt-a")  # ts 9  # fmt: skip
    run.emit(ev.CandidateFinished, task="api", candidate=2, commit="k2", tests_passed=False,
             lines_changed=9, model="gpt-b")  # fmt: skip
    run.emit(ev.CandidateFinished, task="api", candidate=3, commit="k3", tests_passed=True,
             lines_changed=3, model="codex-model")  # fmt: skip
    run.emit(ev.CandidateSelected, task="api", candidate=3, method="tests_first")
    run.usage("api", 0.01, model="gpt-a", attempt=0, purpose="judge")
    run.emit(ev.TaskFinished, task="api", attempt=1, commit="k3")
    run.emit(ev.Merged, task="api", commit="m")
    found = run.outcomes()
    c1, c2, c3 = found[("api", 1)], found[("api", 2)], found[("api", 3)]
    assert [(c.worker, c.model) for c in (c1, c2, c3)] == [
        ("llm:gpt-a", "gpt-a"), ("llm:gpt-b", "gpt-b"), ("codex", "codex-model"),
    ]  # fmt: skip
    assert [c.merged for c in (c1, c2, c3)] == [False, False, True]
    assert [c.first_try_green for c in (c1, c2, c3)] == [True, False, True]
    assert [c.cost_usd for c in (c1, c2, c3)] == [0.02, 0.03, 0.05]
    assert [c.lines for c in (c1, c2, c3)] == [5, 9, 3]
    assert c1.wall_s == 9 - 2
    whole = found[("api", 0)]
    assert whole.cost_usd == 0.02 + 0.03 + 0.05 + 0.01  # the task: every call, the judge's too


def test_an_ensemble_with_a_fix_round_leaves_its_candidates_first_try_unknown() -> None:
    run = Run("r", [task("api", candidates=2)])
    run.emit(ev.TaskStarted, task="api", attempt=1, worker="ensemble of 2")
    run.tests("api", 1, False)
    run.emit(ev.TaskFixing, task="api", attempt=1, round=1, reason="red")
    for i in (1, 2):
        run.emit(ev.CandidateFinished, task="api", candidate=i, commit=f"k{i}", tests_passed=True)
    found = run.outcomes()
    assert found[("api", 1)].first_try_green is None and found[("api", 1)].fix_rounds is None


def test_a_task_taken_over_is_merged_unpaid_and_not_started() -> None:
    run = Run("r2", [task("api"), task("docs")])
    run.emit(ev.RerunOf, source="r1", from_tasks=("docs",), rerun=("docs",), taken_over=("api",))
    run.emit(ev.TaskTakenOver, task="api", source="r1", source_commit="c1", commit="t1")
    o = run.outcomes()[("api", 0)]
    assert (o.merged, o.started, o.taken_over, o.commit, o.cost_usd) == (True, False, "r1", "c1", 0)


def test_compare_lines_up_tasks_and_totals_and_pairs_only_results_both_made() -> None:
    def outcome(run: str, t: str, **more: Any) -> TaskOutcome:
        return TaskOutcome(run_id=run, task_id=t, started=True, **more)

    first = [outcome("a", "api", merged=True, commit="c1", cost_usd=0.5, lines=4, fix_rounds=2),
             outcome("a", "docs", merged=True, commit="d1", cost_usd=0.25)]  # fmt: skip
    second = [outcome("b", "api", merged=True, commit="c2", cost_usd=0.125, lines=6),
              outcome("b", "docs", merged=True, commit="d1", taken_over="a"),
              outcome("b", "new", merged=False)]  # fmt: skip
    c = compare_runs({"a": first, "b": second}, {"a": 10.0, "b": 4.0})
    assert [r.task_id for r in c.rows] == ["api", "docs", "new"]
    assert c.rows[2].outcomes[0] is None
    assert c.pairs() == [("api", 0, 1)]  # docs was taken over: the same result
    a, b = c.totals
    assert (a.merged, a.cost_usd, a.lines, a.fix_rounds, a.wall_s) == (2, 0.75, 4, 2, 10.0)
    assert (b.merged, b.taken_over, b.ran, b.cost_usd, b.lines) == (2, 1, 2, 0.125, 6)
