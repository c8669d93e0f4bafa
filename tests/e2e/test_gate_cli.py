"""Issue 8 end to end: results that pass alone but break the tests together, and an approval
that would break them, never reach the integration branch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import events_of, git, run_cli, run_plan, worktrees, write_config
from tests.support.green import red_commits

TEST_COMMAND = (
    f"env PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 {sys.executable} -m pytest -q -p no:cacheprovider"
)


def write(path: str, *lines: str, fixing: bool = False) -> str:
    """A fake-agent instruction writing `lines` to `path` (on a fix round only, if `fixing`)."""
    return f"@{'fixing ' if fixing else ''}write {path} :: " + "\\n".join(lines)


def plan_toml(goal: str, tasks: list[tuple[str, str, list[str]]]) -> str:
    parts = [f"goal = {json.dumps(goal)}"]
    for task_id, title, steps in tasks:
        prompt = json.dumps("\n".join(steps))
        parts.append(f"[[tasks]]\nid = {json.dumps(task_id)}\ntitle = {json.dumps(title)}\n")
        parts[-1] += f"prompt = {prompt}\n"
    return "\n\n".join(parts) + "\n"


def pin_test(assertion: str) -> list[str]:
    return ["import calc.ops", "", "def test_public_names_are_pinned():", f"    {assertion}"]


# "pin" pins calc.ops' public names in a test; "public" adds one. Disjoint files, a clean git
# merge, each green alone: red together. Sent back by the gate, each knows how to mend it.
PUBLIC_OPS = ['__all__ = ["add", "mul"]', "", "def add(a, b):", "    return a + b", ""]
PUBLIC_OPS += ["def mul(a, b):", "    return a * b"]
ALL_PLAN = plan_toml(
    "public names",
    [
        (
            "pin",
            "Pin the public names",
            [
                write("tests/test_api.py", *pin_test('assert calc.ops.__all__ == ["add"]')),
                write(
                    "tests/test_api.py", *pin_test('assert "add" in calc.ops.__all__'), fixing=True
                ),
            ],
        ),
        (
            "public",
            "Add mul to the public names",
            [
                write("calc/ops.py", *PUBLIC_OPS),
                write(
                    "tests/test_api.py",
                    *pin_test('assert calc.ops.__all__ == ["add", "mul"]'),
                    fixing=True,
                ),
            ],
        ),
    ],
)


@pytest.fixture
def pinned(project: Path, tmp_path: Path) -> Path:
    """The project with calc.ops declaring its public names."""
    (project / "calc" / "ops.py").write_text(
        '__all__ = ["add"]\n\ndef add(a, b):\n    return a + b\n'
    )
    git(project, "commit", "-qam", "declare __all__")
    return project


def configure(project: Path, tmp_path: Path, merge: str) -> None:
    write_config(project, tmp_path / "fake-state", f"\n[merge]\n{merge}\n")
    git(project, "commit", "-qam", "configure")


def test_results_green_alone_and_red_together_do_not_both_land_review(
    pinned: Path, tmp_path: Path
) -> None:
    configure(pinned, tmp_path, 'on_red = "review"')
    base = git(pinned, "rev-parse", "HEAD")
    result, db = run_plan(pinned, tmp_path, ALL_PLAN, "--agents", "2")
    assert result.returncode == 3, result.stdout + result.stderr  # one waits for review
    events = events_of(db)
    run_id = events[0]["run_id"]
    # Each was green in its own worktree.
    assert {e["task"] for e in events if e["type"] == "TestsRan" and e["passed"]} == {
        "pin",
        "public",
    }
    [landed] = [e["task"] for e in events if e["type"] == "Merged"]
    held = ({"pin", "public"} - {landed}).pop()
    [waiting] = [e for e in events if e["type"] == "MergeWaiting"]
    assert waiting["task"] == held
    assert waiting["reasons"][0].startswith("tests fail as merged with the integration branch")
    red = [e for e in events if e["type"] == "MergeTested" and not e["passed"]]
    assert red and held in red[-1]["tasks"]
    assert "test_public_names_are_pinned" in red[-1]["output_tail"]  # kept for the review
    assert "gate: merged tree FAILS" in result.stdout
    listing = run_cli("merges", run_id, "--db", str(db))
    assert "tests fail as merged" in listing.stdout
    integration = f"maestro/{run_id}"
    assert red_commits(pinned, integration, TEST_COMMAND, since=f"{base}^") == []
    assert worktrees(pinned) == [str(pinned)]


def test_results_green_alone_and_red_together_are_fixed_on_the_branch(
    pinned: Path, tmp_path: Path
) -> None:
    configure(pinned, tmp_path, 'on_red = "fix"')
    base = git(pinned, "rev-parse", "HEAD")
    result, db = run_plan(pinned, tmp_path, ALL_PLAN, "--agents", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    events = events_of(db)
    run_id = events[0]["run_id"]
    assert {e["task"] for e in events if e["type"] == "Merged"} == {"pin", "public"}
    # The second to reach the gate went back to its agent, on top of the first, once.
    [fixing] = [e for e in events if e["type"] == "TaskFixing"]
    assert fixing["round"] == 1 and "merged onto the current integration branch" in fixing["reason"]
    restarts = [e for e in events if e["type"] == "TaskStarted" and e["task"] == fixing["task"]]
    assert [e["attempt"] for e in restarts] == [1, 2]
    integration = f"maestro/{run_id}"
    assert red_commits(pinned, integration, TEST_COMMAND, since=f"{base}^") == []
    merges = git(pinned, "log", "--first-parent", "--format=%s", f"{base}..{integration}")
    assert len(merges.splitlines()) == 2  # one merge per task, nothing twice
    assert worktrees(pinned) == [str(pinned)]


# Both change add(); each adds a test of its own version. The second to finish conflicts.
CONFLICT_PLAN = plan_toml(
    "extend add",
    [
        (
            "three",
            "add takes a third number",
            [
                write("calc/ops.py", "def add(a, b, c=0):", "    return a + b + c"),
                write(
                    "tests/test_three.py",
                    *["from calc.ops import add", "", "def test_three():"],
                    "    assert add(1, 2, 3) == 6",
                ),
            ],
        ),
        (
            "scale",
            "add can scale",
            [
                write("calc/ops.py", "def add(a, b, *, scale=1):", "    return (a + b) * scale"),
                write(
                    "tests/test_scale.py",
                    *["from calc.ops import add", "", "def test_scale():"],
                    "    assert add(1, 2, scale=2) == 6",
                ),
            ],
        ),
    ],
)


def test_an_approval_that_breaks_the_tests_is_refused_and_nothing_moves(
    project: Path, tmp_path: Path
) -> None:
    result, db = run_plan(project, tmp_path, CONFLICT_PLAN, "--agents", "2")
    assert result.returncode == 3, result.stdout + result.stderr
    events = events_of(db)
    run_id = events[0]["run_id"]
    [held] = [e["task"] for e in events if e["type"] == "MergeWaiting"]
    integration = f"maestro/{run_id}"
    head = git(project, "rev-parse", integration)

    # Taking ours keeps the other add(), but this task's test comes along and fails with it.
    refused = run_cli("approve", run_id, held, "--take", "ours", "--db", str(db))
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "was not merged: approval refused: the merged result fails its tests" in refused.stderr
    assert f"test_{held}" in refused.stderr  # the test output comes with the refusal
    assert git(project, "rev-parse", integration) == head  # nothing moved
    after = events_of(db)[len(events) :]
    tested = [e for e in after if e["type"] == "MergeTested"]
    assert [(e["tasks"], e["passed"]) for e in tested] == [([held], False)]
    assert after[-1]["type"] == "MergeWaiting" and after[-1]["task"] == held
    assert "approval refused" in after[-1]["reasons"][0]
    assert not [e for e in after if e["type"] in ("Merged", "MergeApproved")]
    listing = run_cli("merges", run_id, "--db", str(db))
    assert held in listing.stdout and "approval refused" in listing.stdout
    assert worktrees(project) == [str(project)]
