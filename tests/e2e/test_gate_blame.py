"""Blame where it belongs: red tests that the integration branch shares are not the task's."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import parse_plan
from maestro_tui.domain.state import TaskStatus
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
from maestro_tui.headless.printer import format_event
from maestro_tui.session.workers import WorkerPool
from maestro_tui.workspace.repo import Workspace
from tests.e2e.conftest import git

BROKEN_BASE = "def test_the_base_is_broken():\n    assert False\n"
OWN_FAILURE = "@first write tests/test_own.py :: def test_own():\\n    assert 1 == 2"
OWN_FIXED = "@fixing write tests/test_own.py :: def test_own():\\n    assert 1 == 1"


async def test_a_red_base_is_recorded_and_not_charged_to_the_tasks(project: Path) -> None:
    (project / "tests" / "test_base.py").write_text(BROKEN_BASE)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a red test, from outside the run")
    base = git(project, "rev-parse", "HEAD")
    config = replace(load_config(project), fix_attempts=1, retries=0)
    bus = EventBus("r-base")
    log: list[ev.Event] = []
    bus.subscribe(log.append)
    setup = RunSetup(Workspace.open(project), config, WorkerPool(config), bus)
    plan = parse_plan(
        {
            "goal": "g",
            "tasks": [
                # Fails only what the base fails: not its fault.
                {"id": "innocent", "prompt": "@write calc/extra.py :: X = 1"},
                # Fails a test of its own too: charged one fix round; then only the base's.
                {"id": "guilty", "prompt": f"{OWN_FAILURE}\n{OWN_FIXED}"},
            ],
        }
    )
    orch = Orchestrator.start(setup, plan, merge_policy="auto", max_agents=2)
    state = await orch.run()
    await orch.aclose()

    [red] = [e for e in log if isinstance(e, ev.BaseRed)]  # the base tested once, not per task
    assert red.commit == base and "test_the_base_is_broken" in red.output_tail
    assert red.found_by in ("innocent", "guilty")
    assert state.base_red == base  # for the dashboard
    assert "integration branch is RED" in format_event(red)
    fixing = [e.task for e in log if isinstance(e, ev.TaskFixing)]
    assert fixing == ["guilty"]  # the innocent was never charged; the guilty once, for its own
    for task_id in ("innocent", "guilty"):
        task = state.tasks[task_id]
        assert task.status is TaskStatus.WAITING  # nothing green can land on a red base
        assert "not charged to this task" in task.reason
    assert not [e for e in log if isinstance(e, ev.MergeTesting)]  # never sent to the gate
