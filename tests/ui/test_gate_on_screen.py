"""What the gate finds is on the dashboard: a task's merged-tree tests, a red base, no gate."""

from __future__ import annotations

from rich.console import Console

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.ui.widgets.status_bar import status_line
from maestro_tui.ui.widgets.task_detail import render_task


def _plain(renderable: object) -> str:
    console = Console(width=100, record=True)
    console.print(renderable)
    return console.export_text()


def test_the_gate_shows_on_the_task_and_a_red_base_in_the_status_bar() -> None:
    bus = EventBus("r1")
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    bus.emit(
        ev.PlanProposed, plan={"goal": "g", "tasks": [{"id": "a", "title": "A", "prompt": "p"}]}
    )
    bus.emit(ev.TaskStarted, task="a", attempt=1, worker="fake")
    bus.emit(ev.TaskFinished, task="a", attempt=1, commit="c1")
    bus.emit(ev.MergeTesting, tasks=("a",), commit="m1", tree="t1")
    assert "testing the merged tree" in _plain(render_task(fold(seen).tasks["a"]))
    bus.emit(ev.MergeTested, tasks=("a",), commit="m1", tree="t1", passed=False,
             n_passed=7, n_failed=2)  # fmt: skip
    assert "✘ 7 passed, 2 failed" in _plain(render_task(fold(seen).tasks["a"]))
    assert "fails its own tests" not in status_line(fold(seen)).plain
    bus.emit(ev.BaseRed, commit="h1", output_tail="1 failed")
    assert "the integration branch fails its own tests" in status_line(fold(seen)).plain
    bus.emit(ev.GateSkipped, reason="no test command")
    assert "fails its own tests" in status_line(fold(seen)).plain  # the worse news wins
