"""A whole headless run: 8 tasks over 4 layers, 4 at a time, with one genuine conflict.

Layer 1 holds exactly four tasks, so with four agents the two that edit the same line of
calc/settings.py start from the same base and really conflict.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.e2e.conftest import events_of, git, run_cli, run_plan, worktrees

PLAN = """
goal = "extend calc"

[[tasks]]
id = "version-two"
title = "Bump the version to 2"
prompt = "@write calc/settings.py :: NAME = 'calc'\\\\nVERSION = 2\\\\nDEBUG = False"
files = ["calc/settings.py"]

[[tasks]]
id = "version-three"
title = "Bump the version to 3"
prompt = "@write calc/settings.py :: NAME = 'calc'\\\\nVERSION = 3\\\\nDEBUG = False"
files = ["calc/settings.py"]

[[tasks]]
id = "mul"
title = "Add mul"
prompt = "@append calc/ops.py :: \\\\n\\\\ndef mul(a, b):\\\\n    return a * b"
files = ["calc/ops.py"]

[[tasks]]
id = "docs"
title = "Write usage docs"
role = "doc_writer"
prompt = "@write docs/usage.md :: # Usage\\\\n\\\\nadd and mul."

[[tasks]]
id = "strings"
title = "Add a strings module"
depends_on = ["docs"]
prompt = "@write calc/strings.py :: def shout(s):\\\\n    return s.upper()"

[[tasks]]
id = "test-mul"
title = "Test mul"
role = "tester"
depends_on = ["mul"]
prompt = "@write tests/test_mul.py :: from calc.ops import mul\\\\ndef test_mul(): assert mul(2, 3)"

[[tasks]]
id = "docs-strings"
title = "Document strings"
role = "doc_writer"
depends_on = ["strings"]
prompt = "@append docs/usage.md :: shout() upper-cases."

[[tasks]]
id = "changelog"
title = "Changelog"
depends_on = ["test-mul", "docs-strings"]
prompt = "@write CHANGELOG.md :: - mul\\\\n- strings"
"""


def start_run(
    project: Path, tmp_path: Path, *extra: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """The plan with its two tasks on calc/settings.py left to run at once, and conflict."""
    return run_plan(project, tmp_path, PLAN, "--agents", "4", "--overlaps", "parallel", *extra)


def run_id_of(db: Path) -> str:
    run_id: str = events_of(db)[0]["run_id"]
    return run_id


def test_clean_tasks_merge_and_the_conflict_waits_then_approve(
    project: Path, tmp_path: Path
) -> None:
    head_before = git(project, "rev-parse", "HEAD")
    result, db = start_run(project, tmp_path)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "CONFLICT in calc/settings.py" in result.stdout
    run_id = run_id_of(db)
    events = events_of(db)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    merged = {e["task"] for e in events if e["type"] == "Merged"}
    waiting = [e for e in events if e["type"] == "MergeWaiting"]
    assert len(waiting) == 1
    loser = waiting[0]["task"]
    assert loser in ("version-two", "version-three")
    assert merged == {
        "version-two",
        "version-three",
        "mul",
        "docs",
        "strings",
        "test-mul",
        "docs-strings",
        "changelog",
    } - {loser}
    # Four agents really ran at once at the start.
    started = [e for e in events if e["type"] in ("TaskStarted", "TaskFinished", "TaskFailed")]
    peak = running = 0
    for e in started:
        running += 1 if e["type"] == "TaskStarted" else -1
        peak = max(peak, running)
    assert peak == 4
    # The user's branch and working tree were never touched.
    assert git(project, "rev-parse", "HEAD") == head_before
    assert git(project, "status", "--porcelain") == ""
    assert worktrees(project) == [str(project)]

    listing = run_cli("merges", run_id, "--db", str(db))
    assert loser in listing.stdout and "calc/settings.py" in listing.stdout

    plain = run_cli("approve", run_id, loser, "--db", str(db))
    assert plain.returncode == 2 and "--take ours|theirs" in plain.stderr

    approved = run_cli("approve", run_id, loser, "--take", "theirs", "--db", str(db))
    assert approved.returncode == 0, approved.stderr
    integration = f"maestro/{run_id}"
    settings = git(project, "show", f"{integration}:calc/settings.py")
    expected = "VERSION = 2" if loser == "version-two" else "VERSION = 3"
    assert expected in settings and "<<<<" not in settings
    assert git(project, "show", f"{integration}:CHANGELOG.md") == "- mul\n- strings"
    trailers = git(project, "log", "-1", "--format=%(trailers)", f"maestro-task/{run_id}/mul")
    assert f"Maestro-Run: {run_id}" in trailers and "Maestro-Task: mul" in trailers
    assert "Maestro-Agent: command:fake" in trailers

    runs = run_cli("runs", "--json", "--db", str(db))
    row = json.loads(runs.stdout.splitlines()[0])
    assert row["run_id"] == run_id and row["status"] == "succeeded"
    assert row["tasks_ok"] == 8
    before = run_cli("--db", str(db), "runs", "--json")  # --db before the command works too
    assert before.returncode == 0 and before.stdout == runs.stdout

    landed = run_cli("land", run_id, "--db", str(db))
    assert landed.returncode == 0, landed.stderr
    assert (project / "CHANGELOG.md").exists()
    assert git(project, "status", "--porcelain") == ""


def test_reject_keeps_the_branch_and_review_policy_holds_everything(
    project: Path, tmp_path: Path
) -> None:
    result, db = start_run(project, tmp_path, "--merge", "review")
    assert result.returncode == 3
    run_id = run_id_of(db)
    events = events_of(db)
    waiting = {e["task"] for e in events if e["type"] == "MergeWaiting"}
    assert waiting == {"version-two", "version-three", "mul", "docs"}
    assert not any(e["type"] == "Merged" for e in events)
    rejected = run_cli("reject", run_id, "docs", "--reason", "not needed", "--db", str(db))
    assert rejected.returncode == 0, rejected.stderr
    assert git(project, "rev-parse", "--verify", f"maestro-task/{run_id}/docs")
    events = events_of(db)
    assert events[-1]["type"] == "MergeRejected" and events[-1]["reason"] == "not needed"
    unknown = run_cli("approve", run_id, "nope", "--db", str(db))
    assert unknown.returncode == 2 and "no merge waiting" in unknown.stderr


def test_json_output_is_one_event_per_line(project: Path, tmp_path: Path) -> None:
    result, db = start_run(project, tmp_path, "--json")
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines[0]["type"] == "RunStarted"
    assert lines[-1]["type"] == "RunFinished" and lines[-1]["status"] == "waiting"
    assert [x["seq"] for x in lines] == list(range(1, len(lines) + 1))


def test_retry_runs_the_conflicting_task_again_on_the_current_branch(
    project: Path, tmp_path: Path
) -> None:
    result, db = start_run(project, tmp_path)
    assert result.returncode == 3
    run_id = run_id_of(db)
    loser = next(e["task"] for e in events_of(db) if e["type"] == "MergeWaiting")
    retried = run_cli("retry", run_id, loser, "--db", str(db), "--headless")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    events = events_of(db)
    starts = [e["attempt"] for e in events if e["type"] == "TaskStarted" and e["task"] == loser]
    assert starts == [1, 2]  # a fresh attempt, from the integration branch as it was then
    assert events[-1]["type"] == "RunFinished" and events[-1]["status"] == "succeeded"
    settings = git(project, "show", f"maestro/{run_id}:calc/settings.py")
    assert ("VERSION = 3" if loser == "version-three" else "VERSION = 2") in settings
    unknown = run_cli("retry", run_id, "mul", "--db", str(db), "--headless")
    assert unknown.returncode == 2 and "no merge waiting" in unknown.stderr


def test_serialized_overlaps_never_conflict(project: Path, tmp_path: Path) -> None:
    """By default ([plan] overlaps = "serialize") the two tasks naming calc/settings.py run
    one after the other: the plan says so, nothing conflicts, everything merges."""
    result, db = run_plan(project, tmp_path, PLAN, "--agents", "4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "version-three runs after version-two: both name calc/settings.py" in result.stdout
    events = events_of(db)
    assert not [e for e in events if e["type"] in ("MergeConflict", "MergeWaiting")]
    assert len([e for e in events if e["type"] == "Merged"]) == 8
    plan = next(e for e in events if e["type"] == "PlanProposed")["plan"]
    three = next(t for t in plan["tasks"] if t["id"] == "version-three")
    assert three["after"] == ["version-two"] and three["depends_on"] == []
    steps = [(e["type"], e.get("task")) for e in events]
    assert steps.index(("Merged", "version-two")) < steps.index(("TaskStarted", "version-three"))
    settings = git(project, "show", f"maestro/{run_id_of(db)}:calc/settings.py")
    assert "VERSION = 3" in settings  # the later task in plan order, on top of the earlier
