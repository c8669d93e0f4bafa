"""Overlaps: what ordering tasks that name a common file costs, against the conflicts it avoids.

Two plans, each run three ways, best of ROUNDS (the rounds interleave the variants), real
runs through the orchestrator, headless:

- the demo: its 13 tasks on the sample repository, the offline demo model at pace 0 (six
  pairs name shop/pricing.py; two of them really conflict when run at once);
- a generated project of MODULES modules with a test each, and a 20-task plan whose tasks
  rewrite modules with a scripted command worker (tests/support/fake_agent.py, AGENT_S seconds of
  "work" each), OVERLAPS pairs of them rewriting the same module with no order between them.

The three ways, merge review time counted in none:
- serialize ([plan] overlaps = "serialize"): each overlapping pair ordered, nothing to review;
- parallel, review (today's behaviour): a conflicting result waits for a person; a headless
  run ends there, so the clock stops with that task, and whatever depends on it, not done;
- parallel, retry (`[merge] on_conflict = "retry"`): the same decision taken at once, the
  task run again on the branch as it is: what merging the whole plan costs in parallel.

Reported: merge conflicts (tasks that met one), merged tasks and wall time. Targets: no
conflict with serialize, and its wall time within 1.2x of parallel's.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROUNDS = int(os.environ.get("BENCH_OVERLAPS_ROUNDS", "3"))
VARIANTS = {  # name: ([plan] overlaps, [merge] on_conflict)
    "serialize": ("serialize", "review"),
    "parallel, review": ("parallel", "review"),
    "parallel, retry": ("parallel", "retry"),
}
MODULES = 36
AGENTS = 4
AGENT_S = float(os.environ.get("BENCH_OVERLAPS_AGENT_S", "5.0"))
DEMO_PACE = os.environ.get("BENCH_OVERLAPS_DEMO_PACE", "0")  # 1: as `maestro-tui demo` shows it
FAKE_AGENT = Path(__file__).parent.parent / "tests" / "support" / "fake_agent.py"
# (task, module) rewrites; pairs sharing a module have no order unless DEPENDS says so.
REWRITES = [
    ("parse-dates", 0), ("parse-times", 0), ("cache-keys", 4), ("cache-ttl", 4),
    ("auth-tokens", 8), ("auth-scopes", 8), ("log-format", 12), ("log-levels", 12),
    ("cli-flags", 15), ("cli-help", 15),
    *((f"module-{m:02d}", m) for m in (1, 2, 3, 5, 6, 7, 9, 10, 11, 13)),
]  # fmt: skip
DEPENDS = {
    "module-01": ("parse-dates",),
    "module-05": ("cache-keys",),
    "module-09": ("auth-tokens",),
}
OVERLAPS = 5
TEST = "def test_{n}():\n    from pkg.m{n:02d} import f{n}\n    assert f{n}() is not None\n"


@dataclass
class Result:
    conflicts: int
    merged: int
    tasks: int
    wall_s: float


def git(repo: Path, *args: str) -> None:
    ident = ["-c", "user.name=bench", "-c", "user.email=bench@example.invalid"]
    subprocess.run(["git", *ident, "-C", str(repo), *args], check=True, capture_output=True)


def make_project(path: Path) -> Path:
    """A package of MODULES modules, one test each, committed on main."""
    (path / "pkg").mkdir(parents=True)
    (path / "tests").mkdir()
    (path / "pkg" / "__init__.py").write_text("")
    for n in range(MODULES):
        (path / "pkg" / f"m{n:02d}.py").write_text(f"def f{n}():\n    return {n}\n")
        (path / "tests" / f"test_m{n:02d}.py").write_text(TEST.format(n=n))
    (path / "conftest.py").write_text("")
    (path / ".gitignore").write_text("__pycache__/\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "a project of a few dozen modules")
    return path


def project_plan() -> dict[str, Any]:
    tasks = []
    for task_id, module in REWRITES:
        body = f"def f{module}():\\n    return '{task_id}'"
        prompt = f"@sleep {AGENT_S}\n@write pkg/m{module:02d}.py :: {body}"
        tasks.append(
            {
                "id": task_id,
                "title": f"rewrite m{module:02d} for {task_id}",
                "prompt": prompt,
                "files": [f"pkg/m{module:02d}.py"],
                "depends_on": list(DEPENDS.get(task_id, ())),
            }
        )
    return {"goal": "twenty rewrites", "tasks": tasks}


def project_config(policy: str, on_conflict: str) -> Any:
    from maestro_tui.config import parse_config

    tests = f"{sys.executable} -m pytest -q -p no:cacheprovider"
    return parse_config(
        {
            "run": {"max_agents": AGENTS, "default_worker": "fake", "retries": 0},
            "tests": {"command": tests, "timeout_s": 120},
            "merge": {"on_conflict": on_conflict},
            "plan": {"overlaps": policy},
            "workers": {"fake": {"argv": [sys.executable, str(FAKE_AGENT), "{prompt}"]}},
        }
    )


async def run_plan(
    repo: Path, config: Any, plan_data: dict[str, Any], env: dict[str, str]
) -> Result:
    """One headless run of the plan, arranged as `config` says; timed until it ends."""
    from maestro_tui.domain import events as ev
    from maestro_tui.domain.overlaps import arrange_overlaps
    from maestro_tui.domain.plan import parse_plan
    from maestro_tui.domain.state import TaskStatus
    from maestro_tui.engine.bus import EventBus
    from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
    from maestro_tui.session.workers import WorkerPool
    from maestro_tui.workspace.repo import Workspace

    bus = EventBus(f"bench-{config.plan_overlaps}")
    events: list[ev.Event] = []
    bus.subscribe(events.append)
    ws = Workspace.open(repo)
    plan = arrange_overlaps(parse_plan(plan_data), config.plan_overlaps)
    setup = RunSetup(ws, config, WorkerPool(config), bus, env=env)
    started = time.perf_counter()
    orch = Orchestrator.start(setup, plan, merge_policy="auto", max_agents=AGENTS)
    state = await orch.run()
    wall = time.perf_counter() - started
    await orch.aclose()
    return Result(
        conflicts=len({e.task for e in events if isinstance(e, ev.MergeConflict)}),
        merged=state.count(TaskStatus.MERGED),
        tasks=len(state.tasks),
        wall_s=wall,
    )


def run_demo(policy: str, on_conflict: str, where: Path) -> Result:
    from maestro_tui.config import with_overrides
    from maestro_tui.llm.demo.script import demo_plan
    from maestro_tui.session.plans import prepare_demo

    os.environ["MAESTRO_DEMO_PACE"] = DEMO_PACE
    demo = prepare_demo(
        dest=where,
        db_path=where.parent / "unused.db",
        max_agents=AGENTS,
        merge_policy="auto",
        on_conflict=on_conflict,
    )
    config = with_overrides(demo.config, plan_overlaps=policy)
    plan = {"goal": "the demo", **demo_plan()}
    return asyncio.run(run_plan(demo.ws.root, config, plan, demo.env))


def run_project(policy: str, on_conflict: str, where: Path) -> Result:
    repo = make_project(where)
    env = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    config = project_config(policy, on_conflict)
    return asyncio.run(run_plan(repo, config, project_plan(), env))


SCENARIOS = {
    f"demo (13 tasks, demo model, pace {DEMO_PACE})": run_demo,
    f"project ({len(REWRITES)} tasks, {OVERLAPS} overlapping pairs, {AGENT_S:g} s each)": (
        run_project
    ),
}


def main() -> dict[str, dict[str, Result]]:
    best: dict[str, dict[str, Result]] = {name: {} for name in SCENARIOS}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(ROUNDS):
            for s, (name, run) in enumerate(SCENARIOS.items()):
                for v, (variant, settings) in enumerate(VARIANTS.items()):
                    result = run(*settings, Path(tmp) / f"{n}-{s}-{v}")
                    kept = best[name].get(variant)
                    if kept is None or result.wall_s < kept.wall_s:
                        best[name][variant] = result
    print(f"overlaps: serialize vs parallel, {AGENTS} agents, best of {ROUNDS} (wall time)")
    for name, results in best.items():
        print(name)
        for variant, r in results.items():
            print(
                f"  {variant:<17} conflicts {r.conflicts}  merged {r.merged:>2}/{r.tasks}"
                f"  wall {r.wall_s:5.1f} s"
            )
        serial = results["serialize"]
        ratios = {v: serial.wall_s / results[v].wall_s for v in VARIANTS if v != "serialize"}
        ok = serial.conflicts == 0 and ratios["parallel, retry"] <= 1.2
        print(
            "  serialize / parallel wall time: "
            + ", ".join(f"{ratio:.2f} ({v.split(', ')[1]})" for v, ratio in ratios.items())
            + f" (target <= 1.2); conflicts with serialize {serial.conflicts} (target 0):"
            f" {'ok' if ok else 'MISS'}"
        )
    return best


if __name__ == "__main__":
    main()
