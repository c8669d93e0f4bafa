"""Task outcomes are stored when a run finishes and kept current; the scoreboard is one
aggregate over them, equal to counting the outcomes one by one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.outcomes import OUTCOMES_VERSION, TaskOutcome, task_outcomes
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store
from maestro_tui.store import outcomes as outcomes_module
from maestro_tui.store.outcomes import outcomes_of, scores, stale_runs
from tests.store.store_events import start_run, table
from tests.store.test_store_metrics import finished_run


def ensemble_run(bus: EventBus) -> list[ev.Event]:
    """Two tasks: one merged by a CLI, one an ensemble of two models, candidate 2 picked."""
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    plan = {"tasks": [
        {"id": "cli", "title": "c", "prompt": "p", "role": "coder"},
        {"id": "tests", "title": "t", "prompt": "p", "role": "tester", "candidates": 2,
         "models": ["gpt-a", "gpt-b"]},
    ]}  # fmt: skip
    start_run(bus, plan)
    bus.emit(ev.TaskStarted, task="cli", attempt=1, worker="claude")
    bus.emit(ev.LLMUsage, task="cli", model="opus", tokens_in=5, tokens_out=1, cost_usd=0.5)
    bus.emit(ev.TestsRan, task="cli", attempt=1, command="t", passed=False, exit_code=1)
    bus.emit(ev.TaskFixing, task="cli", attempt=1, round=1, reason="red")
    bus.emit(ev.TaskFinished, task="cli", attempt=1, commit="c1")
    bus.emit(ev.Merged, task="cli", commit="m1")
    bus.emit(ev.TaskStarted, task="tests", attempt=1, worker="ensemble of 2")
    for i, model in ((1, "gpt-a"), (2, "gpt-b")):
        bus.emit(ev.LLMUsage, task="tests", model=model, tokens_in=1, tokens_out=1,
                 cost_usd=0.25 * i, attempt=1, candidate=i)  # fmt: skip
        bus.emit(ev.CandidateFinished, task="tests", candidate=i, commit=f"k{i}",
                 tests_passed=i == 2, model=model)  # fmt: skip
    bus.emit(ev.CandidateSelected, task="tests", candidate=2, method="tests_first")
    bus.emit(ev.TaskFinished, task="tests", attempt=1, commit="k2")
    bus.emit(ev.Merged, task="tests", commit="m2")
    bus.emit(ev.RunFinished, status="succeeded", merged=2, failed=0, waiting=0)
    return seen


async def test_outcomes_are_stored_when_a_run_finishes_and_read_back_equal(
    store: Store, bus_for: Callable[..., EventBus], monkeypatch: pytest.MonkeyPatch
) -> None:
    events = ensemble_run(bus_for(store, "run-e"))
    await store.flush()
    marks = table(store.path, "SELECT run_id, upto_seq, version FROM outcome_runs")
    assert marks == [("run-e", events[-1].seq, OUTCOMES_VERSION)]

    def refuse(*args: object) -> None:
        raise AssertionError("computed again instead of read")

    monkeypatch.setattr(outcomes_module, "task_outcomes", refuse)
    stored = (await outcomes_of(store, ["run-e"]))["run-e"]
    assert stored == task_outcomes(events)  # in plan order, candidates after their task


async def test_a_run_resumed_since_is_computed_again(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    bus = bus_for(store, "run-e")
    ensemble_run(bus)
    await store.flush()
    bus.emit(ev.RunResumed)
    await store.flush()
    assert await stale_runs(store) == ["run-e"]
    await outcomes_of(store, ["run-e"])
    assert await stale_runs(store) == []


async def test_the_scoreboard_equals_counting_the_outcomes(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    ensemble_run(bus_for(store, "run-e"))
    finished_run(bus_for(store, "run-busy"))
    await store.flush()
    found = {(s.worker, s.model, s.role): s for s in await scores(store)}
    expected: dict[tuple[str, str, str], list[TaskOutcome]] = defaultdict(list)
    for outcomes in (await outcomes_of(store, ["run-e", "run-busy"])).values():
        ensembles = {o.task_id for o in outcomes if o.candidate}
        for o in outcomes:
            countable = o.settled or o.status == "waiting"
            if o.started and countable and not (o.candidate == 0 and o.task_id in ensembles):
                expected[(o.worker, o.model, o.role)].append(o)
    assert set(found) == set(expected)
    for key, units in expected.items():
        s = found[key]
        assert s.tasks == len(units)
        assert s.merged == sum(o.merged for o in units)
        assert s.green_known == sum(o.first_try_green is not None for o in units)
        assert s.green_first == sum(bool(o.first_try_green) for o in units)
        assert s.fix_rounds == sum(o.fix_rounds or 0 for o in units)
        assert s.conflicts == sum(o.conflicts > 0 for o in units)
        assert s.cost_usd == pytest.approx(sum(o.cost_usd for o in units))
        assert s.runs == len({o.run_id for o in units})
    # candidates count for their own model; the ensemble's task is not counted again
    assert found[("llm:gpt-b", "gpt-b", "tester")].merged == 1
    assert found[("llm:gpt-a", "gpt-a", "tester")].merged == 0
    assert found[("claude", "opus", "coder")].green_first == 0


async def test_a_rerun_is_linked_and_its_taken_over_tasks_projected(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    bus = bus_for(store, "run-2")
    start_run(bus)
    bus.emit(ev.RerunOf, source="run-1", base_branch="release", taken_over=("cli",))
    bus.emit(ev.TaskTakenOver, task="cli", source="run-1", source_commit="c1", commit="t1")
    bus.emit(ev.TaskTakenOver, task="docs", source="run-1")
    await store.flush()
    run = await store.get_run("run-2")
    assert run is not None and (run.rerun_of, run.base_branch) == ("run-1", "release")
    rows = table(store.path, 'SELECT task_id, status, "commit" FROM tasks ORDER BY task_id')
    assert rows == [("cli", "merged", "c1"), ("docs", "done", None), ("tests", "pending", None)]
