"""Workspace against real repositories: opening, dirty checks, worktrees, commits, landing."""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from maestro_tui.workspace import Workspace, WorkspaceError
from maestro_tui.workspace.landing import land_into
from tests.workspace.conftest import commit_file, git, make_repo

TRAILERS = {"Maestro-Run": "r1", "Maestro-Task": "t1", "Maestro-Agent": "coder"}


def start_task(ws: Workspace, task: str = "t1", attempt: int = 1) -> tuple[Path, str]:
    """An integration branch for run r1 (if needed) and a worktree for `task` on it."""
    base = ws.branch_head("maestro/r1") or ws.branch_head(
        ws.create_integration_branch("r1", ws.head_commit())
    )
    assert base
    return ws.add_worktree("r1", task, attempt, base), base


# --- open ----------------------------------------------------------------------------------


def test_open_missing_path(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"does not exist: pass --repo PATH"):
        Workspace.open(tmp_path / "nope")


def test_open_not_a_repo(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"is not a git repository: run `git init`"):
        Workspace.open(tmp_path)


def test_open_repo_without_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    with pytest.raises(WorkspaceError, match=r"has no commit yet: commit something first"):
        Workspace.open(tmp_path)


def test_open_bare_repo(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q", "--bare")
    with pytest.raises(WorkspaceError, match=r"bare repository.*git clone"):
        Workspace.open(tmp_path)


def test_open_inside_the_git_dir_has_no_working_tree(git_repo: Path) -> None:
    with pytest.raises(WorkspaceError, match=r"no working tree"):
        Workspace.open(git_repo / ".git")


def test_open_a_linked_worktree_shares_the_main_git_dir(git_repo: Path, tmp_path: Path) -> None:
    linked = tmp_path / "linked"
    git(git_repo, "worktree", "add", "-q", "--detach", str(linked))
    ws = Workspace.open(linked / "src" / "app.py")  # a file in it, even
    assert ws.root == linked.resolve()
    assert ws.common_dir == (git_repo / ".git").resolve()


def test_open_from_subdirectory(git_repo: Path) -> None:
    ws = Workspace.open(git_repo / "src")
    assert ws.root == git_repo.resolve()
    assert ws.current_branch() == "main"
    assert ws.head_commit() == git(git_repo, "rev-parse", "HEAD").strip()
    git(git_repo, "checkout", "-q", "--detach")
    assert ws.current_branch() == "HEAD"


# --- the user's tree -----------------------------------------------------------------------


def test_dirty_paths_and_check_clean_for(git_repo: Path) -> None:
    (git_repo / "src" / "app.py").write_text("changed\n")
    (git_repo / "notes.txt").write_text("untracked\n")
    (git_repo / "debug.log").write_text("ignored\n")
    (git_repo / "README.md").write_text("staged\n")
    git(git_repo, "add", "README.md")
    ws = Workspace.open(git_repo)
    assert ws.dirty_paths() == {"src/app.py", "notes.txt", "README.md"}

    ws.check_clean_for(["src/util.py", "docs/"])  # untouched files: no error
    with pytest.raises(WorkspaceError) as err:
        ws.check_clean_for(["src/util.py", "src/"])  # a directory covers src/app.py
    assert "src/app.py" in str(err.value)
    assert "util.py" not in str(err.value)
    assert "commit or stash them first" in str(err.value)
    with pytest.raises(WorkspaceError, match="notes.txt"):
        ws.check_clean_for(["./notes.txt"])


# --- branches ------------------------------------------------------------------------------


def test_branch_names_and_integration_branch(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    assert Workspace.integration_branch("r1") == "maestro/r1"
    assert Workspace.task_branch("r1", "t1") == "maestro-task/r1/t1"
    head = ws.head_commit()
    assert ws.create_integration_branch("r1", "main") == "maestro/r1"
    assert ws.branch_head("maestro/r1") == head
    assert ws.branch_head("maestro/none") is None
    with pytest.raises(WorkspaceError, match="already exists.*resume that run"):
        ws.create_integration_branch("r1", head)
    with pytest.raises(WorkspaceError, match="unknown revision"):
        ws.create_integration_branch("r2", "no-such-commit")


def test_list_and_delete_branches(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    start_task(ws, "a")
    start_task(ws, "b")
    assert ws.list_branches("maestro-task/r1/") == ["maestro-task/r1/a", "maestro-task/r1/b"]
    with pytest.raises(WorkspaceError, match="remove its worktree first"):
        ws.delete_branch("maestro-task/r1/a")  # still checked out
    for wt in ws.list_worktrees():
        ws.remove_worktree(wt.path)
    ws.delete_branch("maestro-task/r1/a")
    ws.delete_branch("maestro-task/r1/a")  # already gone: fine
    assert ws.list_branches("maestro-task/") == ["maestro-task/r1/b"]


def test_is_ancestor(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    first = ws.head_commit()
    second = commit_file(git_repo, "main", "x.txt", "x\n")
    assert ws.is_ancestor(first, second)
    assert not ws.is_ancestor(second, first)


# --- worktrees and commits -----------------------------------------------------------------


def test_worktree_lives_outside_git_and_outside_the_users_tree(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    wt, base = start_task(ws)
    assert wt == ws.worktrees_dir() / "r1" / "t1"
    assert not wt.is_relative_to(git_repo)  # neither in .git/ nor in the user's tree
    assert (wt / "src" / "app.py").read_text().startswith("line 1\n")
    [info] = ws.list_worktrees()
    assert (info.path, info.branch, info.head) == (wt.resolve(), "maestro-task/r1/t1", base)
    assert ws.dirty_paths() == set()  # invisible in the user's tree


def test_add_worktree_again_replaces_earlier_attempt(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    first, base = start_task(ws, attempt=1)
    (first / "junk.txt").write_text("left over\n")
    second, _ = start_task(ws, attempt=2)
    assert second == first  # one path per task: a CLI keying sessions by folder finds them
    assert not (second / "junk.txt").exists()
    assert [w.path for w in ws.list_worktrees()] == [second.resolve()]
    ws.remove_worktree(second)
    ws.remove_worktree(second)  # already gone: fine
    assert ws.list_worktrees() == []
    again = ws.add_worktree("r1", "t1", 2, base)  # same path as a removed one
    assert again.is_dir()


def test_commit_all_squashes_worker_commits_with_trailers(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    wt, base = start_task(ws)
    (wt / "src" / "app.py").write_text("line 1\nchanged\n")
    git(wt, "commit", "-q", "-am", "worker commit 1")
    (wt / "src" / "new.py").write_text("print('new')\n")
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", "worker commit 2")
    (wt / "README.md").write_text("# demo\nmore\n")  # left uncommitted by the worker
    (wt / "debug.log").write_text("ignored by .gitignore\n")

    body = "Why: the app needed it.\n\n# a markdown heading survives"
    info = ws.commit_all(wt, base, "Change the app", body, TRAILERS)

    assert info is not None
    assert info.files == ("README.md", "src/app.py", "src/new.py")
    assert (info.insertions, info.deletions) == (3, 9)
    assert git(wt, "rev-parse", "HEAD").strip() == info.sha
    assert git(wt, "rev-parse", "HEAD^").strip() == base  # one commit on top of base
    assert git(git_repo, "rev-parse", "maestro-task/r1/t1").strip() == info.sha
    message = git(wt, "log", "-1", "--format=%B")
    assert message == (
        "Change the app\n\nWhy: the app needed it.\n\n# a markdown heading survives\n\n"
        "Maestro-Run: r1\nMaestro-Task: t1\nMaestro-Agent: coder\n\n"
    )
    parsed = subprocess.run(
        ["git", "interpret-trailers", "--parse"], input=message, capture_output=True, text=True
    ).stdout
    assert parsed == "Maestro-Run: r1\nMaestro-Task: t1\nMaestro-Agent: coder\n"
    assert git(wt, "status", "--porcelain") == ""
    assert ws.diff_stat(base, info.sha).files == info.files


def test_commit_all_exclude_globs_and_no_change(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    wt, base = start_task(ws)
    assert ws.commit_all(wt, base, "nothing", "", TRAILERS) is None

    (wt / ".maestro").mkdir()
    (wt / ".maestro" / "notes.md").write_text("scratch\n")
    (wt / "out.tmp").write_text("temp\n")
    (wt / "src" / "keep.py").write_text("x = 1\n")
    git(wt, "add", "-A")
    git(wt, "commit", "-q", "-m", "worker committed scratch files too")
    exclude = (".maestro/*", "*.tmp")
    info = ws.commit_all(wt, base, "Keep", "", TRAILERS, exclude=exclude)
    assert info is not None
    assert info.files == ("src/keep.py",)
    assert git(wt, "ls-tree", "-r", "--name-only", "HEAD").count(".maestro") == 0

    (wt / "src" / "keep.py").unlink()  # back to base, apart from excluded files
    assert ws.commit_all(wt, base, "Only scratch", "", TRAILERS, exclude=exclude) is None


@pytest.fixture
def no_identity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository, on a machine where no git identity is configured anywhere."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("GIT_COMMITTER_EMAIL", raising=False)
    monkeypatch.delenv("EMAIL", raising=False)
    repo = make_repo(tmp_path / "repo", identity=False)
    assert subprocess.run(["git", "config", "user.email"], cwd=repo).returncode == 1
    return repo


def test_commit_all_without_any_git_identity(no_identity: Path) -> None:
    repo = no_identity
    ws = Workspace.open(repo)
    wt, base = start_task(ws)
    (wt / "new.txt").write_text("hello\n")
    info = ws.commit_all(wt, base, "Add new", "", TRAILERS)
    assert info is not None
    assert git(repo, "log", "-1", "--format=%an <%ae>", info.sha) == (
        "maestro-tui <maestro-tui@localhost>\n"
    )


def test_agents_are_given_an_identity_in_their_environment_not_in_the_config(
    no_identity: Path,
) -> None:
    # Aider, finding no identity, writes one into .git/config, shared by all worktrees:
    # parallel agents then crash on one another's config.lock.
    ws = Workspace.open(no_identity)
    wt, _base = start_task(ws)
    config = (no_identity / ".git" / "config").read_text()
    env = {**os.environ, **ws.agent_env()}
    asked = [
        subprocess.run(
            ["git", "config", "--get", key],
            cwd=wt,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout  # fmt: skip
        for key in ("user.name", "user.email")
    ]
    assert asked == ["maestro-tui\n", "maestro-tui@localhost\n"]
    assert (no_identity / ".git" / "config").read_text() == config


def test_local_identity_is_used_when_set(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    assert ws.agent_env() == {}  # theirs, not ours
    wt, base = start_task(ws)
    (wt / "new.txt").write_text("hello\n")
    info = ws.commit_all(wt, base, "Add new", "", TRAILERS)
    assert info is not None
    assert git(git_repo, "log", "-1", "--format=%an", info.sha) == "Test User\n"


def test_diff_text(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    base = ws.head_commit()
    head = commit_file(git_repo, "main", "src/util.py", "def f():\n    return 2\n")
    text = ws.diff_text(base, head, context=0)
    assert "--- a/src/util.py\n+++ b/src/util.py\n" in text
    assert "-    return 1\n+    return 2\n" in text
    stat = ws.diff_stat(base, head)
    assert (stat.files, stat.insertions, stat.deletions) == (("src/util.py",), 1, 1)


def test_merged_task_ids_reads_trailers(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    base = ws.head_commit()
    ws.create_integration_branch("r1", base)
    a = commit_file(git_repo, "maestro/r1", "a.txt", "a\n", "Merge a\n\nMaestro-Merged-Task: a")
    commit_file(git_repo, "maestro/r1", "n.txt", "n\n", "not a merge\n\nMaestro-Task: n")
    b = commit_file(git_repo, "maestro/r1", "b.txt", "b\n", "Merge b\n\nMaestro-Merged-Task: b")
    assert ws.merged_task_ids("maestro/r1") == {"a": a, "b": b}
    assert ws.merged_task_ids("maestro/r1", since=a) == {"b": b}


# --- landing -------------------------------------------------------------------------------


def test_land_fast_forward_into_checked_out_branch(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    ws.create_integration_branch("r1", ws.head_commit())
    tip = commit_file(git_repo, "maestro/r1", "src/new.py", "x = 1\n")
    assert land_into(ws, "main", "maestro/r1", "Land r1") == tip
    assert ws.head_commit() == tip
    assert (git_repo / "src" / "new.py").read_text() == "x = 1\n"  # the tree moved too
    assert git(git_repo, "status", "--porcelain") == ""
    assert land_into(ws, "main", "maestro/r1", "Land r1") == tip  # nothing to do


def test_land_merges_into_checked_out_branch_that_moved(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    ws.create_integration_branch("r1", ws.head_commit())
    theirs = commit_file(git_repo, "maestro/r1", "src/new.py", "x = 1\n")
    (git_repo / "mine.txt").write_text("user work\n")
    git(git_repo, "add", "mine.txt")
    git(git_repo, "commit", "-q", "-m", "user commit")
    ours = ws.head_commit()
    (git_repo / "scratch.txt").write_text("untracked files do not block landing\n")

    new = land_into(ws, "main", "maestro/r1", "Land r1")
    assert git(git_repo, "log", "-1", "--format=%P %s", new).split() == [ours, theirs, "Land", "r1"]
    assert ws.head_commit() == new
    assert (git_repo / "src" / "new.py").exists() and (git_repo / "mine.txt").exists()
    assert git(git_repo, "status", "--porcelain") == "?? scratch.txt\n"


def test_land_refuses_on_dirty_tree(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    ws.create_integration_branch("r1", ws.head_commit())
    commit_file(git_repo, "maestro/r1", "src/new.py", "x = 1\n")
    before = ws.head_commit()
    (git_repo / "src" / "app.py").write_text("uncommitted\n")
    with pytest.raises(
        WorkspaceError, match=r"uncommitted changes \(src/app.py\).*commit or stash"
    ):
        land_into(ws, "main", "maestro/r1", "Land r1")
    assert ws.head_commit() == before
    assert (git_repo / "src" / "app.py").read_text() == "uncommitted\n"


def test_land_into_branch_not_checked_out(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    git(git_repo, "branch", "release")
    ws.create_integration_branch("r1", ws.head_commit())
    theirs = commit_file(git_repo, "maestro/r1", "src/new.py", "x = 1\n")
    ours = commit_file(git_repo, "release", "notes.txt", "release notes\n")
    main_before = ws.head_commit()
    (git_repo / "src" / "app.py").write_text("dirty, but not the target\n")

    new = land_into(ws, "release", "maestro/r1", "Land r1 into release")
    assert ws.branch_head("release") == new
    assert git(git_repo, "log", "-1", "--format=%P", new).split() == [ours, theirs]
    files = git(git_repo, "ls-tree", "-r", "--name-only", new).split()
    assert {"src/new.py", "notes.txt"} <= set(files)
    assert ws.head_commit() == main_before
    assert (git_repo / "src" / "app.py").read_text() == "dirty, but not the target\n"


def test_land_refuses_on_conflict_and_changes_nothing(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    git(git_repo, "branch", "release")
    ws.create_integration_branch("r1", ws.head_commit())
    commit_file(git_repo, "maestro/r1", "src/util.py", "def f():\n    return 2\n")
    release = commit_file(git_repo, "release", "src/util.py", "def f():\n    return 3\n")
    with pytest.raises(WorkspaceError, match=r"conflicts with release in src/util.py"):
        land_into(ws, "release", "maestro/r1", "Land")
    assert ws.branch_head("release") == release
    with pytest.raises(WorkspaceError, match="does not exist"):
        land_into(ws, "nope", "maestro/r1", "Land")


def test_add_worktree_after_its_folder_was_deleted_by_hand(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    wt, base = start_task(ws)
    shutil.rmtree(wt)  # registered with git, but gone
    again = ws.add_worktree("r1", "t1", 1, base)
    assert (again / "README.md").exists()
    git(git_repo, "worktree", "add", "-q", str(git_repo.parent / "users-own"), "-b", "mine")
    assert [w.path for w in ws.list_worktrees()] == [again.resolve()]  # only ours


def test_parallel_worktrees_and_commits(git_repo: Path) -> None:
    """The engine starts tasks from threads; git races on concurrent `worktree add` alone."""
    ws = Workspace.open(git_repo)
    _, base = start_task(ws, "first")

    def task(i: int) -> str:
        wt = ws.add_worktree("r1", f"p{i}", 1, base)
        (wt / f"p{i}.txt").write_text(f"{i}\n")
        info = ws.commit_all(wt, base, f"p{i}", "", {"Maestro-Task": f"p{i}"})
        assert info is not None
        return info.sha

    with ThreadPoolExecutor(6) as pool:
        shas = list(pool.map(task, range(12)))
    assert len(set(shas)) == 12
    assert len(ws.list_worktrees()) == 13
    with ThreadPoolExecutor(6) as pool:
        list(pool.map(ws.remove_worktree, [w.path for w in ws.list_worktrees()]))
    assert ws.list_worktrees() == []


def test_land_refuses_when_an_untracked_file_would_be_overwritten(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    ws.create_integration_branch("r1", ws.head_commit())
    commit_file(git_repo, "maestro/r1", "src/new.py", "x = 1\n")
    before = ws.head_commit()
    (git_repo / "src" / "new.py").write_text("the user's own, untracked\n")
    with pytest.raises(WorkspaceError, match="untracked working tree files would be overwritten"):
        land_into(ws, "main", "maestro/r1", "Land r1")
    assert ws.head_commit() == before
    assert (git_repo / "src" / "new.py").read_text() == "the user's own, untracked\n"
