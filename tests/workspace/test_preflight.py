"""The preflight on real repositories: what cannot run is refused, a red base is reported
with its failing tests, and nothing is left behind either way."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from maestro_tui.config import Config
from maestro_tui.workspace.preflight import PreflightRefused, preflight
from maestro_tui.workspace.repo import Workspace

PYTEST = f"{sys.executable} -m pytest -q -p no:cacheprovider"
GIT = ["git", "-c", "user.name=T", "-c", "user.email=t@example.invalid"]


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "tests" / "test_a.py").write_text(
        "def test_one():\n    assert True\n\n\ndef test_two():\n    assert 1 + 1 == 3\n"
    )
    (repo / ".gitignore").write_text(".env\n")
    (repo / ".env").write_text("X=1\n")
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "init"], check=True)
    workspace = Workspace.open(repo)
    workspace.set_worktree_root(tmp_path / "worktrees")
    return workspace


def commit(repo: Path, message: str) -> None:
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", message], check=True)


def config(**changes: object) -> Config:
    return replace(Config(), test_command=PYTEST, test_timeout_s=60, **changes)  # type: ignore[arg-type]


def left_behind(ws: Workspace) -> list[str]:
    root = ws.worktrees_dir()
    found = [str(p) for p in root.iterdir()] if root.exists() else []
    return found + [str(w.path) for w in ws.all_worktrees() if w.path != ws.root.resolve()]


async def test_a_red_base_is_reported_with_its_failing_tests(ws: Workspace) -> None:
    said: list[str] = []
    found = await preflight(ws, config(), ws.head_commit(), dict(os.environ), say=said.append)
    assert found is not None and found.red
    assert found.failing == {"tests/test_a.py::test_two"}
    assert "RED (1 passed, 1 failed" in found.summary()
    assert left_behind(ws) == []


async def test_the_tree_is_prepared_like_a_tasks(ws: Workspace) -> None:
    check = "import os, sys; sys.exit(0 if open('.env').read() == 'X=1\\n' else 1)"
    green = replace(config(), test_command=f'{sys.executable} -c "{check}"')
    found = await preflight(ws, replace(green, worktree_copy=(".env",)), ws.head_commit(), {})
    assert found is not None and not found.red
    found = await preflight(ws, green, ws.head_commit(), {})  # no copy: no .env
    assert found is not None and found.red


@pytest.mark.parametrize(
    ("command", "setup", "said"),
    [
        ("no-such-runner -q", (), "cannot run: test command not found"),
        (f"{sys.executable} -c 'raise SystemExit(127)'", (), "exited with code 127"),
        (PYTEST, ("no-such-installer ci",), "'no-such-installer' is not installed"),
        (PYTEST, (f"{sys.executable} -c 'raise SystemExit(3)'",), "exited with code 3"),
    ],
)
async def test_what_cannot_run_is_refused_and_leaves_nothing(
    ws: Workspace, command: str, setup: tuple[str, ...], said: str
) -> None:
    bad = config(worktree_setup=setup)
    bad = replace(bad, test_command=command)
    with pytest.raises(PreflightRefused, match=said):
        await preflight(ws, bad, ws.head_commit(), dict(os.environ))
    assert left_behind(ws) == []


async def test_packages_installed_from_outside_the_tree_are_refused(
    ws: Workspace, tmp_path: Path
) -> None:
    """A plain (not editable) install of the project in the environment: the tests would
    import the installed copy whatever an agent changes."""
    src = ws.root / "src" / "shopkit"
    src.mkdir(parents=True)
    (src / "__init__.py").write_text("")
    commit(ws.root, "src")
    installed = tmp_path / "site" / "shopkit"
    installed.mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    with pytest.raises(PreflightRefused, match="shopkit -> .*site/shopkit"):
        await preflight(ws, config(), ws.head_commit(), env)
    assert left_behind(ws) == []
