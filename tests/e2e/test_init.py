"""`maestro-tui init` in a real git repository: it detects the project and writes a config
that loads, with the test command, setup and copy lines the project needs."""

from __future__ import annotations

import json
from pathlib import Path

from maestro_tui.config import load_config
from tests.e2e.conftest import git, run_cli
from tests.test_detect import LAYOUTS, build

NPM_CI = "npm ci --prefer-offline --no-audit --no-fund"


def test_init_in_an_npm_project_writes_its_test_setup_and_env_file(tmp_path: Path) -> None:
    repo = build(tmp_path / "web", {**LAYOUTS["npm"], ".gitignore": "node_modules/\n.env\n"})
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "initial")
    (repo / ".env").write_text("API_URL=http://localhost:3000\n")  # ignored: not in a worktree

    result = run_cli("init", "--repo", str(repo), timeout=60)

    assert result.returncode == 0, result.stderr
    target = repo / "maestro.toml"
    assert result.stdout.splitlines() == [
        f"wrote {target}",
        f"detected npm: tests `npm test`, setup `{NPM_CI}`, copy .env",
    ]
    config = load_config(repo)
    assert config.path == target
    assert config.test_command == "npm test"
    assert config.worktree_setup == (NPM_CI,)
    assert config.worktree_copy == (".env",)
    text = target.read_text()
    assert "# Detected by `maestro-tui init`: npm\n#   found package-lock.json\n" in text
    assert f"\nsetup = {json.dumps([NPM_CI])}\n" in text

    again = run_cli("init", "--repo", str(repo), timeout=60)  # never overwrites unasked
    assert again.returncode == 2 and "already exists" in again.stderr
    assert target.read_text() == text
