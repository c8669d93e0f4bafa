"""Events round-trip through JSON; the reducer rebuilds what a run looked like."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, RunStatus, TaskStatus, fold, reduce
from maestro_tui.engine.bus import EventBus

SAMPLES: dict[type[ev.Event], dict[str, Any]] = {
    ev.RunStarted: dict(
        goal="g",
        repo="/r",
        base_branch="main",
        base_commit="abc",
        integration_branch="maestro/r1",
        merge_policy="auto",
        max_agents=4,
        budget_usd=1.5,
    ),
    ev.PlanProposed: dict(
        plan={
            "goal": "g",
            "tasks": [
                {"id": "a", "title": "A", "prompt": "p", "files": ["x.py"], "depends_on": []}
            ],
        },
        layers=(("a",),),
    ),
    ev.TaskStarted: dict(task="a", attempt=1, worker="command:x", branch="b", worktree="/w"),
    ev.AgentOutput: dict(task="a", attempt=1, text="héllo ✓", stream="stderr"),
    ev.ToolCalled: dict(task="a", attempt=1, tool="read_file", args="x.py", ok=False, error="no"),
    ev.TaskCommitted: dict(
        task="a", attempt=1, commit="c0ffee", files=("x.py", "y.py"), insertions=3, deletions=1
    ),
    ev.TestsRan: dict(
        task="a",
        attempt=1,
        command="pytest",
        passed=False,
        exit_code=1,
        n_passed=3,
        n_failed=1,
        duration_s=0.5,
        output_tail="1 failed",
    ),
    ev.MergeConflict: dict(task="a", files=("x.py",)),
    ev.MergeWaiting: dict(task="a", reasons=("conflict", "too big")),
    ev.LLMUsage: dict(task="a", model="m", tokens_in=10, tokens_out=5, cost_usd=None),
}


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_json_round_trip(cls: type[ev.Event]) -> None:
    event = EventBus("r1").emit(cls, **SAMPLES[cls])
    again = ev.event_from_json(event.to_json())
    assert again == event and type(again) is cls


def test_every_event_type_is_registered_and_frozen() -> None:
    assert {"RunStarted", "Merged", "BudgetRaised", "TaskBlocked"} <= set(ev.EVENT_TYPES)
    event = EventBus("r").emit(ev.DispatchPaused)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.seq = 9  # type: ignore[misc]


EVENT_CLASSES: list[type[ev.Event]] = sorted(set(ev.EVENT_TYPES.values()), key=lambda c: c.__name__)


@pytest.mark.parametrize("cls", EVENT_CLASSES)
def test_events_built_through_their_slots_behave_as_frozen_dataclasses(cls: type) -> None:
    fields = dataclasses.fields(cls)
    params = inspect.signature(cls).parameters
    assert [(p.name, p.kind, p.default) for p in params.values()] == [
        (f.name, inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.empty)
        if f.default is dataclasses.MISSING
        else (f.name, inspect.Parameter.KEYWORD_ONLY, f.default)
        for f in fields
    ]
    required = {f.name: f"v-{f.name}" for f in fields if f.default is dataclasses.MISSING}
    event = cls(**required)
    assert {f.name: getattr(event, f.name) for f in fields} == {
        f.name: required.get(f.name, f.default) for f in fields
    }
    assert event == cls(**required) and hash(event) == hash(cls(**required))
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.run_id = "other"
    with pytest.raises(dataclasses.FrozenInstanceError):
        del event.seq
    with pytest.raises(TypeError, match="unexpected keyword"):
        cls(**required, no_such_field=1)
    with pytest.raises(TypeError, match="missing"):
        cls(**{k: v for k, v in required.items() if k != "seq"})


def test_bad_event_data_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown event type"):
        ev.event_from_dict({"type": "Nope"})
    with pytest.raises(ValueError, match="unknown field"):
        ev.event_from_dict({"type": "PlanApproved", "run_id": "r", "seq": 1, "ts": 0, "x": 1})


def test_bus_numbers_events_without_gaps_and_continues_after_resume() -> None:
    bus = EventBus("r", next_seq=41, start_ts=100.0)
    a, b = bus.emit(ev.PlanApproved), bus.emit(ev.DispatchPaused)
    assert (a.seq, b.seq) == (41, 42)
    assert 100.0 <= a.ts <= b.ts


def _run_events() -> list[ev.Event]:
    bus = EventBus("r1")
    out: list[ev.Event] = []
    bus.subscribe(out.append)
    bus.emit(ev.RunStarted, **SAMPLES[ev.RunStarted])
    bus.emit(
        ev.PlanProposed,
        plan={
            "tasks": [{"id": "a", "prompt": "p"}, {"id": "b", "prompt": "p", "depends_on": ["a"]}]
        },
    )
    bus.emit(ev.PlanApproved)
    bus.emit(ev.TaskQueued, task="a")
    bus.emit(ev.TaskStarted, task="a", attempt=1, worker="w")
    bus.emit(ev.LLMUsage, task="a", model="m1", tokens_in=100, tokens_out=20, cost_usd=0.5)
    bus.emit(ev.LLMUsage, task="a", model="m2", tokens_in=1, tokens_out=1, cost_usd=None)
    bus.emit(ev.TaskCommitted, task="a", attempt=1, commit="c1", files=("x",), insertions=2)
    bus.emit(ev.TestsRan, task="a", attempt=1, command="t", passed=True, exit_code=0, n_passed=4)
    bus.emit(ev.TaskFinished, task="a", attempt=1, summary="did a", commit="c1")
    bus.emit(ev.MergeConflict, task="a", files=("x",))
    bus.emit(ev.MergeWaiting, task="a", reasons=("conflicts in x",))
    return out


def test_reducer_tracks_tasks_usage_and_merges() -> None:
    state = fold(_run_events())
    a = state.tasks["a"]
    assert state.status is RunStatus.RUNNING and state.plan_approved
    assert a.status is TaskStatus.WAITING and a.reason == "conflicts in x"
    assert a.n_passed == 4 and a.tests_passed and a.commit == "c1" and a.summary == "did a"
    assert state.tokens_in == 101 and state.cost_usd == 0.5 and state.unpriced_calls == 1
    assert state.models["m1"].calls == 1 and state.models["m2"].unpriced_calls == 1
    assert a.cost_usd == 0.5
    assert [t.id for t in state.waiting_merges] == ["a"]
    assert state.outcome() is RunStatus.WAITING


def test_reducer_is_pure() -> None:
    events = _run_events()
    before = fold(events[:5])
    snapshot = repr(before)
    after = reduce(before, events[5])
    assert repr(before) == snapshot
    assert after is not before


def test_merge_and_budget_events() -> None:
    events = _run_events()
    bus = EventBus("r1", next_seq=len(events) + 1)
    bus.subscribe(events.append)
    bus.emit(ev.MergeApproved, task="a", resolution="theirs")
    bus.emit(ev.Merged, task="a", commit="m1", auto=False)
    bus.emit(ev.BudgetWarning, kind="usd", used=1.2, limit=1.5)
    bus.emit(ev.BudgetExceeded, kind="usd", used=1.6, limit=1.5)
    bus.emit(ev.BudgetRaised, kind="usd", limit=5.0)
    state = fold(events)
    assert state.tasks["a"].status is TaskStatus.MERGED
    assert state.budget_usd == 5.0 and state.budget_exceeded == () and state.budget_warned == ()
    assert RunState().outcome() is RunStatus.SUCCEEDED


def test_events_emitted_by_a_subscriber_reach_everyone_in_order() -> None:
    bus = EventBus("r")
    first: list[int] = []
    last: list[int] = []
    bus.subscribe(lambda e: first.append(e.seq))

    def reacting(e: ev.Event) -> None:
        if isinstance(e, ev.DispatchPaused):
            bus.emit(ev.DispatchResumed)

    bus.subscribe(reacting)
    bus.subscribe(lambda e: last.append(e.seq))
    bus.emit(ev.DispatchPaused)
    bus.emit(ev.PlanApproved)
    assert first == last == [1, 2, 3]


def test_bus_redacts_secrets_from_every_text_field() -> None:
    bus = EventBus("r")
    bus.redact(["sk-live-0123456789abcdef", "short"])
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    bus.emit(ev.AgentOutput, task="a", attempt=1, text="key=sk-live-0123456789abcdef ok short")
    bus.emit(ev.TaskFailed, task="a", attempt=1, reason="401 for sk-live-0123456789abcdef")
    assert isinstance(seen[0], ev.AgentOutput)
    assert seen[0].text == "key=[redacted] ok short"  # too-short values are not treated as keys
    assert "sk-live" not in seen[1].to_json()
