"""The scoreboard over a long history: `stats` and the launcher's tab on 1,000 runs × 20 tasks.

    python -m bench.bench_stats

A store is generated through the real path (EventBus -> Store, so each run's task outcomes
are kept when its RunFinished is committed, as in use): 1,000 runs of 20 tasks on three
workers × models, with tests, fix rounds, conflicts, failures and agent output (~50 events a
task, ~1M events). Its repository is a real git repository holding each run's merges, with
some of them reverted, so that reverts are looked for as `stats` does.

Figures (best of REPEATS):
- `stats` in-process: open the store, check every run's outcomes are current, aggregate,
  look for reverts in git, render. Target ≤ 0.3 s.
- the launcher's scoreboard tab: from choosing the tab to its table filled. Target ≤ 0.3 s.
- `maestro-tui stats` as a command, Python's start-up included (for information).
- the one-off cost when no outcome was kept (a store from before they were): all computed.
Baseline, same store: a bare SQL aggregate over the same events (model calls grouped by
model: count, tokens, cost) on a plain sqlite3 connection; the ratio is stats / baseline.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.store import Store

RUNS, TASKS = 1000, 20
REPEATS = 5
TARGET_S = 0.3
WORKERS = (("claude", "claude-sonnet-4-5"), ("codex", "gpt-5-codex"), ("llm:gpt-4o", "gpt-4o"))
ROLES = ("coder", "tester", "doc_writer", "refactorer")
REVERTED_EVERY = 97  # one merged task in this many is reverted in git
GIT = ["git", "-c", "user.name=Bench", "-c", "user.email=bench@example.invalid"]


def plan(run: int) -> dict[str, Any]:
    tasks = [
        {"id": f"t{n:02d}", "title": f"task {n}", "prompt": "p", "role": ROLES[n % len(ROLES)],
         "files": [f"src/m{n}.py"], "depends_on": [f"t{n - 1:02d}"] if n % 5 else []}
        for n in range(TASKS)
    ]  # fmt: skip
    return {"goal": f"benchmark run {run}", "tasks": tasks}


def emit_run(bus: EventBus, run: int, repo: str, rng: random.Random) -> list[str]:
    """One finished run; returns the tasks that merged."""
    bus.emit(ev.RunStarted, goal=f"benchmark run {run}", repo=repo, base_branch="main",
             base_commit="0" * 40, integration_branch=f"maestro/r{run}", merge_policy="auto",
             max_agents=4)  # fmt: skip
    bus.emit(ev.PlanProposed, plan=plan(run))
    workers = {f"t{n:02d}": WORKERS[(run + n) % len(WORKERS)][0] for n in range(TASKS)}
    bus.emit(ev.RunConfigured, settings="{}", workers=workers)
    bus.emit(ev.PlanApproved)
    merged = []
    for n in range(TASKS):
        task = f"t{n:02d}"
        worker, model = WORKERS[(run + n) % len(WORKERS)]
        bus.emit(ev.TaskQueued, task=task)
        bus.emit(ev.TaskStarted, task=task, attempt=1, worker=worker)
        green = rng.random() < 0.7
        for turn in range(5):
            bus.emit(ev.LLMUsage, task=task, model=model, tokens_in=2000 + turn,
                     tokens_out=300, cost_usd=0.003, attempt=1)  # fmt: skip
            bus.emit(ev.AgentOutput, task=task, attempt=1, text=f"turn {turn}: editing src")
            bus.emit(ev.ToolCalled, task=task, attempt=1, tool="write_file", args="src/x.py")
            bus.emit(ev.AgentOutput, task=task, attempt=1, text="running the tests … ok")
        bus.emit(ev.TestsRan, task=task, attempt=1, command="pytest -q", passed=green,
                 exit_code=0 if green else 1, n_passed=40, n_failed=0 if green else 2)  # fmt: skip
        if not green:
            bus.emit(ev.TaskFixing, task=task, attempt=1, round=1, reason="2 failed")
            green = rng.random() < 0.8
            bus.emit(ev.TestsRan, task=task, attempt=1, command="pytest -q", passed=green,
                     exit_code=0 if green else 1, n_passed=42, n_failed=0)  # fmt: skip
        if not green:
            bus.emit(ev.TaskFailed, task=task, attempt=1, reason="tests still fail")
            continue
        bus.emit(ev.TaskCommitted, task=task, attempt=1, commit="c" * 40, files=("src/x.py",),
                 insertions=12, deletions=3)  # fmt: skip
        bus.emit(ev.TaskFinished, task=task, attempt=1, commit="c" * 40)
        bus.emit(ev.MergeQueued, task=task, commit="c" * 40)
        if rng.random() < 0.05:
            bus.emit(ev.MergeConflict, task=task, files=("src/x.py",))
        bus.emit(ev.MergeTesting, tasks=(task,), commit="e" * 40, tree="f" * 40)
        bus.emit(ev.MergeTested, tasks=(task,), commit="e" * 40, tree="f" * 40, passed=True,
                 n_passed=42, n_failed=0)  # fmt: skip
        bus.emit(ev.Merged, task=task, commit="d" * 40)
        merged.append(task)
    bus.emit(ev.RunFinished, status="succeeded", merged=len(merged), failed=0, waiting=0)
    return merged


def make_repo(path: Path, merges: list[tuple[str, str]]) -> None:
    """A repository with one commit per merged task (its trailers), then git-style reverts
    of one in REVERTED_EVERY (the message is what `stats` reads)."""
    path.mkdir()
    subprocess.run([*GIT, "init", "-q", "-b", "main"], cwd=path, check=True)
    messages = [
        f"Merge task {task}\n\nMaestro-Run: {run}\nMaestro-Merged-Task: {task}\n"
        for run, task in merges
    ]
    _import(path, messages, 1_700_000_000)
    shas = subprocess.run(["git", "rev-list", "--reverse", "main"], cwd=path, check=True,
                          capture_output=True, text=True).stdout.split()  # fmt: skip
    reverts = [
        f'Revert "Merge task"\n\nThis reverts commit {sha}.\n' for sha in shas[::REVERTED_EVERY]
    ]
    _import(path, reverts, 1_800_000_000, start=len(messages))
    subprocess.run([*GIT, "reset", "-q", "--hard", "main"], cwd=path, check=True)


def _import(path: Path, messages: list[str], when: int, start: int = 0) -> None:
    """Commits on main with these messages, each changing one file, through fast-import."""
    lines = []
    for n, body in enumerate(messages, start=start):
        lines += ["commit refs/heads/main", f"committer Bench <b@e.invalid> {when + n} +0000",
                  f"data {len(body.encode())}", body]  # fmt: skip
        if n == start and start:
            lines.append("from refs/heads/main^0")
        lines += [f"M 644 inline f{n % 50}", f"data {len(str(n)) + 1}", f"{n}\n"]
    stream = "\n".join(lines) + "\n"
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=stream, text=True,
                   check=True)  # fmt: skip


async def generate(db: Path, repo: Path) -> tuple[int, int]:
    """The store and its repository; (events, reverts made)."""
    rng = random.Random(22)
    store = await Store.open(db)
    merges: list[tuple[str, str]] = []
    try:
        for run in range(RUNS):
            run_id = f"20250101-{run:06d}-bnch"
            bus = EventBus(run_id)
            bus.subscribe(store.append)
            merges += [(run_id, t) for t in emit_run(bus, run, str(repo), rng)]
            if run % 50 == 49:
                await store.flush()
        await store.flush()
    finally:
        await store.close()
    make_repo(repo, merges)
    with sqlite3.connect(db) as con:
        (count,) = con.execute("SELECT count(*) FROM events").fetchone()
    return count, len(merges[::REVERTED_EVERY])


def best(fn: Any, repeats: int = REPEATS) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def stats_in_process(db: Path, repo: Path) -> Any:
    from maestro_tui.headless.stats import render
    from maestro_tui.session.scoreboard import load_scoreboard

    board = asyncio.run(load_scoreboard(db, None, str(repo)))
    render(board)
    return board


def raw_aggregate(db: Path) -> list[Any]:
    with sqlite3.connect(db) as con:
        return con.execute(
            "SELECT json_extract(data, '$.model'), count(*), sum(json_extract(data,"
            " '$.tokens_in')), sum(json_extract(data, '$.cost_usd')) FROM events"
            " WHERE type = 'LLMUsage' GROUP BY 1"
        ).fetchall()


async def tab_open_s(db: Path, repo: Path) -> float:
    """From choosing the launcher's scoreboard tab to its rows shown (a headless app)."""
    from textual.app import App
    from textual.widgets import TabbedContent

    from maestro_tui.ui.screens.launcher import LauncherScreen
    from maestro_tui.ui.widgets.scoreboard import Scoreboard

    class Launcher(App[None]):
        def get_default_screen(self) -> LauncherScreen:
            return LauncherScreen(db, repo)

    app = Launcher()
    async with app.run_test(size=(160, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        board = app.screen.query_one(Scoreboard)
        start = time.perf_counter()
        app.screen.query_one(TabbedContent).active = "scores-tab"
        while board.board is None or board.table.row_count == 0:
            await pilot.pause(0.001)
        elapsed = time.perf_counter() - start
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="maestro-bench-stats-") as tmp:
        db, repo = Path(tmp) / "runs.db", Path(tmp) / "repo"
        start = time.perf_counter()
        events, reverts = asyncio.run(generate(db, repo))
        print(f"store: {RUNS:,} runs × {TASKS} tasks, {events:,} events, {reverts} reverts in"
              f" git; generated in {time.perf_counter() - start:.1f} s")  # fmt: skip
        raw_s, _ = best(lambda: raw_aggregate(db))
        stats_s, board = best(lambda: stats_in_process(db, repo))
        assert sum(s.tasks for s in board.scores) > RUNS * TASKS * 0.9
        assert sum(s.reverted or 0 for s in board.scores) == reverts
        tab_s = min(asyncio.run(tab_open_s(db, repo)) for _ in range(3))
        cli = [sys.executable, "-m", "maestro_tui", "stats", "--db", str(db)]
        cli_s, _ = best(lambda: subprocess.run(cli, capture_output=True, check=True), 3)
        with sqlite3.connect(db) as con:
            con.execute("DELETE FROM task_outcomes")
            con.execute("DELETE FROM outcome_runs")
        cold_s, _ = best(lambda: stats_in_process(db, repo), 1)
    groups = len(board.scores)
    print(f"raw:   bare SQL aggregate of the model calls over the events: {raw_s * 1e3:.0f} ms")
    verdict = "ok" if stats_s <= TARGET_S else "OVER TARGET"
    print(f"stats: {groups} worker × model × role rows, reverts from git: {stats_s * 1e3:.0f} ms"
          f" (target <= {TARGET_S * 1e3:.0f} ms) {verdict}")  # fmt: skip
    verdict = "ok" if tab_s <= TARGET_S else "OVER TARGET"
    print(f"tab:   the launcher's scoreboard tab, chosen to filled: {tab_s * 1e3:.0f} ms"
          f" (target <= {TARGET_S * 1e3:.0f} ms) {verdict}")  # fmt: skip
    print(f"cli:   `maestro-tui stats`, Python's start-up included: {cli_s * 1e3:.0f} ms")
    print(f"cold:  every run's outcomes computed from its events first: {cold_s:.1f} s, once")
    print(f"ratio: stats / raw aggregate = {stats_s / raw_s:.2f}")


if __name__ == "__main__":
    main()
