"""Ensembles: N candidates in their own worktrees; tests decide, then size, then a judge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from maestro_tui.agents.base import Reporter
from maestro_tui.agents.reviewers import Judge
from maestro_tui.config import load_config
from maestro_tui.domain import events as ev
from maestro_tui.domain.plan import Task, parse_plan
from maestro_tui.domain.state import RunState, TaskStatus
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.orchestrator import Orchestrator, RunSetup
from maestro_tui.engine.selection import CandidateResult, select_by_vote, select_tests_first
from maestro_tui.session.workers import WorkerPool
from maestro_tui.workspace.repo import Workspace
from tests.e2e.conftest import git

# Each candidate reads its number from its worktree path (".../t.candN-1") and acts on it.
SCRIPT = """
import os, pathlib, sys
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


class FirstJudge:
    def __init__(self) -> None:
        self.asked: list[list[int]] = []

    async def choose(
        self, task: Task, diffs: Mapping[int, str], report: Reporter
    ) -> tuple[int, str]:
        self.asked.append(sorted(diffs))
        return max(diffs), "the last one reads best"


async def run(
    project: Path, tmp_path: Path, select: str, judge: Judge | None = None, policy: str = "auto"
) -> tuple[Orchestrator, RunState, list[ev.Event]]:
    script = tmp_path / "cand.py"
    script.write_text(SCRIPT)
    config = load_config(project)
    config = replace(config, fix_attempts=0, retries=0)
    (project / "maestro.toml").write_text(
        (project / "maestro.toml").read_text()
        + f'\n[workers.cand]\nargv = ["{__import__("sys").executable}", "{script}"]\n'
    )
    config = replace(load_config(project), fix_attempts=0, retries=0)
    bus = EventBus("r-ens")
    log: list[ev.Event] = []
    bus.subscribe(log.append)
    setup = RunSetup(Workspace.open(project), config, WorkerPool(config), bus, judge=judge)
    plan = parse_plan(
        {"tasks": [{"id": "t", "prompt": "p", "worker": "cand", "candidates": 3, "select": select}]}
    )
    orch = Orchestrator.start(setup, plan, merge_policy=policy, max_agents=2)
    state = await orch.run()
    return orch, state, log


async def test_tests_first_picks_the_smallest_passing_candidate(
    project: Path, tmp_path: Path
) -> None:
    orch, state, log = await run(project, tmp_path, "tests_first")
    finished = {e.candidate: e for e in log if isinstance(e, ev.CandidateFinished)}
    assert set(finished) == {1, 2, 3}
    assert finished[1].tests_passed is False and finished[3].tests_passed is True
    chosen = [e for e in log if isinstance(e, ev.CandidateSelected)]
    assert [(c.candidate, c.method, c.backed_by_tests) for c in chosen] == [
        (3, "tests_first", True)
    ]
    assert state.tasks["t"].status is TaskStatus.MERGED
    assert "return b + a" in git(project, "show", "maestro/r-ens:calc/ops.py")
    # Losing candidates stay as branches to inspect, with their own trailers.
    for n in (1, 2):
        branch = f"maestro-task/r-ens/t.cand{n}"
        assert f"Maestro-Candidate: {n}" in git(project, "log", "-1", "--format=%B", branch)


async def test_llm_judge_decides_among_results(project: Path, tmp_path: Path) -> None:
    judge = FirstJudge()
    _orch, state, log = await run(project, tmp_path, "llm_judge", judge=judge)
    assert judge.asked == [[1, 2, 3]]
    chosen = [e for e in log if isinstance(e, ev.CandidateSelected)][0]
    assert chosen.candidate == 3 and chosen.method == "llm_judge"


async def test_the_human_overrides_the_pick_while_the_merge_waits(
    project: Path, tmp_path: Path
) -> None:
    orch, state, log = await run(project, tmp_path, "tests_first", policy="review")
    assert state.tasks["t"].status is TaskStatus.WAITING
    orch.merges.pick_candidate("t", 2)
    await orch.merges.approve("t")
    assert "total = total + b" in git(project, "show", "maestro/r-ens:calc/ops.py")
    picks = [(e.candidate, e.method) for e in log if isinstance(e, ev.CandidateSelected)]
    assert picks[-1] == (2, "human")
    with pytest.raises(KeyError):
        orch.merges.pick_candidate("t", 1)  # nothing waits any more


def test_selection_rules() -> None:
    r = CandidateResult
    none = select_tests_first([r(1, None), r(2, None)])
    assert none.index is None
    tie = select_tests_first(
        [
            r(1, "a", tests_passed=True, lines_changed=4),
            r(2, "b", tests_passed=True, lines_changed=4),
        ]
    )
    assert tie.index == 1 and tie.tied == (1, 2)
    no_tests = select_tests_first([r(1, "a", lines_changed=9), r(2, "b", lines_changed=3)])
    assert no_tests.index == 2 and not no_tests.backed_by_tests
    vote = select_by_vote([r(1, "a", tree="T1"), r(2, "b", tree="T2"), r(3, "c", tree="T2")])
    assert vote.index == 2 and vote.reason.startswith("2 of 3")
