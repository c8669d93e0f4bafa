"""The pull request a run becomes: every task, the human's decisions, the cost, the replay."""

from __future__ import annotations

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import fold
from maestro_tui.domain.summary import pull_request_body, pull_request_title
from maestro_tui.engine.bus import EventBus


def test_the_body_tells_the_run_and_the_title_is_the_goal() -> None:
    bus = EventBus("r9")
    seen: list[ev.Event] = []
    bus.subscribe(seen.append)
    bus.emit(ev.RunStarted, goal="Harden the shop " * 8, repo="/r", base_branch="main",
             base_commit="c0", integration_branch="maestro/r9", merge_policy="auto",
             max_agents=2)  # fmt: skip
    tasks = [{"id": t, "title": f"do {t}", "prompt": "p"} for t in ("a", "b", "c")]
    bus.emit(ev.PlanProposed, plan={"goal": "Harden the shop", "tasks": tasks})
    for t in ("a", "b", "c"):
        bus.emit(ev.TaskStarted, task=t, attempt=1, worker="llm:demo/coder")
        bus.emit(ev.LLMUsage, task=t, model="demo/coder", tokens_in=100, tokens_out=20,
                 cost_usd=0.01, simulated=True)  # fmt: skip
        bus.emit(ev.TestsRan, task=t, attempt=1, command="pytest", passed=True, exit_code=0,
                 n_passed=12, n_failed=0)  # fmt: skip
        bus.emit(ev.TaskFinished, task=t, attempt=1, summary="did it", commit=f"c{t}")
    bus.emit(ev.Merged, task="a", commit="m1")
    bus.emit(ev.MergeWaiting, task="b", reasons=("conflicts",))
    bus.emit(ev.MergeApproved, task="b", resolution="manual")
    bus.emit(ev.Merged, task="b", commit="m2", auto=False)
    bus.emit(ev.MergeWaiting, task="c", reasons=("tests failed",))
    bus.emit(ev.MergeRejected, task="c", reason="not what we want")
    body = pull_request_body(seen)
    assert "| `a` do a | llm:demo/coder | demo/coder | pass (12 passed) |" in body
    assert "$0.0100 (simulated) | merged |" in body
    assert "| `c` do c |" in body and "| rejected |" in body
    assert "- `b`: approved by the reviewer, resolved by hand" in body
    assert "- `c`: rejected: not what we want" in body
    assert "$0.0300 (simulated) over 3 model call(s), 300 tokens in and 60 out" in body
    assert "2 of 3 task(s) merged" in body and "`maestro-tui replay r9`" in body
    title = pull_request_title(fold(seen))
    assert title.startswith("Harden the shop") and len(title) <= 72
