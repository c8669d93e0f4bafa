"""Conflict checks and tree-only merges into a branch, on real repositories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maestro_tui.workspace import (
    ConflictFile,
    MergeRaced,
    Workspace,
    WorkspaceError,
    check_merge,
    merge_into,
    resolve_text,
)
from maestro_tui.workspace._git import Git, GitResult
from maestro_tui.workspace.merge import parse_hunks
from tests.workspace.conftest import APP, commit_file, edit_line, git


@pytest.fixture
def ws(git_repo: Path) -> Workspace:
    ws = Workspace.open(git_repo)
    ws.create_integration_branch("r1", ws.head_commit())
    git(git_repo, "branch", "task-a")
    git(git_repo, "branch", "task-b")
    return ws


def snapshot(repo: Path) -> tuple[str, str, dict[str, int]]:
    """HEAD, `git status` and the mtime of every file in the user's tree."""
    mtimes = {
        str(p): p.stat().st_mtime_ns
        for p in repo.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(repo).parts
    }
    return git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), mtimes


def test_check_merge_clean(ws: Workspace) -> None:
    commit_file(ws.root, "task-a", "src/app.py", edit_line(2, "A"))
    commit_file(ws.root, "task-b", "src/app.py", edit_line(9, "B"))
    check = check_merge(ws, "task-a", "task-b")
    assert check.clean and check.conflicts == ()
    assert check.tree
    merged = git(ws.root, "cat-file", "-p", f"{check.tree}:src/app.py")
    assert merged == edit_line(2, "A").replace("line 9\n", "B\n")


def test_check_merge_conflict_hunks(ws: Workspace) -> None:
    commit_file(ws.root, "task-a", "src/app.py", edit_line(5, "A five"))
    commit_file(ws.root, "task-b", "src/app.py", edit_line(5, "B five"))
    check = check_merge(ws, "task-a", "task-b")
    assert not check.clean and check.tree is None
    [conflict] = check.conflicts
    assert conflict.path == "src/app.py"
    [hunk] = conflict.hunks
    assert (hunk.ours, hunk.base, hunk.theirs) == ("A five\n", "line 5\n", "B five\n")
    assert hunk.start_line == 5
    lines = conflict.text.splitlines()
    assert lines[4] == "<<<<<<< task-a" and lines[10] == ">>>>>>> task-b"
    assert "content" in conflict.note

    expected = {
        "ours": edit_line(5, "A five"),
        "theirs": edit_line(5, "B five"),
        "base": APP,
        "both": edit_line(5, "A five\nB five"),
    }
    for choice, text in expected.items():
        assert resolve_text(conflict, [choice]) == text
    with pytest.raises(ValueError, match="need as many choices"):
        resolve_text(conflict, ["ours", "ours"])
    with pytest.raises(ValueError, match="unknown choice"):
        resolve_text(conflict, ["mine"])


def test_add_add_and_modify_delete_conflicts(ws: Workspace) -> None:
    commit_file(ws.root, "task-a", "new.txt", "from a\n")
    commit_file(ws.root, "task-b", "new.txt", "from b\n")
    git(ws.root, "update-ref", "refs/heads/task-c", "main")
    commit_file(ws.root, "task-c", "src/util.py", "def f():\n    return 3\n")
    git(ws.root, "update-ref", "refs/heads/task-d", "main")
    commit_file(ws.root, "task-d", "src/util.py", None, "delete util")

    [added] = check_merge(ws, "task-a", "task-b").conflicts
    [hunk] = added.hunks
    assert (hunk.ours, hunk.base, hunk.theirs) == ("from a\n", "", "from b\n")
    [gone] = check_merge(ws, "task-c", "task-d").conflicts
    assert gone.path == "src/util.py" and gone.hunks == ()
    assert "modify/delete" in gone.note


def test_merge_into_clean_leaves_user_tree_alone(ws: Workspace) -> None:
    a = commit_file(ws.root, "task-a", "src/app.py", edit_line(2, "A"))
    (ws.root / "src" / "util.py").write_text("user's uncommitted edit\n")
    before = snapshot(ws.root)
    old = ws.branch_head("maestro/r1")

    new = merge_into(ws, "maestro/r1", "task-a", "Merge a\n\nMaestro-Merged-Task: a\n")
    assert ws.branch_head("maestro/r1") == new
    assert git(ws.root, "log", "-1", "--format=%P", new).split() == [old, a]
    assert ws.merged_task_ids("maestro/r1") == {"a": new}
    assert snapshot(ws.root) == before
    assert merge_into(ws, "maestro/r1", "task-a", "again") == new  # already merged


def test_merge_into_with_resolutions(ws: Workspace) -> None:
    commit_file(ws.root, "task-a", "src/app.py", edit_line(5, "A five"))
    b = commit_file(ws.root, "task-b", "src/app.py", edit_line(5, "B five"))
    merge_into(ws, "maestro/r1", "task-a", "Merge a")
    before = snapshot(ws.root)
    head = ws.branch_head("maestro/r1")

    with pytest.raises(WorkspaceError, match=r"conflicts in src/app.py: resolve"):
        merge_into(ws, "maestro/r1", b, "Merge b")
    assert ws.branch_head("maestro/r1") == head

    [conflict] = check_merge(ws, "maestro/r1", b).conflicts
    resolved = resolve_text(conflict, ["both"])
    new = merge_into(ws, "maestro/r1", b, "Merge b", {"src/app.py": resolved, "extra.txt": "x\n"})
    assert git(ws.root, "show", f"{new}:src/app.py") == edit_line(5, "A five\nB five")
    assert git(ws.root, "show", f"{new}:extra.txt") == "x\n"
    assert git(ws.root, "show", f"{new}:src/util.py") == "def f():\n    return 1\n"
    assert git(ws.root, "log", "-1", "--format=%P", new).split() == [head, b]
    assert snapshot(ws.root) == before


def test_merge_into_resolution_can_delete(ws: Workspace) -> None:
    commit_file(ws.root, "task-a", "new.txt", "from a\n")
    b = commit_file(ws.root, "task-b", "new.txt", "from b\n")
    merge_into(ws, "maestro/r1", "task-a", "Merge a")
    new = merge_into(ws, "maestro/r1", b, "Merge b", {"new.txt": None})
    assert "new.txt" not in git(ws.root, "ls-tree", "-r", "--name-only", new)


class MovesBranchBeforeCommit(Git):
    """A real git runner, plus another writer that moves the branch mid-merge."""

    def __call__(self, *args: str, **kwargs: Any) -> GitResult:
        if "commit-tree" in args:
            commit_file(self.root, "maestro/r1", "racer.txt", "I was first\n")
        return super().__call__(*args, **kwargs)


def test_merge_into_raced(ws: Workspace) -> None:
    commit_file(ws.root, "task-a", "src/app.py", edit_line(2, "A"))
    ws.git = MovesBranchBeforeCommit(ws.git.root, ws.git.env, ws.git.options)
    with pytest.raises(MergeRaced, match="moved while merging"):
        merge_into(ws, "maestro/r1", "task-a", "Merge a")
    head = ws.branch_head("maestro/r1")
    assert head is not None
    assert git(ws.root, "log", "-1", "--format=%s", head) == "edit\n"  # the racer's commit


def test_parse_hunks_ignores_unclosed_markers_and_keeps_crlf() -> None:
    text = "a\r\n<<<<<<< ours\r\nx\r\n=======\r\ny\r\n>>>>>>> theirs\r\n<<<<<<< dangling\r\n"
    [hunk] = parse_hunks(text)
    assert (hunk.ours, hunk.base, hunk.theirs, hunk.start_line) == ("x\r\n", "", "y\r\n", 2)
    conflict = ConflictFile("f.txt", (hunk,), text)
    assert resolve_text(conflict, ["theirs"]) == "a\r\ny\r\n<<<<<<< dangling\r\n"
