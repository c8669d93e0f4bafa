"""Plan loading and validation: every bad plan names the task at fault."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain.plan import PlanError, load_plan, parse_plan, plan_to_toml, validate_plan


def tasks(*specs: dict[str, Any]) -> dict[str, Any]:
    return {"goal": "g", "tasks": list(specs)}


def problems_of(data: dict[str, Any], root: Path | None = None) -> list[str]:
    with pytest.raises(PlanError) as info:
        validate_plan(parse_plan(data), repo_root=root)
    return info.value.problems


def test_valid_plan_round_trips_through_toml(tmp_path: Path) -> None:
    plan = parse_plan(
        tasks(
            {"id": "a", "title": "Add hints", "prompt": 'say "hi"\nand more', "files": ["x.py"]},
            {"id": "b", "prompt": "p", "depends_on": ["a"], "role": "tester", "worker": "aider"},
        )
    )
    validate_plan(plan)
    path = tmp_path / "plan.toml"
    path.write_text(plan_to_toml(plan))
    assert load_plan(path) == plan


def test_json_plan_loads(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(tasks({"id": "a", "prompt": "p", "files": "one.py"})))
    plan = load_plan(path)
    assert plan.tasks[0].files == ("one.py",)
    assert plan.tasks[0].title == "a"


def test_duplicate_unknown_dep_and_empty_prompt_are_named() -> None:
    found = problems_of(
        tasks(
            {"id": "a", "prompt": "p"},
            {"id": "a", "prompt": "q"},
            {"id": "b", "prompt": " ", "depends_on": ["ghost"]},
        )
    )
    assert "task 'a': duplicate id" in found
    assert "task 'b': empty prompt" in found
    assert "task 'b': unknown dependency 'ghost'" in found


def test_cycle_prints_its_path() -> None:
    found = problems_of(
        tasks(
            {"id": "a", "prompt": "p", "depends_on": ["c"]},
            {"id": "b", "prompt": "p", "depends_on": ["a"]},
            {"id": "c", "prompt": "p", "depends_on": ["b"]},
            {"id": "d", "prompt": "p"},
        )
    )
    assert len(found) == 1
    assert found[0].startswith("dependency cycle: ")
    path = found[0].removeprefix("dependency cycle: ").split(" -> ")
    assert path[0] == path[-1] and set(path) == {"a", "b", "c"}


def test_self_dependency() -> None:
    assert "task 'a': depends on itself" in problems_of(
        tasks({"id": "a", "prompt": "p", "depends_on": "a"})
    )


def test_files_outside_the_repo(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/etc")
    found = problems_of(
        tasks(
            {"id": "a", "prompt": "p", "files": ["../secret.py"]},
            {"id": "b", "prompt": "p", "files": ["/etc/passwd"]},
            {"id": "c", "prompt": "p", "files": ["link/passwd"]},
            {"id": "d", "prompt": "p", "files": ["ok/fine.py"]},
        ),
        root=tmp_path,
    )
    assert any(p.startswith("task 'a': file '../secret.py'") for p in found)
    assert any(p.startswith("task 'b': file '/etc/passwd' is an absolute path") for p in found)
    assert any(p.startswith("task 'c': file 'link/passwd' resolves outside") for p in found)
    assert not any("task 'd'" in p for p in found)


def test_task_id_must_make_a_branch_name() -> None:
    found = problems_of(tasks({"id": "a b;rm", "prompt": "p"}))
    assert "it names a git branch" in found[0]


def test_structural_errors() -> None:
    with pytest.raises(PlanError, match="no tasks"):
        parse_plan({"tasks": []})
    with pytest.raises(PlanError, match="unknown key"):
        parse_plan(tasks({"id": "a", "prompt": "p", "prio": 3}))
    with pytest.raises(PlanError, match="missing 'id'"):
        parse_plan(tasks({"prompt": "p"}))
    with pytest.raises(PlanError, match="list of strings"):
        parse_plan(tasks({"id": "a", "prompt": "p", "files": [1, 2]}))


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read plan file"):
        load_plan(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[[tasks]\nid=")
    with pytest.raises(PlanError, match="is not valid TOML"):
        load_plan(bad)
