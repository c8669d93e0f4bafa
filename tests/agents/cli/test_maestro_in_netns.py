"""A whole `maestro-tui run --headless` inside the namespace, starting a real CLI itself.

The same lab as the CLI tests: the model server lives in the namespace, maestro-tui runs in it
with the worker's variables in its environment, and the CLI it starts inherits both.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.agents.cli.helpers import git
from tests.agents.cli_harness import AGENTS, Lab, base_env, run_in_netns
from tests.agents.servers.core import RecordedRequest, ToolCall, Turn
from tests.agents.servers.openai_responses import apply_patch_add

pytestmark = pytest.mark.cli

MakeLab = Callable[..., Lab]
NOTE = "Written by a real agent CLI.\n"

WORKERS = {
    "codex": {
        "argv": [str(AGENTS / "bin" / "codex"), "exec", "--json", "-s", "workspace-write",
                 "--skip-git-repo-check", "--disable", "plugins", "--disable", "remote_plugin",
                 "-m", "gpt-5.5", "{prompt}"],
        "pass_env": ["CODEX_HOME", "LAB_API_KEY"],
    },
    "claude": {
        "argv": [str(AGENTS / "bin" / "claude"), "-p", "{prompt}", "--output-format",
                 "stream-json", "--verbose", "--permission-mode", "acceptEdits",
                 "--model", "claude-sonnet-4-5"],
        "pass_env": ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "DISABLE_TELEMETRY",
                     "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "DISABLE_AUTOUPDATER"],
    },
}  # fmt: skip


def write_note(cli: str) -> Callable[[RecordedRequest], Turn]:
    def step(request: RecordedRequest) -> Turn:
        if cli == "codex":
            return Turn(tool_calls=(ToolCall("apply_patch", apply_patch_add("notes.txt", NOTE)),))
        path = f"{request.workdir}/notes.txt"
        return Turn(tool_calls=(ToolCall("Write", {"file_path": path, "content": NOTE}),))

    return step


def project(root: Path, cli: str) -> Path:
    repo = root / "project"
    repo.mkdir()
    (repo / "README.md").write_text("# project\n")
    worker = WORKERS[cli]
    (repo / "maestro.toml").write_text(
        f'[run]\ndefault_worker = "lab"\nretries = 0\n\n[workers.lab]\n'
        f"argv = {json.dumps(worker['argv'])}\npass_env = {json.dumps(worker['pass_env'])}\n"
        "timeout_s = 120\n"
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "initial")
    return repo


@pytest.mark.parametrize("cli", ["codex", "claude"])
def test_a_headless_run_merges_what_the_real_cli_wrote(
    make_lab: MakeLab, tmp_path: Path, cli: str
) -> None:
    lab = make_lab(cli, [write_note(cli), Turn(text="Added notes.txt.")])
    repo = project(tmp_path, cli)
    plan = tmp_path / "plan.toml"
    plan.write_text(
        '[[tasks]]\nid = "notes"\ntitle = "Add notes"\nprompt = "Create notes.txt."\n'
        'files = ["notes.txt"]\n'
    )
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = base_env(home, tmp, lab.cli.prepare(home, lab.server))
    db = tmp_path / "runs.db"
    argv = [sys.executable, "-m", "maestro_tui", "run", "--plan", str(plan), "--repo", str(repo)]
    run = run_in_netns(
        [*argv, "--headless", "--db", str(db), "--yes"],
        lab.netns,
        cwd=repo,
        env=env,
        timeout_s=120,
    )

    assert lab.server.turns, f"the CLI never called the model:\n{run.stdout}\n{run.stderr}"
    # Not under .git/, where Claude Code refuses every edit (and the run once "succeeded").
    assert "/.git/" not in (lab.server.turns[0].workdir or "")
    assert run.exit_code == 0, run.stdout + run.stderr
    with sqlite3.connect(db) as con:
        (run_id,) = con.execute("select run_id from runs").fetchone()
    merged = subprocess.run(
        ["git", "show", f"maestro/{run_id}:notes.txt"], cwd=repo, capture_output=True, text=True
    )
    assert merged.stdout == NOTE
    assert lab.server.script_errors == []
