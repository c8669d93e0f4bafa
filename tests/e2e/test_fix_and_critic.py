"""The fix loop sends red tests back to the same agent; the critic sends work back with comments."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from maestro_tui.agents.base import Reporter
from maestro_tui.agents.reviewers import Critic, Verdict
from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Task, parse_plan
from maestro_tui.domain.state import RunState, RunStatus, TaskStatus
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
from maestro_tui.session.workers import WorkerPool
from maestro_tui.workspace.repo import Workspace
from tests.e2e.conftest import git

BROKEN = "@first write calc/ops.py :: def add(a, b):\\n    return a - b"
FIXED = "@fixing write calc/ops.py :: def add(a, b):\\n    return b + a"


class ScriptedCritic:
    """A reviewer that answers from a list, and records what it was shown."""

    def __init__(self, *verdicts: Verdict) -> None:
        self.verdicts = list(verdicts)
        self.seen: list[tuple[str, str]] = []

    async def review(self, task: Task, diff: str, test_output: str, report: Reporter) -> Verdict:
        self.seen.append((diff, test_output))
        report.usage("critic-model", 100, 10, 0.001)
        return self.verdicts.pop(0)


async def run(
    project: Path, prompt: str, critic: Critic | None = None, **config_changes: Any
) -> tuple[RunState, list[ev.Event]]:
    config = replace(load_config(project), **config_changes)
    bus = EventBus("r-fix")
    log: list[ev.Event] = []
    bus.subscribe(log.append)
    ws = Workspace.open(project)
    setup = RunSetup(ws, config, WorkerPool(config), bus, critic=critic)
    plan = parse_plan({"goal": "g", "tasks": [{"id": "t", "prompt": prompt}]})
    orch = Orchestrator.start(setup, plan, merge_policy="auto", max_agents=1)
    state = await orch.run()
    return state, log


async def test_red_tests_go_back_to_the_agent_and_the_fix_merges(project: Path) -> None:
    state, log = await run(project, f"{BROKEN}\n{FIXED}", fix_attempts=1, retries=0)
    assert state.status is RunStatus.SUCCEEDED, state.tasks["t"].reason
    fixing = [e for e in log if isinstance(e, ev.TaskFixing)]
    assert len(fixing) == 1 and fixing[0].round == 1
    tests = [e.passed for e in log if isinstance(e, ev.TestsRan)]
    assert tests == [False, True]
    assert "return b + a" in git(project, "show", "maestro/r-fix:calc/ops.py")
    # One squashed commit on the task branch, however many rounds it took.
    assert git(project, "rev-list", "--count", "main..maestro-task/r-fix/t") == "1"


async def test_the_fix_loop_gives_up_and_the_task_fails_with_the_output(project: Path) -> None:
    state, log = await run(project, BROKEN.replace("@first ", "@"), fix_attempts=2, retries=0)
    assert state.tasks["t"].status is TaskStatus.FAILED
    assert "tests still fail after 2 fix attempt(s)" in state.tasks["t"].reason
    assert "assert" in state.tasks["t"].reason  # the last test output is kept with the reason
    assert len([e for e in log if isinstance(e, ev.TaskFixing)]) == 2


async def test_without_a_fix_loop_red_results_wait_for_review(project: Path) -> None:
    state, _ = await run(project, BROKEN.replace("@first ", "@"), fix_attempts=0)
    assert state.tasks["t"].status is TaskStatus.WAITING
    assert state.tasks["t"].wait_reasons[0].startswith("tests failed")


async def test_the_critic_sends_work_back_then_approves(project: Path) -> None:
    critic = ScriptedCritic(
        Verdict(False, "add is fine but please also keep the argument order", "critic-model"),
        Verdict(True, "good", "critic-model"),
    )
    prompt = (
        "@first write calc/ops.py :: def add(a, b):\\n    return b + a\n"
        "@fixing write calc/ops.py :: def add(a, b):\\n    return a + b  # order kept"
    )
    state, log = await run(project, prompt, critic=critic, critic_rounds=2)
    verdicts = [e for e in log if isinstance(e, ev.CriticVerdict)]
    assert [v.approved for v in verdicts] == [False, True]
    assert "return b + a" in critic.seen[0][0]  # the critic read the real diff
    assert "passed" in critic.seen[0][1]  # and the test output
    assert state.status is RunStatus.SUCCEEDED
    assert "order kept" in git(project, "show", "maestro/r-fix:calc/ops.py")
    usage = [e for e in log if isinstance(e, ev.LLMUsage)]
    assert [u.model for u in usage] == ["critic-model", "critic-model"]


async def test_the_critic_is_bounded(project: Path) -> None:
    critic = ScriptedCritic(Verdict(False, "no"), Verdict(False, "still no"))
    prompt = "@write calc/extra.py :: X = 1"
    state, log = await run(project, prompt, critic=critic, critic_rounds=1)
    assert len([e for e in log if isinstance(e, ev.CriticVerdict)]) == 1
    assert state.tasks["t"].status is TaskStatus.MERGED  # after its one round it goes on


async def test_files_the_agent_changes_are_reported_as_they_change(project: Path) -> None:
    prompt = (
        "@write calc/new_module.py :: X = 1\n@sleep 0.6\n"
        "@write calc/ops.py :: def add(a, b):\\n    return a + b + 0"
    )
    state, log = await run(project, prompt, fix_attempts=0)
    changed = {(e.path, e.change) for e in log if isinstance(e, ev.FileChanged)}
    assert ("calc/ops.py", "modified") in changed
    assert state.tasks["t"].status is TaskStatus.MERGED
