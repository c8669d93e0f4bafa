"""kill -9 a headless run while the merge gate is testing, then gc and resume: the branch is
green at every commit, every task is merged exactly once, and no worktree is left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import events_of, git, run_cli, worktrees
from tests.e2e.test_crash_resume import count
from tests.support.green import red_commits

TASKS = 6
TEST_COMMAND = (
    f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
)
# Slow only in the gate's scratch worktrees, so the run is killed while a gate test runs.
SLOW_IN_THE_GATE = """\
import time
from pathlib import Path


def test_slow_in_the_gate():
    if Path.cwd().name.startswith("gate-"):
        time.sleep(1.5)
"""


def plan() -> str:
    parts = ['goal = "crash in the gate"\n']
    for i in range(TASKS):
        parts.append(f'[[tasks]]\nid = "t{i}"\nprompt = "@write out/t{i}.txt :: task {i}"\n')
    return "\n".join(parts)


def test_sigkill_while_the_gate_tests_then_resume(project: Path, tmp_path: Path) -> None:
    (project / "tests" / "test_slow.py").write_text(SLOW_IN_THE_GATE)
    git(project, "add", "-A")
    git(project, "commit", "-qm", "a suite that is slow in the gate")
    base = git(project, "rev-parse", "HEAD")
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(plan())
    db = tmp_path / "runs.db"
    argv = [sys.executable, "-m", "maestro_tui", "run", "--plan", str(plan_file)]
    argv += ["--repo", str(project), "--headless", "--agents", "3", "--db", str(db), "--yes"]
    proc = subprocess.Popen(
        [*argv, "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    # Wait until something landed and another merged tree is being tested, then kill hard.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        testing = count(db, "select count(*) from events where type = 'MergeTesting'")
        tested = count(db, "select count(*) from events where type = 'MergeTested'")
        merged = count(db, "select count(*) from events where type = 'Merged'")
        if merged and testing > tested:
            break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    before = events_of(db)
    run_id = before[0]["run_id"]
    merged_before = {e["task"] for e in before if e["type"] == "Merged"}
    assert merged_before and len(merged_before) < TASKS
    assert any(e["type"] == "MergeTesting" for e in before[-10:])
    assert any(Path(w).name.startswith("gate-") for w in worktrees(project))
    # gc, from another process, clears the dead run's scratch worktrees.
    cleaned = run_cli("gc", "--repo", str(project), "--db", str(db))
    assert cleaned.returncode == 0, cleaned.stderr
    assert worktrees(project) == [str(project)]

    resumed = run_cli("resume", run_id, "--db", str(db), "--headless")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = events_of(db)
    assert after[: len(before)] == before
    assert after[-1]["type"] == "RunFinished" and after[-1]["status"] == "succeeded"
    new = after[len(before) :]
    resumed_at = next(i for i, e in enumerate(new) if e["type"] == "RunResumed")
    # A kill between the branch's move and the events' flush: resume reads it from git.
    recovered = {e["task"] for e in new[:resumed_at] if e["type"] == "Merged"}
    landed = merged_before | recovered
    retested = {t for e in new if e["type"] == "MergeTested" for t in e["tasks"]}
    assert retested == {f"t{i}" for i in range(TASKS)} - landed  # tested again, as merged
    restarted = {e["task"] for e in new if e["type"] == "TaskStarted"}
    assert not restarted & landed
    # Git: each task merged exactly once, every first-parent commit green, nothing left over.
    integration = f"maestro/{run_id}"
    trailers = git(
        project,
        "log",
        "--first-parent",
        "--format=%(trailers:key=Maestro-Merged-Task,valueonly)",
        f"{base}..{integration}",
    ).split()
    assert sorted(trailers) == sorted(f"t{i}" for i in range(TASKS))
    files = git(project, "ls-tree", "--name-only", integration, "out/").split()
    assert sorted(files) == sorted(f"out/t{i}.txt" for i in range(TASKS))
    assert red_commits(project, integration, TEST_COMMAND, since=f"{base}^") == []
    assert worktrees(project) == [str(project)]
    assert git(project, "status", "--porcelain") == ""
