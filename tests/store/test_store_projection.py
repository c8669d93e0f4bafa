"""The tables the events imply: run summaries, tasks, attempts, merges, model calls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import MergeRecord, Store, bulk
from tests.store.store_events import PLAN, emit_every_event, start_run, table


def tasks_table(db: Path, run_id: str) -> dict[str, tuple[Any, ...]]:
    rows = table(
        db,
        'SELECT task_id, status, attempts, reason, "commit" FROM tasks WHERE run_id = ?',
        (run_id,),
    )
    return {r[0]: r[1:] for r in rows}


def tasks_replayed(events: list[ev.Event]) -> dict[str, tuple[Any, ...]]:
    state = fold(events)
    return {t.id: (t.status.value, t.attempts, t.reason, t.commit) for t in state.tasks.values()}


def busy_run(bus: EventBus) -> None:
    """A run with a retry, a merge held for review, a rejection, a block and model calls."""
    start_run(bus)
    bus.emit(ev.TaskQueued, task="cli")
    bus.emit(ev.TaskStarted, task="cli", attempt=1, worker="llm")
    bus.emit(ev.LLMUsage, task="cli", model="m", tokens_in=100, tokens_out=10, cost_usd=0.01)
    bus.emit(ev.TaskFailed, task="cli", attempt=1, reason="tests failed", retry_in_s=1.0)
    bus.emit(ev.TaskQueued, task="cli")
    bus.emit(ev.TaskStarted, task="cli", attempt=2, worker="llm")
    bus.emit(ev.LLMUsage, task="cli", model="m", tokens_in=200, tokens_out=20, cost_usd=0.02)
    bus.emit(ev.LLMUsage, task="cli", model="local", tokens_in=5, tokens_out=5, cost_usd=None)
    bus.emit(ev.TaskCommitted, task="cli", attempt=2, commit="c1")
    bus.emit(ev.TaskFinished, task="cli", attempt=2, summary="done", commit="c1")
    bus.emit(ev.MergeQueued, task="cli", commit="c1")
    bus.emit(ev.Merged, task="cli", commit="m1")
    bus.emit(ev.TaskStarted, task="tests", attempt=1, worker="command")
    bus.emit(ev.TaskFinished, task="tests", attempt=1, commit="c2")
    bus.emit(ev.MergeQueued, task="tests", commit="c2")
    bus.emit(ev.MergeConflict, task="tests", files=("tests/test_cli.py",))
    bus.emit(ev.MergeWaiting, task="tests", reasons=("conflict in tests/test_cli.py",))
    bus.emit(ev.TaskStarted, task="docs", attempt=1, worker="llm")
    bus.emit(ev.TaskFinished, task="docs", attempt=1, commit="c3")
    bus.emit(ev.MergeQueued, task="docs", commit="c3")
    bus.emit(ev.MergeWaiting, task="docs", reasons=("diff too large", "policy: review"))
    bus.emit(ev.MergeRejected, task="docs", reason="too large")
    bus.emit(ev.RunFinished, status="failed", merged=1, failed=1, waiting=1)


def all_events() -> list[ev.Event]:
    """Every event type, then a busy run, for two runs, as the bus would stamp them."""
    out: list[ev.Event] = []
    for run_id, emit in (("run-every", emit_every_event), ("run-busy", busy_run)):
        bus = EventBus(run_id)
        bus.subscribe(out.append)
        emit(bus)
    return out


PROJECTED = (
    'SELECT run_id, task_id, title, role, status, attempts, reason, "commit" FROM tasks',
    "SELECT run_id, task_id, attempt, worker, branch, worktree, started_ts, finished_ts,"
    " status, reason FROM attempts",
    "SELECT run_id, goal, repo, base_branch, base_commit, integration_branch, merge_policy,"
    " max_agents, status, finished_at IS NULL, budget_usd, budget_tokens FROM runs",
    'SELECT run_id, task_id, status, "commit", reasons, conflict_files, merged_commit,'
    " queued_seq FROM merges",
    "SELECT run_id, seq, task_id, model, tokens_in, tokens_out, cost_usd FROM llm_calls",
    "SELECT run_id, seq, task_id, text FROM findings",
)


@pytest.mark.parametrize(
    ("max_vars", "update_from"),
    [(bulk.MAX_VARS, True), (20, True), (20, False)],
    ids=["wide-statements", "narrow-statements", "old-sqlite-updates"],
)
async def test_tables_agree_with_the_reducer_wherever_batches_are_cut(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_vars: int, update_from: bool
) -> None:
    # Narrow statements split every multi-row INSERT/UPDATE into many; old SQLite (< 3.33)
    # has no UPDATE ... FROM and updates a row per step.
    monkeypatch.setattr(bulk, "UPDATE_FROM", update_from and bulk.UPDATE_FROM)
    events = all_events()
    seen: dict[int, list[list[tuple[Any, ...]]]] = {}
    for batch in (1, 2, 3, 7, 10_000):
        store = await Store.open(tmp_path / f"batch{batch}.db", max_vars=max_vars)
        try:
            for start in range(0, len(events), batch):
                for event in events[start : start + batch]:
                    store.append(event)
                await store.flush()  # one transaction per chunk
            for run_id in ("run-every", "run-busy"):
                loaded = await store.load_events(run_id)
                assert tasks_table(store.path, run_id) == tasks_replayed(loaded), (batch, run_id)
            seen[batch] = [sorted(table(store.path, sql), key=repr) for sql in PROJECTED]
        finally:
            await store.close()
    # Wall-clock columns aside, the rows do not depend on where the batches were cut.
    for batch, tables in seen.items():
        assert tables == seen[1], f"batches of {batch} give other rows than batches of 1"


async def test_run_summary_numbers(store: Store, bus_for: Callable[..., EventBus]) -> None:
    busy_run(bus_for(store, "run-sum"))
    await store.flush()

    (run,) = await store.list_runs()
    assert (run.run_id, run.status, run.goal) == ("run-sum", "failed", PLAN["goal"])
    assert (run.tasks_total, run.tasks_ok, run.tasks_failed, run.tasks_waiting) == (3, 1, 1, 1)
    assert (run.tokens_in, run.tokens_out, run.unpriced_calls) == (305, 35, 1)
    assert run.cost_usd == pytest.approx(0.03)
    assert run.finished_at is not None and run.finished_at >= run.created_at
    assert run.duration_s is not None and run.duration_s >= 0
    assert (run.base_branch, run.integration_branch, run.merge_policy) == (
        "main",
        "maestro/run-sum",
        "review",
    )


async def test_list_runs_newest_first_with_limit(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    for n in range(5):
        start_run(bus_for(store, f"run-{n}"))
        await store.flush()  # separate batches: distinct created_at
    runs = await store.list_runs(limit=3)
    assert [r.run_id for r in runs] == ["run-4", "run-3", "run-2"]
    assert runs[0].status == "running" and runs[0].finished_at is None
    assert runs[0].tasks_total == 3 and runs[0].cost_usd == 0.0


async def test_merges_by_status(store: Store, bus_for: Callable[..., EventBus]) -> None:
    busy_run(bus_for(store, "run-m"))
    await store.flush()

    assert await store.merges("run-m") == [
        MergeRecord("run-m", "cli", "merged", "c1", (), (), "m1"),
        MergeRecord(
            "run-m",
            "tests",
            "waiting",
            "c2",
            ("conflict in tests/test_cli.py",),
            ("tests/test_cli.py",),
            None,
        ),
        MergeRecord(
            "run-m", "docs", "rejected", "c3", ("diff too large", "policy: review"), (), None
        ),
    ]
    assert [m.task_id for m in await store.merges("run-m", status="waiting")] == ["tests"]
    assert await store.merges("run-m", status="queued") == []


async def test_requeued_merge_starts_clean(store: Store, bus_for: Callable[..., EventBus]) -> None:
    bus = bus_for(store, "run-rq")
    start_run(bus)
    bus.emit(ev.MergeQueued, task="cli", commit="c1")
    bus.emit(ev.MergeWaiting, task="cli", reasons=("tests failed",))
    bus.emit(ev.MergeRejected, task="cli")
    bus.emit(ev.MergeQueued, task="cli", commit="c2")
    await store.flush()
    assert await store.merges("run-rq") == [
        MergeRecord("run-rq", "cli", "queued", "c2", (), (), None)
    ]


async def test_attempts_record_each_try(store: Store, bus_for: Callable[..., EventBus]) -> None:
    busy_run(bus_for(store, "run-a"))
    bus = bus_for(store, "run-c")
    start_run(bus)
    bus.emit(ev.TaskStarted, task="cli", attempt=1, worker="llm", branch="maestro/run-c/cli")
    await store.flush()
    bus.emit(ev.TaskCancelled, task="cli")  # in a later batch than its start
    bus.emit(ev.TaskStarted, task="docs", attempt=1, worker="llm")
    await store.flush()

    rows = table(
        store.path,
        "SELECT run_id, task_id, attempt, status, reason, finished_ts IS NOT NULL FROM attempts"
        " ORDER BY 1, 2, 3",
    )
    assert rows == [
        ("run-a", "cli", 1, "failed", "tests failed", 1),
        ("run-a", "cli", 2, "finished", "", 1),
        ("run-a", "docs", 1, "finished", "", 1),
        ("run-a", "tests", 1, "finished", "", 1),
        ("run-c", "cli", 1, "cancelled", "cancelled", 1),
        ("run-c", "docs", 1, "running", "", 0),
    ]
    assert table(
        store.path, "SELECT status FROM tasks WHERE task_id = 'cli' AND run_id = 'run-c'"
    ) == [("cancelled",)]


async def test_resume_reopens_the_run_and_interrupts_open_attempts(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    bus = bus_for(store, "run-r")
    start_run(bus)
    bus.emit(ev.TaskStarted, task="cli", attempt=1, worker="llm")
    bus.emit(ev.RunFinished, status="interrupted", merged=0, failed=0, waiting=0)
    await store.flush()
    bus.emit(ev.RunResumed, interrupted=("cli",))
    bus.emit(ev.TaskStarted, task="cli", attempt=2, worker="llm")
    await store.flush()

    run = await store.get_run("run-r")
    assert run is not None and (run.status, run.finished_at) == ("running", None)
    assert table(store.path, "SELECT attempt, status FROM attempts ORDER BY 1") == [
        (1, "interrupted"),
        (2, "running"),
    ]


async def test_a_new_plan_replaces_the_tasks(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    bus = bus_for(store, "run-p")
    start_run(bus)
    bus.emit(ev.TaskQueued, task="cli")
    bus.emit(ev.PlanProposed, plan={"tasks": [{"id": "only", "prompt": "x"}]})
    bus.emit(ev.TaskQueued, task="only")
    await store.flush()
    assert tasks_table(store.path, "run-p") == {"only": ("queued", 0, "", None)}


async def test_llm_calls_rows(store: Store, bus_for: Callable[..., EventBus]) -> None:
    busy_run(bus_for(store, "run-l"))
    await store.flush()
    calls = await store.llm_calls("run-l")
    assert [(c["model"], c["tokens_in"], c["cost_usd"]) for c in calls] == [
        ("m", 100, 0.01),
        ("m", 200, 0.02),
        ("local", 5, None),
    ]
    assert all(c["task_id"] == "cli" and c["simulated"] is False for c in calls)
    assert [c["seq"] for c in calls] == sorted(c["seq"] for c in calls)
