"""Where task worktrees live: outside .git and the user's tree, configurable, and the runs made
when they lived in .git/maestro-worktrees/ still cleaned up, resumed and landed."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from maestro_tui.headless.gc import collect_garbage
from maestro_tui.workspace.landing import land_into
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.worktrees import default_worktree_root
from tests.workspace.conftest import git


def start(ws: Workspace, run: str = "r1", task: str = "t1") -> tuple[Path, str]:
    base = ws.branch_head(f"maestro/{run}") or ws.branch_head(
        ws.create_integration_branch(run, ws.head_commit())
    )
    assert base
    return ws.add_worktree(run, task, 1, base), base


def legacy_worktree(repo: Path, run: str, name: str, branch: str) -> Path:
    """A worktree where maestro-tui used to put them, as an older run left it."""
    path = repo / ".git" / "maestro-worktrees" / run / name
    git(repo, "worktree", "add", "-q", "-b", branch, str(path))
    return path


def test_the_default_place_is_a_folder_per_repository_in_the_user_cache(
    git_repo: Path, tmp_path: Path
) -> None:
    ws = Workspace.open(git_repo)
    cache = Path(os.environ["XDG_CACHE_HOME"])
    root = ws.worktrees_dir()
    assert root == default_worktree_root(ws.common_dir)
    assert root.parent == cache / "maestro-tui" / "worktrees"
    assert root.name.startswith("repo-")
    assert Workspace.open(git_repo).worktrees_dir() == root  # stable for one repository
    twin = tmp_path / "twin" / "repo"
    twin.parent.mkdir()
    git(tmp_path, "clone", "-q", str(git_repo), str(twin))
    assert Workspace.open(twin).worktrees_dir() != root  # same name, another repository


def test_inside_a_worktree_git_behaves_as_in_a_normal_checkout(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    wt, base = start(ws)
    assert git(wt, "rev-parse", "--show-toplevel").strip() == str(wt.resolve())
    assert git(wt, "rev-parse", "HEAD").strip() == base
    assert git(wt, "rev-parse", "--abbrev-ref", "HEAD").strip() == "maestro-task/r1/t1"
    assert git(wt, "status", "--porcelain") == ""
    (wt / "src" / "app.py").write_text("changed\n")
    (wt / "new.txt").write_text("new\n")
    assert git(wt, "status", "--porcelain").splitlines() == [" M src/app.py", "?? new.txt"]
    assert "-line 1" in git(wt, "diff")
    git(wt, "stash", "-u")  # even a stash, which an agent might try
    assert git(wt, "status", "--porcelain") == ""
    assert ws.dirty_paths() == set()  # the user's own tree shows nothing of it


def test_worktree_root_from_the_config_relative_or_home(git_repo: Path, tmp_path: Path) -> None:
    ws = Workspace.open(git_repo)
    ws.set_worktree_root(str(tmp_path / "elsewhere"))
    wt, _ = start(ws)
    assert wt == (tmp_path / "elsewhere" / "r1" / "t1").resolve()
    ws.set_worktree_root("../beside")
    assert ws.worktrees_dir() == (git_repo / ".." / "beside").resolve()
    ws.set_worktree_root("~/wt")
    assert ws.worktrees_dir() == Path(os.path.expanduser("~/wt")).resolve()
    ws.set_worktree_root(None)
    assert ws.worktrees_dir() == default_worktree_root(ws.common_dir)
    # A worktree made under the configured root is still found with the default one.
    assert [w.path for w in ws.list_worktrees()] == [wt]


def test_worktrees_in_the_old_place_are_found_and_their_run_known(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    old = legacy_worktree(git_repo, "20250101-000000-abcd", "t1-1", "maestro-task/old/t1")
    new, _ = start(ws)
    found = {w.path: ws.run_of(w.path) for w in ws.list_worktrees()}
    assert found == {old.resolve(): "20250101-000000-abcd", new.resolve(): "r1"}
    assert ws.run_of(git_repo / "src") is None


def test_gc_removes_old_and_new_worktrees_and_agent_folders_but_nothing_else(
    git_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = Workspace.open(git_repo)
    old = legacy_worktree(git_repo, "20250101-000000-abcd", "t1-1", "maestro-task/old/t1")
    new, _ = start(ws)
    agents = ws.agent_dir("r1", "t1")
    (agents / "tmp").mkdir()
    foreign = ws.worktrees_dir() / "r1" / "notes-of-the-user"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine\n")
    db = tmp_path / "runs.db"
    sqlite3.connect(db).close()

    assert collect_garbage(git_repo, db) == 0
    assert "removed 2 worktree(s)" in capsys.readouterr().out
    assert not old.exists() and not new.exists() and not agents.exists()
    assert (foreign / "keep.txt").read_text() == "mine\n"
    assert ws.list_worktrees() == []
    assert git(git_repo, "worktree", "list").count("\n") == 1  # only the user's own


def test_land_is_not_held_up_by_a_worktree_in_the_old_place(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    head = ws.head_commit()
    ws.create_integration_branch("r9", head)
    wt = legacy_worktree(git_repo, "r9", "t1-1", "maestro-task/r9/t1")
    (wt / "new.txt").write_text("from an older run\n")
    git(wt, "add", "new.txt")
    git(wt, "-c", "user.name=a", "-c", "user.email=a@b", "commit", "-qm", "t1")
    sha = git(wt, "rev-parse", "HEAD").strip()
    assert ws.update_branch("maestro/r9", sha, head)
    landed = land_into(ws, "main", "maestro/r9", "Land r9")
    assert landed == sha and (git_repo / "new.txt").read_text() == "from an older run\n"
