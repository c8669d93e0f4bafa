"""A real ensemble run held for review: three candidates on a temp git repo, tests deciding.

Like tests/e2e/test_ensembles.py: each candidate reads its number from its worktree's name;
1 breaks the tests, 2 is correct but long, 3 is correct and small (tests_first picks 3).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import parse_plan
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
from maestro_tui.session.workers import WorkerPool
from maestro_tui.workspace.repo import Workspace
from tests.ui.conftest import commit_all, git

SCRIPT = """
import pathlib
n = int(pathlib.Path.cwd().name.split(".cand")[1].split("-")[0])
ops = pathlib.Path("calc/ops.py")
if n == 1:   # breaks the tests
    ops.write_text("def add(a, b):\\n    return a - b\\n")
elif n == 2:  # correct, but long-winded
    ops.write_text("def add(a, b):\\n    total = a\\n    total = total + b\\n    return total\\n")
else:         # correct and small
    ops.write_text("def add(a, b):\\n    return b + a\\n")
print(f"candidate {n} wrote ops.py")
"""
RUN_ID = "r-ens"
# A test command without pytest: fast, and it prints counts the way pytest does.
CHECK = (
    "import sys; sys.path.insert(0, '.'); from calc.ops import add; ok = add(2, 3) == 5; "
    "print('1 passed' if ok else '1 failed'); sys.exit(0 if ok else 1)"
)


@dataclass
class EnsembleRun:
    orch: Orchestrator
    repo: Path
    events: list[ev.Event]

    def show(self, path: str) -> str:
        return git(self.repo, "show", f"{self.orch.state.integration_branch}:{path}")


def make_project(tmp_path: Path) -> Path:
    repo = tmp_path / "project"
    (repo / "calc").mkdir(parents=True)
    (repo / "calc" / "__init__.py").write_text("")
    (repo / "calc" / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    (repo / ".gitignore").write_text("__pycache__/\n")
    script, check = tmp_path / "cand.py", tmp_path / "check.py"
    script.write_text(SCRIPT)
    check.write_text(CHECK)
    (repo / "maestro.toml").write_text(
        f"""
[run]
default_worker = "cand"

[tests]
command = "{sys.executable} {check}"

[workers.cand]
argv = ["{sys.executable}", "{script}"]
"""
    )
    return commit_all(repo)


@asynccontextmanager
async def ensemble_run(tmp_path: Path) -> AsyncIterator[EnsembleRun]:
    """Run one task as an ensemble of three under the "review" policy, until its merge waits."""
    repo = make_project(tmp_path)
    config = replace(load_config(repo), fix_attempts=0, retries=0)
    bus = EventBus(RUN_ID)
    events: list[ev.Event] = []
    bus.subscribe(events.append)
    setup = RunSetup(Workspace.open(repo), config, WorkerPool(config), bus)
    plan = parse_plan(
        {"tasks": [{"id": "t", "title": "Fix add", "prompt": "p", "candidates": 3,
                    "select": "tests_first"}]}
    )  # fmt: skip
    orch = Orchestrator.start(setup, plan, merge_policy="review", max_agents=2)
    await orch.run()
    yield EnsembleRun(orch, repo, events)
