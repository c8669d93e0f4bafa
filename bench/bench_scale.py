"""200 concurrent demo agents in the real dashboard: memory, key latency, no event lost.

    python -m bench.bench_scale [--agents N] [--runs N] [--pace X]

A real session (start_session, as the TUI opens one) of a plan of N independent tasks with
max_agents = N, worked by the offline demo model on a fresh copy of the sample repository,
inside the dashboard app headless (App.run_test). Each task runs in its own git worktree:
the demo coder reads the README, writes a note of its own, runs `git status`, finishes; the
tests are a quick import of the sample package; the gate merges the results as usual. The
demo pace stretches every agent over a few seconds, so all of them work at once.

While they run, keys move the cursor in the task table, open the task's log (enter) and go
back to all agents' (0), and open/close the keys panel (?); each key's latency is press →
the first frame showing its effect (bench_ui's DisplayWatch).
RSS is sampled from /proc/self/status (VmRSS; VmHWM is the peak); per agent =
(peak − RSS just before the run) / N. The store's writer process is a part of the
orchestrator too: its peak (VmHWM) is added before the target is judged. After the run,
the events published on the bus are counted against the store's rows for the run, and
every task's status folded from the store against the live state. Targets: RSS < 300 MB,
key p95 < 100 ms, no event lost. Timings are the best of --runs runs (the machine is
shared).

Measured 2026-11-30 on the shared 2-core machine, `python -m bench scale`, load 3.1-4.4
(others' tests running), 3 runs of ~60 s, 200 agents at once in each, all 200 merged:
    RSS 60 MB before the run -> peak 312-313 MB: MISSED (< 300). 1.26 MB per agent; of
        the 252 MB the run added, 209 MB are litellm's import and first call, paid once
        (probed alone in a fresh process); the rest is 0.21 MB per agent.
    keys p50 11-14 ms, p95 459 ms (best of 3; 464, 464): MISSED (< 100). p95 by key:
        up 55-191, down 69-370, 0 114-493, ? 459-794, enter 543-755 ms.
    events published = stored (4229, 4229, 4204), statuses folded from the store = live: ok.
Before this branch's dashboard changes (same bench, load ~9): p95 704 ms, max 3 s; with
litellm imported on the loop a key once waited 7.5 s. Without any dashboard update at all
(the bridge never fed) p95 was still ~450 ms at load 6.8: the engine's 200 agents share
the UI's event loop and the 2 cores with their git and test subprocesses.

Measured after the store moved to its writer process (one run, load 7.4): RSS peak
310 MB, key p50 9 ms, p95 387 ms, max 1.5 s. Where the loop's time goes (py-spy, 50 Hz):
~40% Textual's screen updates, ~27% the agents (the demo model through litellm, tools, test
runs), ~6% forking subprocesses. Timing Screen._on_timer_update: the ~200 updates that
re-lay the screen out (keys that toggle panels or switch logs, widgets changing size) cost
p50 19 ms, p95 126 ms, max 423 ms of CPU each, and CPU ≈ wall, so they are slow in
themselves, not for want of a core: running every subprocess at nice 10 changed nothing
(p95 403 ms). Partial updates: p50 3 ms, p95 13 ms.

Then litellm stopped loading its tokenizer (39 MB of tiktoken tables, for token counts
maestro-tui takes from the stream): 3 runs, load 3.3-5.1, RSS peak 275-277 MB plus the
writer process's 17 MB = 293 MB: ok. Keys p50 9-10 ms, p95 382 ms best of 3 (426, 427),
max 1.2-2.0 s: MISSED.

Then the garbage collector: 31 full collections in a run, each a 280 ms (p50, max 396 ms)
pause of the loop, walking litellm's ~560k long-lived objects. With them frozen after
litellm's import and first call, and 10,000 allocations between young collections (the
dashboard's setting; Python's default is 700): 2 full collections a run. 3 runs, load
3.6-5.3: RSS 279-280 MB + writer 17 MB = 297 MB: ok. Keys p50 6-8 ms, p95 184 ms best of
3 (212, 221), max 1.0-2.3 s: MISSED, but half of before. Screen updates that re-lay out
now cost p50 11 ms, p95 58 ms, max 192 ms of CPU.

Then where each key's time went, press by press: the app had the key within a few ms, and
then it travelled. A plain binding of the focused task list runs only after the key has gone
on to the table and bubbled back up through every container and the screen to the app, a
turn of the busy loop per step: 100-1400 ms from the app to the action for the slowest
presses. The screen's and the task list's keys became priority bindings, run on the key's
first stop, and the keys panel was drawn over the side instead of narrowing the dashboard
(`?` p95 374 -> ~50 ms): p95 108-131 ms. Of what was left, the loop's own callbacks took
twice their CPU in wall time. Two reasons, both fixed: starting a program on the loop's
thread waits until the child has exec'd, and the child waits for a core (867 starts, 4.2 s
of the run with 0.1 s of CPU; now started from a worker thread); and the loop's thread was
runnable but waiting for a core 8 s of the run, behind git processes started from worker
threads and the programs' sessions, each its own group under Linux's autogroup scheduling
(now all at nice +10, the sessions' groups too). 3 runs at load 12-21 (the shared machine
was busy): RSS 277-278 MB + writer 17 MB = 295 MB: ok. Keys p50 7-8 ms, p95 60 ms best of 3
(70, 61), max 0.3-0.6 s: ok. Events: ok.

Then the file watchers: only 75 of the 200 agents had their write reported (inotify
instances used up at 128, a folder written into as soon as made, agents starting before
their watcher); with those fixed, 200 of 200, and ~90 more events a run. 3 runs, load
11-16: RSS 281 MB + writer 17 MB = 298 MB: ok. Keys p50 7-8 ms, p95 65 ms best of 3 (66,
81), max 0.3-0.7 s: ok. A thread of its own for every watcher cost 8 MB more (303 MB).

Then the run's threads got two malloc arenas to share instead of up to sixteen (glibc's
default on two cores; process/malloc.py). Capped from the process's start
(MALLOC_ARENA_MAX=2), 3 runs at load 7-19: RSS 276-278 MB; capped where a run starts, as
maestro-tui does, 3 runs at load 17-20: 277-279 MB + writer 17 MB = 296 MB (279-281 + 17
without the cap, earlier the same hour). Keys p95 81 ms best of 3 (83, 90) at that load.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_ui import DisplayWatch, p95
from tests.support.scale_run import Published, Tally, running, scale_session, tally

AGENTS, PACE, RUNS = 200, 4.0, 3
RSS_TARGET_MB, KEY_TARGET_MS = 300.0, 100.0
SIZE = (160, 48)
ROOT = Path(__file__).parent.parent


def proc_status_mb(field_name: str, pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Figures:
    agents: int
    seconds: float = 0.0
    baseline_mb: float = 0.0
    peak_mb: float = 0.0
    end_mb: float = 0.0
    writer_mb: float = 0.0  # the store's writer process, peak
    max_running: int = 0
    latencies: list[tuple[str, float]] = field(default_factory=list)
    tally: Tally | None = None

    @property
    def per_agent_mb(self) -> float:
        return (self.peak_mb - self.baseline_mb) / self.agents


# Move down the task table, open the task's log (enter), back up, the combined log again
# (0), then the keys panel open and closed (?): it narrows the dashboard to its condensed
# layout, the heaviest redraw a key causes.
KEYS = ("down", "down", "down", "enter", "up", "up", "up", "0", "question_mark", "question_mark")
CHARACTER = {"question_mark": "?", "0": "0"}


def effect_of(key: str, screen: Any) -> Callable[[], bool]:
    """What the screen shows once `key` has been handled."""
    from maestro_tui.ui.widgets.keys_panel import KeysPanel

    graph, logs = screen.dashboard.graph, screen.dashboard.logs
    if key == "question_mark":
        want = not screen.query(KeysPanel)
        return lambda: bool(screen.query(KeysPanel)) == want
    if key == "enter":
        chosen = graph.selected_task_id
        return lambda: bool(logs.current == chosen)
    if key == "0":
        return lambda: not logs.current
    row = max(0, graph.cursor_row + (1 if key == "down" else -1))
    return lambda: bool(graph.cursor_row == row)


async def press_keys(
    pilot: Any, watch: DisplayWatch, done: asyncio.Event
) -> list[tuple[str, float]]:
    """KEYS over and over until the run ends: (key, seconds from press to its frame)."""
    from textual import events

    app = pilot.app
    screen = app.screen_stack[0]
    latencies: list[tuple[str, float]] = []
    n = 0
    while not done.is_set():
        key = KEYS[n % len(KEYS)]
        n += 1
        frame = watch.next_frame_where(effect_of(key, screen))
        # As a terminal driver does: post the key and go on (Pilot.press would also wait
        # for every widget to go idle, which under load is not what a person waits for).
        t0 = time.perf_counter()
        app.post_message(events.Key(key, CHARACTER.get(key)))
        try:
            latencies.append((key, await asyncio.wait_for(frame, 10.0) - t0))
        except TimeoutError:
            latencies.append((key, 10.0))
        await asyncio.sleep(0.15)  # a person's pace between presses
    return latencies


async def one_run(agents: int, root: Path) -> Figures:
    from maestro_tui.ui.app import MaestroApp
    from maestro_tui.ui.screens.run import RunScreen

    published = Published()
    session = await scale_session(root, agents, published)
    figures = Figures(agents)
    app = MaestroApp(lambda: RunScreen(session, start=False), watch_themes=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.screen_stack[0]
            assert isinstance(screen, RunScreen)
            watch = DisplayWatch(app)
            figures.baseline_mb = proc_status_mb("VmRSS")
            t0 = time.perf_counter()
            screen.start_run()
            sampler = asyncio.create_task(sample(session, figures, published.finished))
            figures.latencies = await press_keys(pilot, watch, published.finished)
            await sampler
            figures.seconds = time.perf_counter() - t0
            figures.peak_mb = proc_status_mb("VmHWM")
            figures.end_mb = proc_status_mb("VmRSS")
            figures.tally = await tally(session, published)
            if session.store.writer_pid is not None:
                figures.writer_mb = proc_status_mb("VmHWM", session.store.writer_pid)
            await pilot.press("q")
            await app.workers.wait_for_complete()
    finally:
        await session.aclose()
    return figures


async def sample(session: Any, figures: Figures, done: asyncio.Event) -> None:
    """How many agents work at once, every 100 ms until the run ends."""
    while not done.is_set():
        figures.max_running = max(figures.max_running, running(session))
        await asyncio.sleep(0.1)


def measure(agents: int) -> dict[str, Any]:
    """One run in this process (fresh, so its peak RSS is its own), as JSON-able figures."""
    with tempfile.TemporaryDirectory() as name:
        f = asyncio.run(one_run(agents, Path(name)))
    assert f.tally is not None
    lat = sorted(x * 1000 for _, x in f.latencies)
    by_key: dict[str, list[float]] = {}
    for key, x in f.latencies:
        by_key.setdefault(key, []).append(x * 1000)
    return {
        "agents": agents,
        "at_once": f.max_running,
        "seconds": f.seconds,
        "baseline_mb": f.baseline_mb,
        "peak_mb": f.peak_mb,
        "end_mb": f.end_mb,
        "writer_mb": f.writer_mb,
        "per_agent_mb": f.per_agent_mb,
        "keys": len(lat),
        "key_p50_ms": statistics.median(lat) if lat else float("nan"),
        "key_p95_ms": p95(lat) if lat else float("nan"),
        "key_max_ms": max(lat, default=float("nan")),
        "key_p95_by_key": {k: p95(sorted(v)) for k, v in by_key.items()},
        **dataclasses.asdict(f.tally),
        "load": os.getloadavg()[0],
    }


# What litellm costs the process once, whatever the number of agents: its import and its
# first call (which loads more of it), measured alone in a fresh interpreter.
LITELLM_PROBE = """
import asyncio, os, sys
os.environ["MAESTRO_DEMO_PACE"] = "0"
sys.path.insert(0, os.getcwd())
from bench.bench_scale import proc_status_mb
from maestro_tui.llm.client import LLMClient
before = proc_status_mb("VmRSS")
tools = [{"type": "function", "function": {"name": "finish", "parameters": {"type": "object"}}}]
asyncio.run(LLMClient("demo/coder").complete([{"role": "user", "content": "hi"}], tools))
print(proc_status_mb("VmHWM") - before)
"""


def litellm_mb() -> float:
    out = subprocess.run(
        [sys.executable, "-c", LITELLM_PROBE], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return float(out.stdout.split()[-1])


def run_fresh(agents: int, pace: float, module: str = "bench.bench_scale") -> dict[str, Any]:
    """One run of `module --one` in a fresh process (its peak RSS its own), its JSON line."""
    env = {**os.environ, "MAESTRO_DEMO_PACE": str(pace)}
    out = subprocess.run(
        [sys.executable, "-m", module, "--one", "--agents", str(agents)],
        capture_output=True, text=True, env=env, cwd=ROOT, check=False,
    )  # fmt: skip
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if out.returncode or not lines:
        raise RuntimeError(f"the run failed ({out.returncode}):\n{out.stdout}{out.stderr}")
    return dict(json.loads(lines[-1]))


def line(r: dict[str, Any]) -> str:
    return (
        f"{r['agents']} agents ({r['at_once']} at once), {r['seconds']:.0f} s, "
        f"{r['merged']} merged ({r['run_status']}) · RSS {r['baseline_mb']:.0f} → peak "
        f"{r['peak_mb']:.0f} MB (+ writer process {r['writer_mb']:.0f} MB),"
        f" {r['per_agent_mb']:.2f} MB/agent · keys {r['keys']}: "
        f"p50 {r['key_p50_ms']:.0f} ms p95 {r['key_p95_ms']:.0f} ms max {r['key_max_ms']:.0f} ms"
        f" (by key: {', '.join(f'{k} {v:.0f}' for k, v in r['key_p95_by_key'].items())})"
        f" · events published {r['published']} stored {r['stored']} · load {r['load']:.1f}"
    )


def verdict(runs: list[dict[str, Any]], litellm: float) -> list[str]:
    """Key latency: the best run (the machine is shared); memory: the worst; events: all."""
    best = min(runs, key=lambda r: r["key_p95_ms"])
    peak = max(r["peak_mb"] for r in runs)
    both = max(r["peak_mb"] + r["writer_mb"] for r in runs)
    per_agent = max(r["per_agent_mb"] for r in runs)
    agents = runs[0]["agents"]
    beyond = max(r["peak_mb"] - r["baseline_mb"] - litellm for r in runs) / agents
    lost = [r["published"] - r["stored"] for r in runs]
    sound = all(
        r["published"] == r["stored"] and not r["differ_by_type"] and r["statuses_equal"]
        for r in runs
    )

    def ok(good: bool) -> str:
        return "ok" if good else "MISSED"

    return [
        f"orchestrator RSS peak {both:.0f} MB with its store's writer process, {peak:.0f} MB"
        f" without (target < {RSS_TARGET_MB:.0f}, judged with) {ok(both < RSS_TARGET_MB)}"
        f" · {per_agent:.2f} MB per agent (peak − RSS before the run) / {agents}; of that,"
        f" litellm's import and first call take {litellm:.0f} MB once (alone in a fresh"
        f" process), the rest is {beyond:.2f} MB per agent",
        f"UI key p95 {best['key_p95_ms']:.0f} ms, p50 {best['key_p50_ms']:.0f} ms, best of"
        f" {len(runs)} (target < {KEY_TARGET_MS:.0f}) {ok(best['key_p95_ms'] < KEY_TARGET_MS)}",
        f"events: published − stored = {lost}, every task's status folded from the store ="
        f" the live state's: {all(r['statuses_equal'] for r in runs)} {ok(sound)}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--agents", type=int, default=AGENTS)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--pace", type=float, default=PACE)
    parser.add_argument("--one", action="store_true", help="one run here, printed as JSON")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.agents)), flush=True)
        return 0
    print(
        f"{args.agents} demo agents at once in the dashboard, pace {args.pace:g}, {args.runs}"
        f" runs, each in a fresh process; load before: {os.getloadavg()[0]:.1f}"
    )
    runs = []
    for n in range(args.runs):
        runs.append(run_fresh(args.agents, args.pace))
        print(f"  run {n + 1}: {line(runs[-1])}", flush=True)
    for text in verdict(runs, litellm_mb()):
        print(f"  {text}")
    print(f"  load after: {os.getloadavg()[0]:.1f}")
    return 0  # like the other benches: a missed target is printed, not an error


if __name__ == "__main__":
    sys.exit(main())
