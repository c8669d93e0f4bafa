"""After kill -9 the log is a gapless prefix and the tables agree; a dead writer is loud."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import maestro_tui
from maestro_tui.domain import events as ev
from maestro_tui.domain.state import fold
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store, StoreError
from tests.store.store_events import start_run, table

# Runs in a child process: 1000+ events flushed, then thousands more in small batches while
# the writer commits some of them, then SIGKILL with a batch in flight or still buffered.
CRASH_SCRIPT = """
import asyncio, os, signal, sys
from pathlib import Path
from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store

TASKS = [f"t{n}" for n in range(20)]

def round_of(bus, n):
    task = TASKS[n % len(TASKS)]
    attempt = n // len(TASKS) + 1
    bus.emit(ev.TaskQueued, task=task)
    bus.emit(ev.TaskStarted, task=task, attempt=attempt, worker="llm")
    for line in range(3):
        bus.emit(ev.AgentOutput, task=task, attempt=attempt, text=f"round {n} line {line}")
    bus.emit(ev.LLMUsage, task=task, model="m", tokens_in=10, tokens_out=2, cost_usd=0.001)
    if n % 3 == 0:
        bus.emit(ev.TaskFailed, task=task, attempt=attempt, reason=f"r{n}", retry_in_s=1.0)
    else:
        bus.emit(ev.TaskFinished, task=task, attempt=attempt, commit=f"c{n}")
        bus.emit(ev.MergeQueued, task=task, commit=f"c{n}")
        if n % 3 == 1:
            bus.emit(ev.MergeWaiting, task=task, reasons=(f"why {n}",))
        else:
            bus.emit(ev.Merged, task=task, commit=f"m{n}")

async def main(path):
    store = await Store.open(Path(path), batch_size=64)
    bus = EventBus("crash-run")
    bus.subscribe(store.append)
    plan = {"tasks": [{"id": t, "prompt": "p"} for t in TASKS]}
    bus.emit(ev.RunStarted, goal="g", repo="/r", base_branch="main", base_commit="b",
             integration_branch="maestro/crash-run", merge_policy="review", max_agents=4)
    bus.emit(ev.PlanProposed, plan=plan)
    bus.emit(ev.PlanApproved)
    n = 0
    while bus.last_seq < 1000:
        round_of(bus, n)
        n += 1
    await store.flush()
    print(bus.last_seq, flush=True)
    for _ in range(500):
        round_of(bus, n)
        n += 1
        if n % 5 == 0:
            await asyncio.sleep(0)  # let the writer commit some batches
    round_of(bus, n)  # with no yield after it: these are still buffered at the kill
    print(bus.last_seq, store.writer_pid, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(sys.argv[1]))
"""


def _alive(pid: int) -> bool:
    """Running, neither gone nor a zombie (an orphan's new parent may never reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.slow
async def test_kill_9_leaves_a_gapless_prefix_and_consistent_tables(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    root = str(Path(maestro_tui.__file__).parent.parent)
    env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CRASH_SCRIPT,
        str(db),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    async with asyncio.timeout(120):
        out, err = await proc.communicate()
    assert proc.returncode == -signal.SIGKILL, err.decode()
    flushed, emitted, writer = map(int, out.split())
    # The writer process outlives the kill only to commit what it was sent (then its pipe
    # ends): wait for it, so the checks below see the database it leaves.
    async with asyncio.timeout(30):
        while _alive(writer):  # noqa: ASYNC110 - another process's orphan: nothing to await
            await asyncio.sleep(0.02)

    store = await Store.open(db)
    try:
        events = await store.load_events("crash-run")
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(seqs) + 1)), "no gap"
        assert flushed <= len(seqs) < emitted, "flushed events kept; the buffered tail lost"

        state = fold(events)
        tasks = {
            r[0]: r[1:]
            for r in table(db, 'SELECT task_id, status, attempts, reason, "commit" FROM tasks')
        }
        assert tasks == {
            t.id: (t.status.value, t.attempts, t.reason, t.commit) for t in state.tasks.values()
        }
        usage = [e for e in events if isinstance(e, ev.LLMUsage)]
        assert table(db, "SELECT count(*), max(seq) FROM llm_calls") == [
            (len(usage), usage[-1].seq)
        ]
        started = sum(isinstance(e, ev.TaskStarted) for e in events)
        assert table(db, "SELECT count(*) FROM attempts") == [(started,)]
        merge_status = {ev.MergeQueued: "queued", ev.MergeWaiting: "waiting", ev.Merged: "merged"}
        last_merge = {
            e.task: merge_status[type(e)]
            for e in events
            if isinstance(e, ev.MergeQueued | ev.MergeWaiting | ev.Merged)
        }
        assert {m.task_id: m.status for m in await store.merges("crash-run")} == last_merge
    finally:
        await store.close()


async def test_writer_death_surfaces_on_flush_append_and_not_again_on_close(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    bus = bus_for(store)
    start_run(bus)
    await store.flush()
    duplicate = bus.emit(ev.TaskQueued, task="cli")
    store.append(duplicate)  # same run and seq twice: the batch cannot commit

    with pytest.raises(StoreError, match="UNIQUE constraint.*resume the run") as caught:
        await store.flush()
    assert isinstance(caught.value.__cause__, Exception)
    with pytest.raises(StoreError, match="writing events to .* failed"):
        bus.emit(ev.TaskQueued, task="docs")
    with pytest.raises(StoreError):
        await store.flush()
    # Nothing of the failed batch was written.
    assert [e.seq for e in await store.load_events(bus.run_id)] == [1, 2, 3]


async def test_writer_death_nobody_saw_is_raised_by_close(
    tmp_path: Path, bus_for: Callable[..., EventBus]
) -> None:
    store = await Store.open(tmp_path / "maestro.db")
    bus = bus_for(store)
    store.append(bus.emit(ev.PlanApproved))
    with pytest.raises(StoreError, match="UNIQUE constraint"):
        await store.close()


async def test_an_event_that_is_not_json_stops_the_log(
    store: Store, bus_for: Callable[..., EventBus]
) -> None:
    bus = bus_for(store)
    start_run(bus)
    with pytest.raises(StoreError, match=r"PlanProposed #4 cannot be stored as JSON.*Path"):
        bus.emit(ev.PlanProposed, plan={"tasks": [], "where": Path("/x")})
    with pytest.raises(StoreError):  # later events would leave a gap: refused too
        bus.emit(ev.PlanApproved)
