"""A first run on one's own repository with nothing configured: refused, with what to set,
and nothing written. The offline demo model plans and works only where it is named: in
`maestro-tui demo`, which still merges as it always did."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.conftest import git, run_cli

WHAT_TO_SET = ("--model", "[llm] model", "--planner claude")


@pytest.fixture
def fresh_clone(tmp_path: Path) -> Path:
    """A small third-party project: no maestro.toml, a module and its test, one commit."""
    repo = tmp_path / "keys-project"
    (repo / "keys").mkdir(parents=True)
    (repo / "keys" / "__init__.py").write_text("")
    (repo / "keys" / "keys.py").write_text("def hashkey(*args):\n    return tuple(args)\n")
    (repo / "test_keys.py").write_text(
        "from keys.keys import hashkey\n\n\ndef test_hashkey():\n    assert hashkey(1) == (1,)\n"
    )
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a project of someone else's")
    return repo


def isolated(tmp_path: Path) -> dict[str, str]:
    """Caches and data in tmp_path (where task worktrees would go), no model keys."""
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}


def assert_nothing_created(repo: Path, tmp_path: Path) -> None:
    assert not (tmp_path / "runs.db").exists()  # no run recorded
    assert git(repo, "branch", "--list", "maestro*") == ""  # no integration branch
    assert len(git(repo, "worktree", "list").splitlines()) == 1  # no worktree
    assert not list((tmp_path / "cache").glob("**/worktrees/*"))
    assert git(repo, "status", "--porcelain") == ""  # the checkout untouched, no maestro.toml


def test_run_with_no_model_is_refused_and_says_what_to_set(
    fresh_clone: Path, tmp_path: Path
) -> None:
    result = run_cli(
        "run", "add type hints to keys.py", "--yes", "--headless",
        "--repo", str(fresh_clone), "--db", str(tmp_path / "runs.db"),
        env=isolated(tmp_path),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "no model is named to plan the goal" in result.stderr
    assert all(hint in result.stderr for hint in WHAT_TO_SET)
    assert "planning with" not in result.stdout + result.stderr  # no planner was asked
    assert "shop/" not in result.stdout + result.stderr  # and the demo's plan never appears
    assert_nothing_created(fresh_clone, tmp_path)


def test_plan_with_no_model_is_refused(fresh_clone: Path, tmp_path: Path) -> None:
    result = run_cli(
        "plan", "add type hints to keys.py", "--repo", str(fresh_clone), env=isolated(tmp_path)
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert all(hint in result.stderr for hint in WHAT_TO_SET)
    assert result.stdout == ""  # no plan printed
    assert_nothing_created(fresh_clone, tmp_path)


def test_a_plan_file_for_the_default_worker_needs_a_model_too(
    fresh_clone: Path, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.toml"
    plan.write_text('[[tasks]]\nid = "hints"\nprompt = "type hints"\nfiles = ["keys/keys.py"]\n')
    result = run_cli(
        "run", "--plan", str(plan), "--yes", "--headless",
        "--repo", str(fresh_clone), "--db", str(tmp_path / "runs.db"),
        env=isolated(tmp_path),
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert "the built-in LLM worker, and no model is named: pass --model" in result.stderr
    assert_nothing_created(fresh_clone, tmp_path)


def test_the_demo_still_plans_and_merges_and_keeps_its_one_conflict(tmp_path: Path) -> None:
    repo, db = tmp_path / "shop", tmp_path / "runs.db"
    result = run_cli(
        "demo", "--headless", "--pace", "0", "--quiet", "--dir", str(repo), "--db", str(db),
        env=isolated(tmp_path),
    )  # fmt: skip
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr  # a merge waits
    # Which of the two conflicting tasks merges first (and so what waits behind the other)
    # is a race: the count varies, the shape does not.
    finished = re.search(
        r"run finished: waiting — (\d+) merged, 0 failed, 1 waiting", result.stdout
    )
    assert finished and int(finished[1]) >= 6, result.stdout[-3000:]
    merged = int(finished[1])
    # [plan] overlaps = "parallel" for the demo: its conflict is on purpose, and said first.
    assert "pricing-types and discount-guard may conflict: both name shop/pricing.py" in (
        result.stdout
    )
    assert f"{merged}/13 tasks succeeded, / (1 + O%/100)" in result.stdout
