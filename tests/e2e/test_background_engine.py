"""A run's engine in a process of its own (issue 21), driven by real processes on the demo:
two clients at once, a merge decided once, stop from anywhere, SIGKILL shown at once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import TaskStatus
from maestro_tui.engine.merge import MergeRefused
from maestro_tui.session.attached import AttachedRun
from maestro_tui.session.liveness import STOPPED, driver_pid, truthful
from maestro_tui.store import RunSummary, Store
from tests.support.engine_runs import Engine, demo_engine

pytestmark = pytest.mark.slow

WAIT_S = 120.0


@pytest.fixture
async def engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    monkeypatch.setenv("MAESTRO_DEMO_PACE", "0.3")
    async with demo_engine(tmp_path) as running:
        yield running


async def _until(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_two_clients_see_the_same_run_and_a_merge_is_decided_once(engine: Engine) -> None:
    first = await AttachedRun.attach(engine.db, engine.run_id)
    second = await AttachedRun.attach(engine.db, engine.run_id)
    seen: list[ev.Event] = []
    second.subscribe(seen.append)
    try:
        assert not first.state.plan_approved and first.plan.tasks
        await first.send("start")
        await _until(lambda: second.state.waiting_merges, "a merge waiting for review")
        task = second.state.waiting_merges[0].id
        decided = await asyncio.gather(
            first.send("approve", task=task, resolution="theirs"),
            second.send("approve", task=task, resolution="theirs"),
            return_exceptions=True,
        )
        refused = [d for d in decided if isinstance(d, Exception)]
        assert len(refused) == 1, decided  # decided once; the other is told why
        assert isinstance(refused[0], KeyError | MergeRefused | ValueError)
        await _until(lambda: first.state.tasks[task].status.satisfied, "the approved merge")
        approvals = [e for e in seen if isinstance(e, ev.MergeApproved) and e.task == task]
        assert len(approvals) == 1
        assert first.state.tasks[task].status == second.state.tasks[task].status
        await first.stop()
        assert second.gone.is_set() or await asyncio.wait_for(second.gone.wait(), 10)
    finally:
        await first.aclose()
        await second.aclose()
    await _until(lambda: driver_pid(engine.db, engine.run_id) is None, "the engine to end")
    store = await Store.open_read_only(engine.db)
    summary = await store.get_run(engine.run_id)
    await store.close()
    assert summary is not None and summary.status == "interrupted"


async def test_an_engine_killed_with_sigkill_reads_stopped_within_a_second(
    engine: Engine,
) -> None:
    run = await AttachedRun.attach(engine.db, engine.run_id)
    try:
        await run.send("start")
        await _until(lambda: run.state.count(TaskStatus.RUNNING) > 0, "agents at work")
        os.kill(engine.pid, signal.SIGKILL)
        killed = time.monotonic()
        await asyncio.wait_for(run.gone.wait(), 1.0)  # the client knows at once
        await _until(lambda: driver_pid(engine.db, engine.run_id) is None, "the lock dropped")
        store = await Store.open_read_only(engine.db)
        try:
            assert (await _listed(store, engine))[0].status == STOPPED
        finally:
            await store.close()
        assert time.monotonic() - killed < 1.0
    finally:
        await run.aclose()
    listed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "maestro_tui", "runs", "--db", str(engine.db)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    line = next(line for line in listed.stdout.splitlines() if engine.run_id in line)
    assert STOPPED in line and "running" not in line


async def _listed(store: Store, engine: Engine) -> list[RunSummary]:
    runs = truthful(await store.list_runs(), engine.db)
    return [r for r in runs if r.run_id == engine.run_id]


async def test_reject_from_the_command_line_is_a_command_to_the_engine(engine: Engine) -> None:
    """`maestro-tui reject` while an engine drives the run: not refused for the run's lock,
    but sent to the engine, which records it as the dashboard's reject would be."""
    run = await AttachedRun.attach(engine.db, engine.run_id)
    try:
        await run.send("start")
        await _until(lambda: run.state.waiting_merges, "a merge waiting for review")
        task = run.state.waiting_merges[0].id
        cli = [sys.executable, "-m", "maestro_tui", "reject", engine.run_id, task]
        done = await asyncio.to_thread(
            subprocess.run,
            [*cli, "--reason", "not this way", "--db", str(engine.db)],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"rejected {task}" in done.stdout
        await _until(lambda: run.state.tasks[task].status.settled, "the rejection")
        assert run.state.tasks[task].status.value == "rejected"
        await run.stop()
    finally:
        await run.aclose()
