"""Context hygiene: a task is told only its upstream summaries and the most relevant findings."""

from __future__ import annotations

from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import parse_plan
from maestro_tui.domain.state import RunState, fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.context import relevant_findings, task_context


def state_with_findings() -> tuple[RunState, object]:
    plan = parse_plan(
        {
            "tasks": [
                {"id": "a", "prompt": "p"},
                {"id": "b", "prompt": "p", "depends_on": ["a"]},
                {"id": "other", "prompt": "p"},
                {"id": "late", "prompt": "p"},
                {"id": "c", "prompt": "p", "depends_on": ["b"], "files": ["shop/pricing.py"]},
            ]
        }
    )
    bus = EventBus("r")
    log: list[ev.Event] = []
    bus.subscribe(log.append)
    bus.emit(ev.PlanProposed, plan=plan.to_dict())
    bus.emit(ev.TaskFinished, task="a", attempt=1, summary="added the Money type", commit="x")
    bus.emit(ev.TaskFinished, task="b", attempt=1, summary="uses Money in cart", commit="y")
    bus.emit(ev.TaskFinished, task="other", attempt=1, summary="SECRET-UNRELATED", commit="z")
    bus.emit(ev.FindingPublished, task="late", text="the CI image lacks locale data")
    bus.emit(ev.FindingPublished, task="other", text="pricing.py rounds half-down")
    bus.emit(ev.FindingPublished, task="a", text="Money must stay immutable")
    bus.emit(ev.FindingPublished, task="c", text="its own finding")
    return fold(log), plan


def test_upstream_first_then_files_then_newest_and_never_its_own() -> None:
    state, plan = state_with_findings()
    c = plan.by_id["c"]  # type: ignore[attr-defined]
    assert relevant_findings(c, state) == [
        "a: Money must stay immutable",
        "other: pricing.py rounds half-down",
        "late: the CI image lacks locale data",
    ]
    assert relevant_findings(c, state, limit=1) == ["a: Money must stay immutable"]


def test_context_holds_upstream_summaries_only(tmp_path: Path) -> None:
    state, plan = state_with_findings()
    (tmp_path / "STANDARDS.md").write_text("Use type hints.")
    text = task_context(plan.by_id["c"], state, tmp_path, "STANDARDS.md")  # type: ignore[attr-defined]
    assert "Use type hints." in text
    assert "added the Money type" in text and "uses Money in cart" in text
    assert "SECRET-UNRELATED" not in text  # a summary of a task it does not build on
    assert text.index("Money must stay immutable") < text.index("rounds half-down")
