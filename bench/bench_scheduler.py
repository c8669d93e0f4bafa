"""Scheduler overhead: a 10,000-node random DAG of no-op tasks, 8 at a time.

Baseline, same run: a bare asyncio ready queue (dependency counts, create_task, a limit).
Targets: ≤ 3× the baseline without the store, ≤ 5× with every event stored.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Plan, Task
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.scheduler import Outcome, Scheduler

NODES = 10_000
LIMIT = 8
REPEATS = 5


def random_dag(n: int, seed: int = 1) -> dict[str, list[str]]:
    rng = random.Random(seed)
    graph: dict[str, list[str]] = {}
    for i in range(n):
        k = rng.randint(0, 3) if i else 0
        graph[f"t{i}"] = [f"t{rng.randrange(max(0, i - 200), i)}" for _ in range(k)] if i else []
    return {node: sorted(set(deps)) for node, deps in graph.items()}


async def baseline(graph: dict[str, list[str]]) -> float:
    """The least a DAG runner can do: counts, a ready list, a concurrency limit."""
    dependents: dict[str, list[str]] = {n: [] for n in graph}
    for node, deps in graph.items():
        for d in deps:
            dependents[d].append(node)
    missing = {n: len(d) for n, d in graph.items()}
    ready = [n for n, m in missing.items() if m == 0]
    tasks: set[asyncio.Task[None]] = set()
    wake = asyncio.Event()
    done = running = 0

    async def work(node: str) -> None:
        nonlocal done, running
        await asyncio.sleep(0)
        done += 1
        running -= 1
        for child in dependents[node]:
            missing[child] -= 1
            if missing[child] == 0:
                ready.append(child)
        wake.set()

    start = time.perf_counter()
    while done < len(graph):
        while ready and running < LIMIT:
            running += 1
            t = asyncio.create_task(work(ready.pop()))
            tasks.add(t)  # keep a reference until it is done
            t.add_done_callback(tasks.discard)
        wake.clear()
        await wake.wait()
    return time.perf_counter() - start


async def scheduled(graph: dict[str, list[str]], db: Path | None) -> float:
    plan = Plan(
        "bench",
        tuple(Task(id=n, title=n, prompt="noop", depends_on=tuple(d)) for n, d in graph.items()),
    )
    bus = EventBus("bench")
    store = None
    if db is not None:
        from maestro_tui.store.db import Store

        store = await Store.open(db)
        bus.subscribe(store.append)

    async def attempt(task: Task, n: int) -> Outcome:
        bus.emit(ev.TaskStarted, task=task.id, attempt=n, worker="noop")
        await asyncio.sleep(0)
        bus.emit(ev.TaskFinished, task=task.id, attempt=n)
        return Outcome.SATISFIED

    start = time.perf_counter()
    await Scheduler(bus, plan, attempt, max_agents=LIMIT).run()
    if store is not None:
        await store.flush()
        elapsed = time.perf_counter() - start
        await store.close()
        return elapsed
    return time.perf_counter() - start


def main() -> dict[str, float]:
    graph = random_dag(NODES)
    runs: dict[str, list[float]] = {"baseline": [], "scheduler": [], "scheduler+store": []}
    with tempfile.TemporaryDirectory() as tmp:
        # Interleaved, best of REPEATS: the machine is shared, and a run that another process
        # slowed down says nothing about the code; each side sees the same moments of load.
        for n in range(REPEATS):
            runs["baseline"].append(asyncio.run(baseline(graph)))
            runs["scheduler"].append(asyncio.run(scheduled(graph, None)))
            runs["scheduler+store"].append(asyncio.run(scheduled(graph, Path(tmp) / f"{n}.db")))
    base, plain, stored = (min(runs[k]) for k in runs)
    per = {
        name: t / NODES * 1e6
        for name, t in (("baseline", base), ("scheduler", plain), ("scheduler+store", stored))
    }
    print(f"scheduler: {NODES} nodes, {LIMIT} at a time")
    print(f"  bare asyncio ready queue   {per['baseline']:7.1f} µs/node")
    print(
        f"  Scheduler, no store        {per['scheduler']:7.1f} µs/node  "
        f"{per['scheduler'] / per['baseline']:.2f}× (target ≤ 3×)"
    )
    print(
        f"  Scheduler, every event stored {per['scheduler+store']:4.1f} µs/node  "
        f"{per['scheduler+store'] / per['baseline']:.2f}× (target ≤ 5×)"
    )
    return per


if __name__ == "__main__":
    main()
