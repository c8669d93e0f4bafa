"""`run --inbox DIR` and `run --workflow NAME` end to end on a real repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import events_of, git, run_cli


def test_inbox_items_become_routed_tasks_and_risky_ones_wait(project: Path, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "fix-sub.md").write_text(
        "# add() should have a sub() sibling\nlabels: bug\n\n"
        "@append calc/ops.py :: \\n\\ndef sub(a, b):\\n    return a - b\n"
    )
    (inbox / "auth.md").write_text(
        "# Tighten the settings\nlabels: security\n\n@append calc/settings.py :: STRICT = True\n"
    )
    db = tmp_path / "runs.db"
    result = run_cli(
        "run", "--inbox", str(inbox), "--repo", str(project), "--headless", "--yes", "--db", str(db)
    )
    assert result.returncode == 3, result.stdout + result.stderr
    events = events_of(db)
    plan = next(e for e in events if e["type"] == "PlanProposed")["plan"]
    roles = {t["id"]: t["role"] for t in plan["tasks"]}
    assert roles == {"fix-sub": "coder", "auth": "coder"}
    merged = {e["task"] for e in events if e["type"] == "Merged"}
    waiting = {e["task"]: e["reasons"] for e in events if e["type"] == "MergeWaiting"}
    assert merged == {"fix-sub"}
    assert "labelled 'security'" in waiting["auth"]
    assert "coordination metrics:" in result.stdout and "test-signal" in result.stdout


def test_a_workflow_expands_over_files(project: Path, tmp_path: Path) -> None:
    with (project / "maestro.toml").open("a") as fh:
        fh.write(
            '\n[workflows.stamp]\nmatch = ["calc/*.py"]\nexclude = ["**/__init__.py"]\n'
            'prompt = "@append {file} :: # reviewed: {module}"\nbudget_tokens = 5000\n'
        )
    git(project, "commit", "-qam", "a workflow")
    db = tmp_path / "runs.db"
    result = run_cli(
        "run", "--workflow", "stamp", "--repo", str(project), "--headless", "--yes", "--db", str(db)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    events = events_of(db)
    plan = next(e for e in events if e["type"] == "PlanProposed")["plan"]
    assert sorted(t["files"][0] for t in plan["tasks"]) == ["calc/ops.py", "calc/settings.py"]
    assert all(t["budget_tokens"] == 5000 for t in plan["tasks"])
    run_id = events[0]["run_id"]
    ops = git(project, "show", f"maestro/{run_id}:calc/ops.py")
    assert ops.endswith("# reviewed: calc.ops")
    runs = json.loads(run_cli("runs", "--json", "--db", str(db)).stdout.splitlines()[0])
    assert runs["metrics"]["tasks_succeeded"] == 2


def test_unknown_workflow_and_empty_inbox_are_bad_input(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    result = run_cli(
        "run", "--workflow", "nope", "--repo", str(project), "--yes", "--headless", "--db", str(db)
    )
    assert result.returncode == 2 and "no workflow 'nope'" in result.stderr
    assert "bugfix" in result.stderr  # the built-ins are listed
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli(
        "run", "--inbox", str(empty), "--repo", str(project), "--yes", "--headless", "--db", str(db)
    )
    assert result.returncode == 2 and "no .md or .json issues" in result.stderr
    assert not db.exists()


def test_workflows_lists_each_with_where_it_comes_from(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from maestro_tui import cli

    (project / "workflows").mkdir()
    (project / "workflows" / "headers.toml").write_text(
        'description = "Add a licence header to every module"\nmatch = ["calc/*.py"]\n'
        'prompt = "@append {file} :: # licence"\n'
    )
    with (project / "maestro.toml").open("a") as fh:
        fh.write(  # this one replaces the built-in of the same name
            '\n[workflows.fix-lint]\ndescription = "Our lint, our way: {goal}"\n'
            'match = ["calc/*.py"]\nprompt = "@append {file} :: # {goal}"\n'
        )

    assert cli.main(["workflows", "--repo", str(project)]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines[1:] if line and not line.startswith("run")}
    assert set(rows) == {"bugfix", "docstrings-everywhere", "fix-lint", "headers",
                         "tests-for-every-module"}  # fmt: skip
    assert "workflows/headers.toml" in rows["headers"] and "licence header" in rows["headers"]
    assert "maestro.toml [workflows.fix-lint]" in rows["fix-lint"]
    assert rows["fix-lint"].endswith("(give a goal)") and rows["bugfix"].endswith("(give a goal)")
    assert "built-in" in rows["tests-for-every-module"]

    assert cli.main(["workflows", "--repo", str(project), "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {w["name"]: w["needs_goal"] for w in listed}["headers"] is False

    (project / "workflows" / "broken.toml").write_text("match = [\n")
    assert cli.main(["workflows", "--repo", str(project)]) == 2  # bad input, named
    assert "workflows/broken.toml: not valid TOML" in capsys.readouterr().err
