"""Replay: a 1M-event synthetic run played at max speed and sought at random.

The run (mostly AgentOutput, with the task events a real run has: queued, started, tool
calls, file changes, model usage, tests, commits, merges, retries) is emitted on an EventBus
into a Store in a temp dir, on a virtual clock (~2.7 ms of run time per event).
Figures: the Replayer's load; its play at max speed (store read + decode + reduce, in batches
as the replay screen's "max" mode asks: output lines that later lines of their task push out
of a 200-line log pane are skipped) and with every event decoded (the 1×–64× path), against
the raw baseline in the same run (a bare loop applying `reduce` to the same events in memory);
and 20 random seeks (p50 / max).
Each play is measured PLAYS times and the best counts (the machine is shared).
Targets: play ≥ 200k events/s; every seek < 0.3 s.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState, reduce
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.history import Replayer
from maestro_tui.store import Store

EVENTS = 1_000_000
TASKS = [f"task-{n:03d}" for n in range(120)]
CONCURRENT = 8
PLAY_BATCH = 20_000  # events per step at max speed, as the replay screen asks
MAX_SPEED_LINES = 200  # output lines per task the screen keeps at max speed
SEEKS = 20
PLAYS = 3  # each play mode is measured this many times, the best counts
TARGET_RATE = 200_000
TARGET_SEEK_S = 0.3


class Clock:
    """A virtual run clock: each reading moves time on a little."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.0027
        return self.now


def emit_run(bus: EventBus, n: int) -> None:
    """Emit `n` events: 8 tasks at a time, each streaming output between its task events."""
    plan = {"tasks": [{"id": t, "title": f"Work on {t}", "prompt": "do it"} for t in TASKS]}
    emit = bus.emit
    emit(
        ev.RunStarted,
        goal="benchmark replay",
        repo="/tmp/repo",
        base_branch="main",
        base_commit="0" * 40,
        integration_branch="maestro/bench",
        merge_policy="auto",
        max_agents=CONCURRENT,
    )
    emit(ev.PlanProposed, plan=plan)
    emit(ev.PlanApproved)
    lines = [f"{k:>5} compiling src/module_{k}.py … ok, {k % 7} warnings" for k in range(997)]
    per_task = max(200, n // len(TASKS))
    done = 0
    i = 0
    while bus.last_seq < n:
        slot = TASKS[(done + i % CONCURRENT) % len(TASKS)]
        step = (i // CONCURRENT) % per_task
        if step == 0:
            emit(ev.TaskQueued, task=slot)
            emit(ev.TaskStarted, task=slot, attempt=1, worker="llm", branch=f"maestro/b/{slot}")
        elif step % 40 == 0:
            emit(ev.ToolCalled, task=slot, attempt=1, tool="write_file", args="src/x.py")
            emit(ev.FileChanged, task=slot, path=f"src/{slot}.py")
            emit(
                ev.LLMUsage,
                task=slot,
                model="demo",
                tokens_in=900,
                tokens_out=120,
                cost_usd=0.0004,
                latency_s=0.8,
                simulated=True,
            )
        elif step == per_task // 2 and i % 3 == 0:
            emit(
                ev.TestsRan,
                task=slot,
                attempt=1,
                command="pytest -q",
                passed=False,
                exit_code=1,
                n_passed=11,
                n_failed=1,
                output_tail="1 failed",
            )
            emit(ev.TaskFailed, task=slot, attempt=1, reason="tests failed", retry_in_s=1.0)
            emit(ev.TaskStarted, task=slot, attempt=2, worker="llm")
        elif step == per_task - 1:
            emit(
                ev.TestsRan,
                task=slot,
                attempt=2,
                command="pytest -q",
                passed=True,
                exit_code=0,
                n_passed=12,
                n_failed=0,
            )
            emit(ev.TaskCommitted, task=slot, attempt=2, commit="c" * 40, files=("src/x.py",))
            emit(ev.TaskFinished, task=slot, attempt=2, summary="done", commit="c" * 40)
            emit(ev.MergeQueued, task=slot, commit="c" * 40)
            emit(ev.Merged, task=slot, commit="d" * 40)
        else:
            emit(ev.AgentOutput, task=slot, attempt=1, text=lines[i % 997], stream="llm")
        i += 1
        if i % (CONCURRENT * per_task) == 0:
            done += CONCURRENT


async def build(db: Path) -> list[ev.Event]:
    """Write the synthetic run into a store at `db`; return its events for the baseline."""
    store = await Store.open(db)
    events: list[ev.Event] = []
    try:
        bus = EventBus("bench-replay", clock=Clock())
        bus.subscribe(events.append)
        bus.subscribe(store.append)
        emit_run(bus, EVENTS)
        await store.flush()
    finally:
        await store.close()
    return events


def baseline(events: list[ev.Event]) -> float:
    """Seconds for a bare loop applying `reduce` to the events in memory (best of PLAYS)."""
    best = float("inf")
    for _ in range(PLAYS):
        start = time.perf_counter()
        state = RunState()
        for event in events:
            state = reduce(state, event)
        best = min(best, time.perf_counter() - start)
    return best


async def measure(db: Path, count: int) -> dict[str, Any]:
    """Load, play at max speed, and seek at random; return the figures."""
    store = await Store.open(db)
    try:
        start = time.perf_counter()
        replayer = await Replayer.load(store, "bench-replay")
        load_s = time.perf_counter() - start
        assert replayer.count == count, (replayer.count, count)
        play: dict[str, float] = {}
        for _ in range(PLAYS):  # best of PLAYS: the machine is shared
            for mode, lines in (("max", MAX_SPEED_LINES), ("full", None)):
                await replayer.seek_index(0)
                start = time.perf_counter()
                while not replayer.at_end:
                    await replayer.step(PLAY_BATCH, lines=lines)
                took = time.perf_counter() - start
                play[mode] = min(play.get(mode, took), took)
        rng = random.Random(7)
        seeks = []
        for _ in range(SEEKS):
            at = rng.uniform(0, replayer.duration_s)
            start = time.perf_counter()
            await replayer.seek(elapsed=at)
            seeks.append(time.perf_counter() - start)
        return {"load_s": load_s, "play": play, "seeks": seeks, "state": replayer.state}
    finally:
        await store.close()


def main() -> None:
    """Print the replayer's figures beside the raw reducer baseline."""
    with tempfile.TemporaryDirectory(prefix="maestro-bench-replay-") as tmp:
        db = Path(tmp) / "replay.db"
        start = time.perf_counter()
        events = asyncio.run(build(db))
        build_s = time.perf_counter() - start
        raw_s = baseline(events)
        figures = asyncio.run(measure(db, len(events)))
    n = len(events)
    max_rate, full_rate = n / figures["play"]["max"], n / figures["play"]["full"]
    raw_rate = n / raw_s
    seeks = figures["seeks"]
    p50, worst = statistics.median(seeks), max(seeks)
    print(f"run:    {n:,} events written through EventBus -> Store in {build_s:.1f} s")
    print(f"load:   {figures['load_s']:.2f} s ({n / figures['load_s']:,.0f} events/s)")
    print(
        f"max:    {max_rate:,.0f} events/s at max speed, best of {PLAYS} (read + decode + reduce,"
        f" {PLAY_BATCH:,} per step, the last {MAX_SPEED_LINES} lines per task decoded)"
        f" {'ok' if max_rate >= TARGET_RATE else 'BELOW TARGET'}"
    )
    print(f"full:   {full_rate:,.0f} events/s, every event decoded (the 1×–64× path)")
    print(
        f"raw:    {raw_rate:,.0f} events/s, bare reduce loop in memory"
        f" (max = {max_rate / raw_rate:.2f}× raw, full = {full_rate / raw_rate:.2f}× raw)"
    )
    print(
        f"seek:   p50 {p50 * 1000:.0f} ms, max {worst * 1000:.0f} ms over {SEEKS} random seeks"
        f" {'ok' if worst < TARGET_SEEK_S else 'ABOVE TARGET'} (target < {TARGET_SEEK_S} s)"
    )


if __name__ == "__main__":
    main()
