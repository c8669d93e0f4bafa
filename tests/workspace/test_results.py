"""Task results in git after their run: applied elsewhere, compared, reverted (real git)."""

from __future__ import annotations

import time
from pathlib import Path

from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.results import (
    apply_change,
    find_reverts,
    merges_in_order,
    results_diff,
)
from tests.workspace.conftest import IDENTITY, commit_file, edit_line, git


def test_a_change_applies_onto_another_commit_without_its_history(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    git(git_repo, "branch", "other")
    change = commit_file(git_repo, "main", "src/app.py", edit_line(2, "two"))
    elsewhere = commit_file(git_repo, "other", "src/util.py", "def f():\n    return 2\n")
    applied = apply_change(ws, change, elsewhere, "take it over\n")
    assert applied.commit is not None and applied.conflicts == ()
    assert git(git_repo, "rev-list", "--parents", "-n1", applied.commit).split()[1:] == [elsewhere]
    assert git(git_repo, "show", f"{applied.commit}:src/app.py") == edit_line(2, "two")
    assert git(git_repo, "show", f"{applied.commit}:src/util.py") == "def f():\n    return 2\n"


def test_a_change_that_conflicts_there_is_refused_naming_the_files(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    git(git_repo, "branch", "other")
    change = commit_file(git_repo, "main", "src/app.py", edit_line(2, "two"))
    elsewhere = commit_file(git_repo, "other", "src/app.py", edit_line(2, "deux"))
    assert apply_change(ws, change, elsewhere, "x\n").conflicts == ("src/app.py",)


def test_two_results_are_compared_as_changes_on_one_base(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    base = git(git_repo, "rev-parse", "main").strip()
    first = commit_file(git_repo, "main", "src/app.py", edit_line(9, "nine"))
    git(git_repo, "branch", "second", base)
    commit_file(git_repo, "second", "src/util.py", "def f():\n    return 3\n")  # another task
    second = commit_file(git_repo, "second", "src/app.py", edit_line(9, "NINE"))
    text, same_base = results_diff(ws, first, second)
    assert same_base
    assert "-nine\n+NINE" in text
    assert "util.py" not in text  # the other task's work is not this task's difference
    git(git_repo, "branch", "third", base)
    again = commit_file(git_repo, "third", "src/app.py", edit_line(9, "nine"))
    assert results_diff(ws, first, again) == ("", True)


def test_reverts_of_a_task_commit_a_merge_and_a_landing_are_found(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    trailers = "\n\nMaestro-Run: r1\nMaestro-Task: api\n"
    task = commit_file(git_repo, "main", "src/app.py", edit_line(1, "one"), "api" + trailers)
    merged = "Merge task docs\n\nMaestro-Run: r1\nMaestro-Merged-Task: docs\n"
    merge = commit_file(git_repo, "main", "src/util.py", "x = 1\n", merged)
    land = commit_file(git_repo, "main", "README.md", "# r2\n", "Land maestro run r2: goal")
    kept = commit_file(git_repo, "main", "src/kept.py", "k = 1\n",
                       "x\n\nMaestro-Run: r3\nMaestro-Task: kept\n")  # fmt: skip
    git(git_repo, "reset", "-q", "--hard", "main")  # the checkout, to the commits made above
    for commit in (task, merge, land, kept):
        git(git_repo, *IDENTITY, "revert", "--no-edit", commit)
    revert_of_kept = git(git_repo, "rev-parse", "HEAD").strip()
    git(git_repo, *IDENTITY, "revert", "--no-edit", revert_of_kept)  # reapplied: not reverted
    found = find_reverts(ws)
    assert set(found) == {("r1", "api"), ("r1", "docs"), ("r2", "*")}
    assert find_reverts(ws, since=time.time() + 3600) == {}  # nothing that recent


def test_merges_are_listed_oldest_first_with_their_tasks(git_repo: Path) -> None:
    ws = Workspace.open(git_repo)
    base = git(git_repo, "rev-parse", "main").strip()
    one = commit_file(git_repo, "main", "a", "1", "m1\n\nMaestro-Merged-Task: a\n")
    commit_file(git_repo, "main", "b", "2", "not a merge")
    two = commit_file(git_repo, "main", "c", "3",
                      "m2\n\nMaestro-Merged-Task: b\nMaestro-Merged-Task: c\n")  # fmt: skip
    assert merges_in_order(ws, "main", base) == [(one, "m1", ["a"]), (two, "m2", ["b", "c"])]
