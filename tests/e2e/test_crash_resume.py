"""kill -9 a headless run mid-flight, then resume it: nothing lost, nothing redone, nothing left."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.conftest import events_of, git, worktrees

TASKS = 10


def crash_plan() -> str:
    parts = ['goal = "crash me"\n']
    for i in range(TASKS):
        deps = f'depends_on = ["t{i - 4}"]\n' if i >= 4 else ""
        parts.append(
            f'[[tasks]]\nid = "t{i}"\n{deps}'
            f'prompt = "@sleep 0.4\\n@write out/t{i}.txt :: task {i}"\n'
        )
    return "\n".join(parts)


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(db)
    try:
        found: int = con.execute(sql).fetchone()[0]
        return found
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()


def test_sigkill_mid_run_then_resume_finishes_consistently(project: Path, tmp_path: Path) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text(crash_plan())
    db = tmp_path / "runs.db"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "maestro_tui",
            "run",
            "--plan",
            str(plan),
            "--repo",
            str(project),
            "--headless",
            "--agents",
            "3",
            "--db",
            str(db),
            "--yes",
            "--quiet",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    # Wait until some work is merged and more is running, then kill the whole group hard.
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        merged = count(db, "select count(*) from events where type = 'Merged'")
        if merged >= 2 and count(db, "select count(*) from tasks where status = 'running'"):
            break
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    before = events_of(db)
    run_id = before[0]["run_id"]
    merged_before = {e["task"] for e in before if e["type"] == "Merged"}
    assert merged_before and len(merged_before) < TASKS
    assert [e["seq"] for e in before] == list(range(1, len(before) + 1))
    # As if an older maestro-tui had made the run: its worktrees in .git/maestro-worktrees/.
    # (One the kill caught half made, or the gate's trial tree, may not move: it stays.)
    legacy = project / ".git" / "maestro-worktrees" / run_id
    legacy.mkdir(parents=True)
    moved = [
        path
        for path in worktrees(project)[1:]
        if subprocess.run(
            ["git", "-C", str(project), "worktree", "move", "--force", path,
             str(legacy / f"{Path(path).name}-1")],
            capture_output=True,
        ).returncode == 0
    ]  # fmt: skip
    assert moved, "the crash left no worktree to move to the old place"

    resumed = subprocess.run(
        [sys.executable, "-m", "maestro_tui", "resume", run_id, "--db", str(db), "--headless"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr

    after = events_of(db)
    # Every event committed before the crash is still there, unchanged, and numbering goes on.
    assert after[: len(before)] == before
    assert [e["seq"] for e in after] == list(range(1, len(after) + 1))
    assert any(e["type"] == "RunResumed" for e in after[len(before) :])
    # Settled tasks were not redone.
    restarted = {e["task"] for e in after[len(before) :] if e["type"] == "TaskStarted"}
    assert not restarted & merged_before
    merged_all = {e["task"] for e in after if e["type"] == "Merged"}
    assert merged_all == {f"t{i}" for i in range(TASKS)}
    assert after[-1]["type"] == "RunFinished" and after[-1]["status"] == "succeeded"
    # Git: every task's file is on the integration branch exactly once; no worktree is left.
    integration = f"maestro/{run_id}"
    files = git(project, "ls-tree", "--name-only", f"{integration}", "out/").split()
    assert sorted(files) == sorted(f"out/t{i}.txt" for i in range(TASKS))
    merges = git(project, "log", "--first-parent", "--format=%s", integration).splitlines()
    assert len([m for m in merges if m.startswith("Merge task")]) == TASKS
    assert worktrees(project) == [str(project)]
    assert git(project, "status", "--porcelain") == ""
