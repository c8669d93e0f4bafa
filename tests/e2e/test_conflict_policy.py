"""Conflicts that do not wait for a human: handed to the task's agent (`on_conflict = "agent"`,
or `maestro-tui resolve`), or the task run again (`"retry"`)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import events_of, git, run_cli, run_plan, write_config

# Both edit calc/settings.py from the same base, on neighbouring lines: a genuine conflict
# (run with --overlaps parallel, or the plan would order them and nothing would conflict).
# `three` finishes second, so it is the one that conflicts; sent back with the markers, its
# agent writes the file with both changes kept.
PLAN = """
goal = "version two, and debug on"

[[tasks]]
id = "two"
title = "Version two"
prompt = "@write calc/settings.py :: NAME = 'calc'\\\\nVERSION = 2\\\\nDEBUG = False"
files = ["calc/settings.py"]

[[tasks]]
id = "three"
title = "Debug on"
prompt = \"\"\"@first sleep 0.5
@first write calc/settings.py :: NAME = 'calc'\\\\nVERSION = 1\\\\nDEBUG = True
@fixing write calc/settings.py :: NAME = 'calc'\\\\nVERSION = 2\\\\nDEBUG = True\"\"\"
files = ["calc/settings.py"]
"""
BOTH = "NAME = 'calc'\nVERSION = 2\nDEBUG = True\n"
AT_ONCE = ("--overlaps", "parallel")


def _integration(db: Path) -> str:
    return str(events_of(db)[0]["integration_branch"])


def test_on_conflict_agent_sends_the_conflict_back_and_both_changes_land(
    project: Path, tmp_path: Path
) -> None:
    write_config(project, tmp_path / "fake-state", '[merge]\non_conflict = "agent"\n')
    git(project, "commit", "-qam", "conflicts go to the agent")
    result, db = run_plan(project, tmp_path, PLAN, "--agents", "2", *AT_ONCE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[three] CONFLICT in calc/settings.py" in result.stdout
    events = events_of(db)
    fixing = [e for e in events if e["type"] == "TaskFixing"]
    assert [e["task"] for e in fixing] == ["three"]
    assert fixing[0]["reason"].startswith("Conflict markers (<<<<<<<")
    assert not [e for e in events if e["type"] == "MergeWaiting"]  # nobody had to decide
    assert git(project, "show", f"{_integration(db)}:calc/settings.py") + "\n" == BOTH


def test_on_conflict_retry_runs_the_task_again_on_the_branch(project: Path, tmp_path: Path) -> None:
    write_config(project, tmp_path / "fake-state", '[merge]\non_conflict = "retry"\n')
    git(project, "commit", "-qam", "conflicts rerun")
    result, db = run_plan(
        project, tmp_path, PLAN.replace("@first ", "@"), "--agents", "2", *AT_ONCE
    )
    events = events_of(db)
    started = [e["attempt"] for e in events if e["type"] == "TaskStarted" and e["task"] == "three"]
    assert started == [1, 2], result.stdout  # run again, from the branch as it was then
    assert result.returncode == 0, result.stdout + result.stderr
    withdrawn = [e for e in events if e["type"] == "MergeRejected"]
    assert [e["reason"] for e in withdrawn] == ["withdrawn: it conflicted"]


def test_resolve_hands_a_waiting_conflict_to_the_agent(project: Path, tmp_path: Path) -> None:
    result, db = run_plan(project, tmp_path, PLAN, "--agents", "2", *AT_ONCE)
    assert result.returncode == 3, result.stdout + result.stderr  # waits for the human
    run_id = str(events_of(db)[0]["run_id"])
    unknown = run_cli("resolve", run_id, "two", "--db", str(db))
    assert unknown.returncode == 2 and "has no merge waiting" in unknown.stderr
    resolved = run_cli("resolve", run_id, "three", "--headless", "--db", str(db))
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    assert "[three] sent back to its agent (round 1): Conflict markers" in resolved.stdout
    assert git(project, "show", f"{_integration(db)}:calc/settings.py") + "\n" == BOTH
