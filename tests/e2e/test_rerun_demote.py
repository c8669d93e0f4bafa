"""A re-run cannot take over a result that needs what runs again: that task runs again too,
and the re-run says so. And a re-run of a run that is not there, or of a task that is not in
its plan, writes nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.e2e.conftest import events_of, git, run_cli

# `later` does not depend on `first`, but it starts once `first` has merged (`mid`, before it,
# waits until the test says so), so its change is made on top of `first`'s file.
PLAN = """
[[tasks]]
id = "first"
title = "First"
prompt = "@write notes.txt :: one"

[[tasks]]
id = "after-first"
title = "After first"
prompt = "@write after.txt :: after"
depends_on = ["first"]

[[tasks]]
id = "mid"
title = "Mid"
prompt = "@wait-for {go}\\n@write mid.txt :: mid"

[[tasks]]
id = "later"
title = "Later"
prompt = "@write notes.txt :: two"
depends_on = ["mid"]
"""


def run_in_order(project: Path, tmp_path: Path) -> tuple[Path, str]:
    """The plan run to the end, `mid` let go once `first` has merged."""
    go = tmp_path / "go"
    plan, db = tmp_path / "plan.toml", tmp_path / "runs.db"
    plan.write_text(PLAN.replace("{go}", str(go)))
    env = {k: v for k, v in os.environ.items() if k != "MAESTRO_TUI_DB"}
    args = ["run", "--plan", str(plan), "--repo", str(project), "--headless", "--yes"]
    with subprocess.Popen(
        [sys.executable, "-m", "maestro_tui", *args, "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
        text=True,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            if "[first] merged" in line:
                go.write_text("go")
        assert proc.wait(timeout=120) == 0
    return db, events_of(db)[0]["run_id"]


def test_a_result_that_needs_a_rerun_task_runs_again(project: Path, tmp_path: Path) -> None:
    db, source = run_in_order(project, tmp_path)
    merged = [e["task"] for e in events_of(db) if e["type"] == "Merged"]
    assert merged.index("first") < merged.index("later")
    again = run_cli("rerun", source, "--from", "first", "--headless", "--db", str(db))
    # Run side by side again, first and later both write notes.txt: one waits for review.
    assert again.returncode in (0, 3), again.stdout[-2000:] + again.stderr
    assert "later runs again after all: its result conflicts in notes.txt" in again.stdout
    with sqlite3.connect(db) as con:
        (rerun,) = con.execute("SELECT run_id FROM runs WHERE rerun_of = ?", (source,)).fetchone()
    events = events_of(db, rerun)
    (link,) = [e for e in events if e["type"] == "RerunOf"]
    assert link["rerun"] == ["first", "after-first", "later"] and link["taken_over"] == ["mid"]
    assert [e["task"] for e in events if e["type"] == "TaskTakenOver"] == ["mid"]
    branch = events[0]["integration_branch"]
    assert git(project, "show", f"{branch}:mid.txt") == "mid"
    started = {e["task"] for e in events if e["type"] == "TaskStarted"}
    assert "later" in started and "mid" not in started  # later ran again; mid did not


def test_bad_reruns_write_nothing(project: Path, tmp_path: Path) -> None:
    db, source = run_in_order(project, tmp_path)
    branches = git(project, "branch", "--list", "maestro/*")
    for args, why in (
        (("no-such-run",), "no run 'no-such-run'"),
        ((source, "--from", "nope"), "no task 'nope' in the plan"),
        ((source, "--worker", "nobody"), "--worker nobody: no such worker"),
        ((source, "--set", "merge.policy=maybe"), "policy must be one of"),
        ((source, "--from", "first", "--keep", "after-first"), "cannot keep after-first"),
    ):
        refused = run_cli("rerun", *args, "--headless", "--db", str(db))
        assert refused.returncode == 2 and why in refused.stderr, (args, refused.stderr)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    assert git(project, "branch", "--list", "maestro/*") == branches
