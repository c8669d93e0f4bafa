"""What the gate needs of git: merges of several results into a commit on no branch, scratch
worktrees with no hooks, a merge checked out for an agent to fix, and failing test ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from maestro_tui.workspace import Workspace
from maestro_tui.workspace.merge import (
    MergeSource,
    SourceConflicts,
    check_out_merge,
    merge_sources,
)
from maestro_tui.workspace.validate import failing_tests
from tests.workspace.conftest import commit_file, edit_line, git


@pytest.fixture
def ws(git_repo: Path) -> Workspace:
    ws = Workspace.open(git_repo)
    ws.create_integration_branch("r1", ws.head_commit())
    for name in ("task-a", "task-b", "task-c"):
        git(git_repo, "branch", name)
    return ws


def test_several_results_make_one_commit_on_no_branch(ws: Workspace) -> None:
    head = ws.branch_head("maestro/r1")
    a = commit_file(ws.root, "task-a", "a.txt", "a\n")
    b = commit_file(ws.root, "task-b", "src/app.py", edit_line(3, "B"))
    c = commit_file(ws.root, "task-c", "src/app.py", edit_line(8, "C"))
    message = "Merge tasks a, b, c\n\nMaestro-Merged-Task: a\nMaestro-Merged-Task: b\n"
    merged = merge_sources(
        ws, head or "", [MergeSource(a), MergeSource(b), MergeSource(c)], message
    )
    assert ws.branch_head("maestro/r1") == head  # nothing moved
    assert git(ws.root, "log", "-1", "--format=%P", merged.commit).split() == [head, a, b, c]
    assert git(ws.root, "rev-parse", f"{merged.commit}^{{tree}}").strip() == merged.tree
    app = git(ws.root, "show", f"{merged.commit}:src/app.py")
    assert app == edit_line(3, "B").replace("line 8\n", "C\n")
    assert git(ws.root, "show", f"{merged.commit}:a.txt") == "a\n"
    # Once the branch moves there, both trailers name their tasks.
    assert ws.update_branch("maestro/r1", merged.commit, head or "")
    assert ws.merged_task_ids("maestro/r1") == {"a": merged.commit, "b": merged.commit}


def test_the_first_unsettled_conflict_is_named_and_sides_settle_them(ws: Workspace) -> None:
    head = ws.branch_head("maestro/r1") or ""
    a = commit_file(ws.root, "task-a", "src/app.py", edit_line(5, "A five"))
    b = commit_file(ws.root, "task-b", "src/app.py", edit_line(5, "B five"))
    c = commit_file(ws.root, "task-c", "c.txt", "c\n")
    with pytest.raises(SourceConflicts) as caught:
        merge_sources(ws, head, [MergeSource(c), MergeSource(a), MergeSource(b)], "m")
    assert (caught.value.index, caught.value.paths, caught.value.stale) == (
        2,
        ("src/app.py",),
        False,
    )
    theirs = merge_sources(ws, head, [MergeSource(a), MergeSource(b, side="theirs")], "m")
    assert git(ws.root, "show", f"{theirs.commit}:src/app.py") == edit_line(5, "B five")
    ours = merge_sources(ws, head, [MergeSource(a), MergeSource(b, side="ours")], "m")
    assert git(ws.root, "show", f"{ours.commit}:src/app.py") == edit_line(5, "A five")


def test_resolved_files_go_stale_when_the_branch_changed_them(ws: Workspace) -> None:
    head = ws.branch_head("maestro/r1") or ""
    a = commit_file(ws.root, "task-a", "src/app.py", edit_line(5, "A five"))
    b = commit_file(ws.root, "task-b", "src/app.py", edit_line(5, "B five"))
    on_a = merge_sources(ws, head, [MergeSource(a)], "m").commit
    resolved = {"src/app.py": edit_line(5, "A and B five")}
    fine = merge_sources(ws, on_a, [MergeSource(b, files=resolved, resolved_on=on_a)], "m")
    assert git(ws.root, "show", f"{fine.commit}:src/app.py") == resolved["src/app.py"]
    # Another result changed the resolved file since: the resolution is refused, not applied.
    c = commit_file(ws.root, "task-c", "src/app.py", edit_line(9, "C nine"))
    on_ac = merge_sources(ws, on_a, [MergeSource(c)], "m").commit
    with pytest.raises(SourceConflicts) as caught:
        merge_sources(ws, on_ac, [MergeSource(b, files=resolved, resolved_on=on_a)], "m")
    assert caught.value.stale and caught.value.paths == ("src/app.py",)


def test_scratch_worktree_is_detached_and_runs_no_hook(ws: Workspace, tmp_path: Path) -> None:
    hooks = ws.root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    ran = tmp_path / "hook-ran"
    hook = hooks / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {ran}\n")
    hook.chmod(0o755)
    a = commit_file(ws.root, "task-a", "a.txt", "a\n")
    path = ws.worktrees_dir() / "r1" / "gate-1"
    ws.add_scratch_worktree(path, a)
    assert (path / "a.txt").read_text() == "a\n"
    assert not ran.exists()
    [tree] = [w for w in ws.list_worktrees() if w.path == path.resolve()]
    assert tree.branch is None and tree.head == a
    ws.add_scratch_worktree(path, "main")  # a leftover at the same path is replaced
    assert not (path / "a.txt").exists()
    ws.remove_worktree(path)
    assert ws.list_worktrees() == []


def test_check_out_merge_shows_conflicts_to_the_agent(ws: Workspace) -> None:
    a = commit_file(ws.root, "task-a", "src/app.py", edit_line(5, "A five"))
    b = commit_file(ws.root, "task-b", "src/app.py", edit_line(5, "B five"))
    commit_file(ws.root, "task-b", "b.txt", "b\n")
    b = git(ws.root, "rev-parse", "task-b").strip()
    path = ws.add_worktree("r1", "fixer", 1, a)
    assert check_out_merge(ws, path, a, b) == ("src/app.py",)
    text = (path / "src" / "app.py").read_text()
    assert "<<<<<<<" in text and "A five" in text and "B five" in text
    assert (path / "b.txt").read_text() == "b\n"
    assert git(path, "rev-parse", "HEAD").strip() == a  # uncommitted: the agent commits it


def test_failing_test_ids_from_pytest_and_unittest() -> None:
    pytest_out = (
        "..F\n=== short test summary info ===\n"
        "FAILED tests/test_api.py::test_all - AssertionError: assert ['add', 'mul'] == ['add']\n"
        "ERROR tests/test_db.py::test_open - OSError\n1 failed, 1 error, 2 passed in 0.1s\n"
    )
    assert failing_tests(pytest_out) == {
        "tests/test_api.py::test_all",
        "tests/test_db.py::test_open",
    }
    unittest_out = "FAIL: test_all (tests.test_api.ApiTest.test_all)\n----\nRan 3 tests in 0.0s\n"
    assert failing_tests(unittest_out) == {"test_all (tests.test_api.ApiTest.test_all)"}
    assert failing_tests("3 passed in 0.1s") == frozenset()
