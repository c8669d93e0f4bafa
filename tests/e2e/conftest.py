"""Real git repositories and a real CLI in subprocesses or in-process."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

FAKE_AGENT = Path(__file__).parent.parent / "support" / "fake_agent.py"
# For [sandbox]: the fake agent is a script in this checkout, which may be anywhere (under /tmp,
# which the sandbox empties, in a CI clone): shown read-only, as a user shows an agent script
# kept in a hidden place.
SHOW_FAKE_AGENT = f'read_only = ["{FAKE_AGENT.parent}"]\n'

GIT_ID = [
    "-c",
    "user.name=Test User",
    "-c",
    "user.email=test@example.invalid",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "commit.gpgsign=false",
]


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", *GIT_ID, "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def write_config(repo: Path, state: Path, extra: str = "") -> None:
    (repo / "maestro.toml").write_text(
        f"""
[run]
default_worker = "fake"
retries = 1
retry_backoff_s = 0.05

[tests]
command = "env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
timeout_s = 120

[workers.fake]
argv = ["{sys.executable}", "{FAKE_AGENT}", "{{prompt}}"]
env = {{ FAKE_STATE = "{state}" }}
{extra}
"""
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small Python project with a passing test suite, committed on main."""
    repo = tmp_path / "project"
    (repo / "calc").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "calc" / "__init__.py").write_text("")
    (repo / "calc" / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    (repo / "calc" / "settings.py").write_text("NAME = 'calc'\nVERSION = 1\nDEBUG = False\n")
    (repo / "tests" / "test_ops.py").write_text(
        "from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"
    )
    (repo / "conftest.py").write_text("")
    (repo / ".gitignore").write_text("__pycache__/\n")
    state = tmp_path / "fake-state"
    state.mkdir()
    write_config(repo, state)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    return repo


def run_cli(
    *args: str, cwd: Path | None = None, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(env or {})}
    env.pop("MAESTRO_TUI_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "maestro_tui", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def run_plan(
    project: Path, tmp_path: Path, plan_text: str, *extra: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Write a plan file and run it headless, reviewed with --yes, into tmp_path/runs.db."""
    plan = tmp_path / "plan.toml"
    plan.write_text(plan_text)
    db = tmp_path / "runs.db"
    result = run_cli(
        "run",
        "--plan",
        str(plan),
        "--repo",
        str(project),
        "--headless",
        "--db",
        str(db),
        "--yes",
        *extra,
    )
    return result, db


def events_of(db: Path, run_id: str | None = None) -> list[dict[str, Any]]:
    con = sqlite3.connect(db)
    try:
        if run_id is None:
            run_id = con.execute("select run_id from runs order by created_at desc").fetchone()[0]
        rows = con.execute(
            "select seq, type, data from events where run_id = ? order by seq", (run_id,)
        ).fetchall()
    finally:
        con.close()
    return [{"run_id": run_id, "seq": s, "type": t, **json.loads(d)} for s, t, d in rows]


def worktrees(repo: Path) -> list[str]:
    out = git(repo, "worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]
