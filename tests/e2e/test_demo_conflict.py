"""The demo's conflict, resolved by its agent: `demo --headless --on-conflict agent` merges all
13 tasks, with both the discount guard and the type hints kept, and the tests green."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from maestro_tui.llm.demo.edits import combine_hunk, resolve_conflicts
from maestro_tui.workspace.merge import ConflictHunk
from tests.e2e.conftest import events_of, git, run_cli


def test_the_demo_agent_resolves_the_pricing_conflict(tmp_path: Path) -> None:
    repo, db = tmp_path / "shop", tmp_path / "runs.db"
    result = run_cli(
        "demo", "--headless", "--pace", "0", "--on-conflict", "agent",
        "--dir", str(repo), "--db", str(db),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    # 12 of 13: the final review changes nothing ("done, no changes" is not a merge).
    assert "run finished: succeeded — 12 merged, 0 failed, 0 waiting" in result.stdout
    events = events_of(db)
    assert not [e for e in events if e["type"] == "MergeWaiting"]  # nobody had to decide
    (fixed,) = [e for e in events if e["type"] == "TaskFixing"]
    assert fixed["task"] in ("pricing-types", "discount-guard")
    assert "Conflict markers" in fixed["reason"]
    branch = str(events[0]["integration_branch"])
    pricing = git(repo, "show", f"{branch}:shop/pricing.py")
    assert "def apply_discount(price: float, percent: float) -> float:" in pricing  # the hints
    assert "raise ValueError" in pricing  # and the guard
    assert pricing.count("def apply_discount") == 1
    git(repo, "checkout", "-q", branch)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=repo, capture_output=True, text=True,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout


def test_the_demo_model_refuses_to_guess_at_edits_of_the_same_line() -> None:
    both_edit_it = ConflictHunk(ours="x = 2\n", base="x = 1\n", theirs="x = 3\n", start_line=1)
    try:
        combine_hunk(both_edit_it)
    except ValueError as exc:
        assert "same lines" in str(exc)
    else:
        raise AssertionError("it guessed")
    adds = ConflictHunk(ours="a\nb\n", base="a\n", theirs="a\nc\n", start_line=1)
    assert combine_hunk(adds) == "a\nb\nc\n"  # both add after the same line: ours first
    assert (
        resolve_conflicts("<<<<<<< ours\nb\n||||||| base\n=======\nc\n>>>>>>> theirs\n") == "b\nc\n"
    )
