"""Events and helpers shared by the store tests."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus

PLAN = {
    "goal": "add a --json flag to the report command",
    "tasks": [
        {
            "id": "cli",
            "title": "Add the flag",
            "role": "coder",
            "prompt": "Add --json to report",
            "files": ["app/cli.py"],
            "depends_on": [],
        },
        {
            "id": "tests",
            "title": "Test the flag",
            "role": "tester",
            "prompt": "Test --json",
            "files": ["tests/test_cli.py"],
            "depends_on": ["cli"],
        },
        {
            "id": "docs",
            "title": "Document the flag",
            "role": "doc_writer",
            "prompt": "Document --json",
            "files": ["README.md"],
            "depends_on": ["cli"],
        },
    ],
}


def start_run(bus: EventBus, plan: dict[str, Any] | None = None, **fields: Any) -> None:
    """RunStarted + PlanProposed + PlanApproved, as the engine begins every run."""
    run = {
        "goal": "add a --json flag",
        "repo": "/home/ada/src/report",
        "base_branch": "main",
        "base_commit": "9f2c1e4",
        "integration_branch": f"maestro/{bus.run_id}",
        "merge_policy": "review",
        "max_agents": 4,
    }
    run.update(fields)
    bus.emit(ev.RunStarted, **run)
    bus.emit(ev.PlanProposed, plan=plan or PLAN, layers=(("cli",), ("tests", "docs")))
    bus.emit(ev.PlanApproved)


def emit_every_event(bus: EventBus) -> list[ev.Event]:
    """One of each event type, with realistic fields, in an order the engine could emit."""
    seen: list[ev.Event] = []
    unsubscribe = bus.subscribe(seen.append)
    bus.emit(
        ev.RunStarted,
        goal="add a --json flag",
        repo="/home/ada/src/report",
        base_branch="main",
        base_commit="9f2c1e4",
        integration_branch=f"maestro/{bus.run_id}",
        merge_policy="review",
        max_agents=4,
        budget_usd=2.5,
        budget_tokens=400_000,
    )
    bus.emit(ev.PlanProposed, plan=PLAN, layers=(("cli",), ("tests", "docs")))
    bus.emit(
        ev.RunConfigured,
        settings='{"config": {"model": "gpt-4o-mini"}, "env": {}}',
        workers={"cli": "llm:gpt-4o-mini", "tests": "command", "docs": "claude"},
    )
    bus.emit(
        ev.RerunOf,
        source="20250301-101500-ab12",
        base_branch="main",
        from_tasks=("tests",),
        rerun=("tests",),
        taken_over=("cli", "docs"),
        changes=("model=gpt-4o-mini",),
        why_rerun=(("tests", "under study (--from)"),),
    )
    bus.emit(ev.TaskTakenOver, task="docs", source="20250301-101500-ab12", source_commit="d0c5")
    bus.emit(ev.PlanApproved)
    bus.emit(ev.ConcurrencyChanged, max_agents=6)
    bus.emit(ev.TaskQueued, task="cli", priority=2.0)
    bus.emit(
        ev.TaskStarted,
        task="cli",
        attempt=1,
        worker="llm",
        branch=f"maestro/{bus.run_id}/cli",
        worktree="/tmp/wt/cli",
        base_commit="9f2c1e4",
    )
    bus.emit(
        ev.AttemptPlaced,
        task="cli",
        attempt=1,
        step="work",
        node="5f0c9e",
        pid=4242,
        workdir="/tmp/maestro-ray/r/cli-1/wc-1",
        built=True,
    )
    bus.emit(ev.AgentOutput, task="cli", attempt=1, text="reading app/cli.py … «ok»", stream="llm")
    bus.emit(ev.AgentSession, task="cli", attempt=1, session_id="4b06b7b4", worker="claude")
    bus.emit(ev.TaskWaiting, task="cli", attempt=1, reason="rate limited (429)", retry_in_s=30.0)
    bus.emit(ev.ToolCalled, task="cli", attempt=1, tool="write_file", args="app/cli.py")
    bus.emit(ev.FileChanged, task="cli", path="app/cli.py", change="modified")
    bus.emit(ev.FindingPublished, task="cli", text="report() already returns a dict")
    bus.emit(
        ev.LLMUsage,
        task="cli",
        model="gpt-4o-mini",
        tokens_in=1200,
        tokens_out=300,
        cost_usd=0.00036,
        latency_s=1.4,
    )
    bus.emit(
        ev.TestsRan,
        task="cli",
        attempt=1,
        command="pytest -q",
        passed=True,
        exit_code=0,
        n_passed=12,
        n_failed=0,
        duration_s=0.8,
        output_tail="12 passed",
    )
    bus.emit(ev.TaskFixing, task="cli", attempt=1, round=1, reason="1 failed")
    bus.emit(ev.CriticVerdict, task="cli", attempt=1, approved=True, comments="ok", model="m")
    bus.emit(
        ev.CandidateFinished,
        task="cli",
        candidate=2,
        commit="c0ffee1",
        tests_passed=True,
        n_passed=12,
        lines_changed=16,
    )
    bus.emit(
        ev.CandidateSelected, task="cli", candidate=2, method="tests_first", backed_by_tests=True
    )
    bus.emit(
        ev.TaskCommitted,
        task="cli",
        attempt=1,
        commit="a1b2c3d",
        files=("app/cli.py",),
        insertions=14,
        deletions=2,
    )
    bus.emit(ev.TaskFinished, task="cli", attempt=1, summary="added --json", commit="a1b2c3d")
    bus.emit(ev.MergeQueued, task="cli", commit="a1b2c3d", files_changed=1, lines_changed=16)
    bus.emit(ev.MergeTesting, tasks=("cli",), commit="f00d", tree="7ree", prefix=("cli",))
    bus.emit(
        ev.MergeTested,
        tasks=("cli",),
        commit="f00d",
        tree="7ree",
        passed=False,
        n_passed=11,
        n_failed=1,
        duration_s=2.0,
        output_tail="FAILED tests/test_cli.py::test_json",
        prefix=("cli",),
        flaky=("tests/test_cli.py::test_clock",),
    )
    bus.emit(
        ev.BaseTested, commit="e5f6a7b", passed=False, n_passed=3, n_failed=1, duration_s=2.5,
        gate_width=2,
    )  # fmt: skip
    bus.emit(ev.BaseRed, commit="e5f6a7b", tree="7ree", found_by="gate", n_failed=1)
    bus.emit(ev.GateSkipped, reason="no test command is configured")
    bus.emit(ev.MergeConflict, task="cli", files=("app/cli.py",))
    bus.emit(ev.MergeWaiting, task="cli", reasons=("conflict in app/cli.py", "policy: review"))
    bus.emit(ev.MergeApproved, task="cli", resolution="ours")
    bus.emit(ev.Merged, task="cli", commit="e5f6a7b", auto=False)
    bus.emit(ev.TaskQueued, task="tests")
    bus.emit(ev.TaskStarted, task="tests", attempt=1, worker="command")
    bus.emit(ev.TaskStalled, task="tests", attempt=1, silent_s=300.0)
    bus.emit(ev.TaskFailed, task="tests", attempt=1, reason="exit 1", retry_in_s=2.0)
    bus.emit(ev.DispatchPaused)
    bus.emit(ev.DispatchResumed)
    bus.emit(ev.RunPaused, reason="quit by the user")
    bus.emit(ev.RunResumed, interrupted=("tests",))
    bus.emit(ev.TaskStarted, task="tests", attempt=2, worker="command")
    bus.emit(ev.TaskCancelled, task="tests", reason="cancelled by the user")
    bus.emit(ev.TaskBlocked, task="docs", blocked_by="tests", reason="tests was cancelled")
    bus.emit(ev.MergeRejected, task="docs", reason="not wanted")
    bus.emit(ev.BudgetWarning, kind="usd", used=2.1, limit=2.5)
    bus.emit(ev.BudgetExceeded, kind="usd", used=2.6, limit=2.5)
    bus.emit(ev.BudgetRaised, kind="usd", limit=5.0)
    bus.emit(ev.SteerSent, task="docs", text="shorter, please", source="cli", delivery="soon")
    bus.emit(ev.SteerDelivered, task="docs", attempt=1, text="shorter, please")
    bus.emit(ev.NotifyFailed, channel="hook", error="exited with code 1")
    bus.emit(
        ev.PlanRevised,
        plan=PLAN,
        layers=(("cli",), ("tests", "docs")),
        superseded=("docs",),
        reason="docs was rejected",
    )
    bus.emit(ev.RunFinished, status="failed", merged=1, failed=2, waiting=0)
    unsubscribe()
    return seen


def table(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows read through a separate, read-only connection, as another process would see them."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()
