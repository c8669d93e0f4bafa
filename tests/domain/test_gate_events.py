"""The gate's events: they round-trip, the reducer shows them, the printer and metrics use them."""

from __future__ import annotations

from typing import Any

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.metrics import compute_metrics
from maestro_tui.domain.state import fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.headless.printer import format_event

TESTED: dict[str, Any] = dict(
    tasks=("b",),
    commit="c2",
    tree="t2",
    passed=False,
    n_passed=4,
    n_failed=1,
    duration_s=2.0,
    output_tail="FAILED tests/test_api.py::test_all",
    prefix=("a", "b"),
    speculative=True,
)
SAMPLES: dict[type[ev.Event], dict[str, Any]] = {
    ev.MergeTesting: dict(
        tasks=("b",), commit="c2", tree="t2", prefix=("a", "b"), speculative=True
    ),
    ev.MergeTested: TESTED,
    ev.BaseRed: dict(commit="c0", tree="t0", found_by="a", n_failed=2, output_tail="2 failed"),
    ev.GateSkipped: dict(reason="no test command is configured"),
    ev.BaseTested: dict(commit="c0", passed=True, n_passed=9, n_failed=0, duration_s=12.5),
}


def run_with(*steps: tuple[type[ev.Event], dict[str, Any]]) -> list[ev.Event]:
    bus = EventBus("r1")
    log: list[ev.Event] = []
    bus.subscribe(log.append)
    tasks = [{"id": t, "title": t, "prompt": "p"} for t in ("a", "b")]
    bus.emit(ev.PlanProposed, plan={"goal": "g", "tasks": tasks})
    for cls, fields in steps:
        bus.emit(cls, **fields)
    return log


@pytest.mark.parametrize("cls", list(SAMPLES), ids=lambda c: c.__name__)
def test_gate_events_round_trip(cls: type[ev.Event]) -> None:
    event = EventBus("r1").emit(cls, **SAMPLES[cls])
    assert ev.event_from_json(event.to_json()) == event


def test_the_task_view_shows_the_gate_and_the_run_shows_a_red_base() -> None:
    testing = fold(run_with((ev.MergeTesting, SAMPLES[ev.MergeTesting])))
    assert testing.tasks["b"].gate == "testing" and testing.tasks["a"].gate == ""
    red = fold(
        run_with(
            (ev.MergeTesting, SAMPLES[ev.MergeTesting]),
            (ev.MergeTested, TESTED),
            (ev.BaseRed, SAMPLES[ev.BaseRed]),
        )
    )
    b = red.tasks["b"]
    assert (b.gate, b.gate_n_passed, b.gate_n_failed) == ("failed", 4, 1)
    assert "test_all" in b.gate_tail and b.gate_commit == "c2"
    assert red.base_red == "c0" and red.base_red_tail == "2 failed"
    flaky = {**TESTED, "passed": True, "retest": True, "flaky": ("tests/test_api.py::test_all",)}
    mended = fold(run_with((ev.BaseRed, SAMPLES[ev.BaseRed]), (ev.MergeTested, flaky)))
    assert mended.base_red == "" and mended.tasks["b"].gate == "passed"
    assert mended.flaky_tests == ("tests/test_api.py::test_all",)
    again = fold(
        run_with((ev.MergeTested, TESTED), (ev.TaskStarted, dict(task="b", attempt=2, worker="x")))
    )
    assert again.tasks["b"].gate == "" and again.tasks["b"].gate_tail == ""
    stopped = fold(run_with((ev.MergeTesting, SAMPLES[ev.MergeTesting]), (ev.MergeTested, {
        **TESTED, "cancelled": True
    })))  # fmt: skip
    assert stopped.tasks["b"].gate == ""
    assert fold(run_with((ev.GateSkipped, SAMPLES[ev.GateSkipped]))).gate_off.startswith("no test")


def test_headless_lines_for_the_gate() -> None:
    events = run_with(*((cls, fields) for cls, fields in SAMPLES.items()))[1:]
    lines = [format_event(e).strip().split("  ", 1)[1] for e in events]
    assert lines[0] == "[b] gate: testing as merged on top of a (c2)"
    assert lines[1] == "[b] gate: merged tree FAILS (4 passed, 1 failed) in 2.0s"
    assert lines[2].startswith("integration branch is RED at c0 (2 failed), found by a")
    assert lines[3] == "gate off: no test command is configured"
    flaky = run_with((ev.MergeTested, {**TESTED, "passed": True, "flaky": ("t::x",)}))[-1]
    assert format_event(flaky).endswith(
        "merged tree passes (4 passed, 1 failed) in 2.0s; flaky: t::x"
    )


def test_a_gate_verdict_backs_a_merge_decision() -> None:
    gated = run_with(
        (ev.TaskStarted, dict(task="a", attempt=1, worker="x")),
        (ev.TaskFinished, dict(task="a", attempt=1, commit="ca")),
        (ev.MergeQueued, dict(task="a", commit="ca")),
        (ev.MergeTested, {**TESTED, "tasks": ("a",), "passed": True}),
        (ev.Merged, dict(task="a", commit="h")),
        (ev.TaskStarted, dict(task="b", attempt=1, worker="x")),
        (ev.TaskFinished, dict(task="b", attempt=1, commit="cb")),
        (ev.MergeQueued, dict(task="b", commit="cb")),
        (ev.MergeTested, {**TESTED, "tasks": ("b",), "cancelled": True}),  # no verdict
        (ev.Merged, dict(task="b", commit="h2")),
    )
    m = compute_metrics(gated)
    assert (m.decisions, m.decisions_backed) == (2, 1)


def test_the_preflights_test_run_is_recorded_and_adds_the_last_gate_run_to_the_eta() -> None:
    from maestro_tui.ui.widgets.meters import eta_seconds

    started = (ev.TaskStarted, dict(task="a", attempt=1, worker="x"))
    finished = (ev.TaskFinished, dict(task="a", attempt=1, summary="done", commit="c1"))
    merged = (ev.Merged, dict(task="a", commit="c2"))
    without = fold(run_with(started, finished, merged))
    state = fold(run_with((ev.BaseTested, SAMPLES[ev.BaseTested]), started, finished, merged))
    assert state.test_run_s == 12.5
    assert without.test_run_s is None
    before, after = eta_seconds(without), eta_seconds(state)
    assert before is not None and after == pytest.approx(before + 12.5)
    assert format_event(EventBus("r1").emit(ev.BaseTested, **SAMPLES[ev.BaseTested])).endswith(
        "green (9 passed, 0 failed) in 12.5s"
    )
