"""First paint, each in a fresh process, headless at 160×48, best of 5 or 3 (bench_ui part (c)).

    python -m bench.first_paint

- `maestro-tui run --plan FILE --yes` on a small git repository: the real command, from the
  interpreter's start to the first frame of the dashboard (target ≤ 0.6 s);
- `maestro-tui resume RUN` of a recorded run with 20k lines of agent output, likewise;
- `maestro-tui run GOAL` and `maestro-tui demo`: the planning view, before the preflight and
  the planner (the demo's takes ~20 s; before the planning view they painted only after it);
- the launcher (`maestro-tui`), against a bare Textual app;
- `maestro-tui --help` (target ≤ 0.2 s), against bare Python.

The probes run `maestro_tui.cli.main` itself, with the terminal checks answering yes and the
app headless; they exit at the first frame, so what the session does after it is not counted.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).parent.parent
TARGET_S = 0.6

PAINT = """
import os, sys
{setup}
from {module} import {base}
class Probe({base}):
    def _display(self, screen, renderable):
        super()._display(screen, renderable)
        if renderable is not None:
            assert "litellm" not in sys.modules, "litellm was imported before the first paint"
            print("PAINTED", flush=True)
            os._exit(0)  # at once: what runs after the first frame is not measured
{make}
print("exited without painting", flush=True)
"""

# The CLI on a "terminal": the checks say yes, and the app runs headless at a fixed size.
CLI_PAINT = """
import os, sys
sys.stdout.isatty = sys.stdin.isatty = lambda: True
from maestro_tui.ui.app import MaestroApp
run_async, display = MaestroApp.run_async, MaestroApp._display
def headless(self, **kwargs):
    return run_async(self, headless=True, size=(160, 48))
def probe(self, screen, renderable):
    display(self, screen, renderable)
    if renderable is not None:
        assert "litellm" not in sys.modules, "litellm was imported before the first paint"
        print("PAINTED", flush=True)
        os._exit(0)  # at once: what runs after the first frame is not measured
MaestroApp.run_async, MaestroApp._display = headless, probe
from maestro_tui import cli
cli.main(sys.argv[1:])
print("exited without painting", flush=True)
"""
LAUNCHER_PAINT = PAINT.format(
    setup="import pathlib, tempfile",
    module="maestro_tui.ui.app",
    base="MaestroApp",
    make="from maestro_tui.ui.screens.launcher import LauncherScreen\n"
    "d = pathlib.Path(tempfile.mkdtemp())\n"
    "Probe(lambda: LauncherScreen(d / 'runs.db', d), watch_themes=False).run(headless=True, "
    "size=(160, 48))",
)
BARE_PAINT = PAINT.format(
    setup="", module="textual.app", base="App", make="Probe().run(headless=True, size=(160, 48))"
)


def git(repo: Path, *args: str) -> None:
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run(["git", *ident, "-C", str(repo), *args], check=True, capture_output=True)


OUTPUT_LINES = 20_000  # a modest run's agent output: reopening reads every event


async def recorded_run(repo: Path, plan: Path, db: Path) -> str:
    """A run recorded and left with OUTPUT_LINES lines of agent output, for `resume`."""
    from maestro_tui.config import load_config
    from maestro_tui.domain import events as ev
    from maestro_tui.domain.plan import load_plan
    from maestro_tui.session.lifecycle import start_session
    from maestro_tui.workspace.repo import Workspace

    ws = Workspace.open(repo)
    session = await start_session(
        ws=ws, config=load_config(ws.root), plan=load_plan(plan), db_path=db
    )
    for n in range(OUTPUT_LINES):
        session.orch.bus.emit(ev.AgentOutput, task="first", attempt=1, text=f"line {n}")
    await session.aclose()
    return session.state.run_id


def wall(argv: list[str], until: str | None = None) -> float:
    # Bytecode as an installed copy has it (pip compiles at install; a checkout's first run
    # writes it): with PYTHONDONTWRITEBYTECODE every start compiles the package again.
    drop = ("COLUMNS", "LINES", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(ROOT)
    t0 = time.perf_counter()
    out = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    elapsed = time.perf_counter() - t0
    if until is not None and until not in out.stdout:
        raise RuntimeError(f"{argv[:3]} did not print {until!r}: {out.stdout}{out.stderr}")
    return elapsed


def best_of(n: int, argv: list[str], until: str | None = None) -> float:
    return min(wall(argv, until) for _ in range(n))


def main() -> None:
    python = sys.executable
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        repo, plan, db = tmp / "repo", tmp / "plan.toml", tmp / "runs.db"
        repo.mkdir()
        (repo / "app.py").write_text("X = 1\n")
        (repo / "maestro.toml").write_text('[llm]\nmodel = "demo"\n')  # a model is named
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "first")
        plan.write_text('goal = "bench"\n[[tasks]]\nid = "first"\nprompt = "p"\n')
        run_id = asyncio.run(recorded_run(repo, plan, db))
        # Files, not -c: Textual finds an App's CSS relative to the file defining it.
        probes = {}
        for key, text in (("cli", CLI_PAINT), ("launcher", LAUNCHER_PAINT), ("bare", BARE_PAINT)):
            probes[key] = tmp / f"paint_{key}.py"
            probes[key].write_text(text)
        cli = [python, str(probes["cli"])]
        run = best_of(5, [*cli, "run", "--plan", str(plan), "--repo", str(repo),
                          "--db", str(db), "--yes"], "PAINTED")  # fmt: skip
        resume = best_of(5, [*cli, "resume", run_id, "--db", str(db)], "PAINTED")
        goal = best_of(5, [*cli, "run", "bench goal", "--repo", str(repo), "--db", str(db)],
                       "PAINTED")  # fmt: skip
        demo = min(
            wall([*cli, "demo", "--dir", str(tmp / f"demo-{n}"), "--db", str(db)], "PAINTED")
            for n in range(5)
        )
        launcher = best_of(3, [python, str(probes["launcher"])], "PAINTED")
        bare = best_of(3, [python, str(probes["bare"])], "PAINTED")
    help_s = best_of(3, [python, "-m", "maestro_tui", "--help"])
    bare_py = best_of(3, [python, "-c", "pass"])

    def ok(s: float) -> str:
        return "ok" if s <= TARGET_S else "ABOVE TARGET"

    print(f"(c) first paint in a fresh process, headless, best of 5 (target ≤ {TARGET_S} s)")
    print(f"    maestro-tui run --plan FILE: dashboard {run:.3f} s {ok(run)} · {run / bare:.2f}×"
          f" a bare Textual app ({bare:.3f} s) · the session opens after it")  # fmt: skip
    print(f"    maestro-tui resume RUN: dashboard {resume:.3f} s {ok(resume)}"
          f" · {resume / bare:.2f}× bare")  # fmt: skip
    print(f"    maestro-tui run GOAL: planning view {goal:.3f} s {ok(goal)}"
          f" · {goal / bare:.2f}× bare · the preflight and the planner after it")  # fmt: skip
    print(f"    maestro-tui demo: planning view {demo:.3f} s {ok(demo)} · {demo / bare:.2f}× bare")
    print(f"    maestro-tui (the launcher) {launcher:.3f} s · {launcher / bare:.2f}× bare"
          " · litellm and the engine not imported")  # fmt: skip
    print(f"    maestro-tui --help {help_s:.3f} s (target ≤ 0.2 s) · bare python {bare_py:.3f} s"
          f" · {help_s / bare_py:.2f}×")  # fmt: skip


if __name__ == "__main__":
    main()
