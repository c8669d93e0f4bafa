"""Overlaps: which tasks name a common file with no order between them, and the orders that
[plan] overlaps = "serialize" adds for them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from maestro_tui.domain.dag import topological_layers
from maestro_tui.domain.overlaps import (
    arrange_overlaps,
    find_overlaps,
    ordered_overlaps,
    overlap_lines,
    serialize_overlaps,
)
from maestro_tui.domain.plan import (
    Plan,
    PlanError,
    load_plan,
    parse_plan,
    plan_to_toml,
    validate_plan,
)
from maestro_tui.llm.demo.script import CONFLICTING_TASKS, demo_plan


def plan(*tasks: dict[str, Any]) -> Plan:
    return parse_plan({"goal": "g", "tasks": [{"prompt": "p", **t} for t in tasks]})


def pairs(p: Plan) -> list[tuple[str, str]]:
    return [(o.first, o.second) for o in find_overlaps(p)]


def test_a_common_file_or_folder_without_an_order_is_an_overlap() -> None:
    p = plan(
        {"id": "a", "files": ["src/x.py"]},
        {"id": "b", "files": ["./src/x.py", "src/y.py"]},  # the same file, written otherwise
        {"id": "c", "files": ["src"]},  # a folder holding both
        {"id": "d", "files": ["docs/z.md"]},
    )
    found = {(o.first, o.second): o.files for o in find_overlaps(p)}
    assert found == {
        ("a", "b"): ("src/x.py",),
        ("a", "c"): ("src/x.py",),
        ("b", "c"): ("src/x.py", "src/y.py"),
    }


def test_an_order_even_through_others_is_no_overlap_and_reviews_overlap_nothing() -> None:
    p = plan(
        {"id": "a", "files": ["x.py"]},
        {"id": "mid", "files": ["y.py"], "depends_on": ["a"]},
        {"id": "b", "files": ["x.py"], "depends_on": ["mid"]},  # after a, transitively
        {"id": "look", "files": ["x.py"], "role": "reviewer"},  # a review changes nothing
        {"id": "c", "files": ["x.py"], "after": ["b"]},  # ordered after b, so after a too
    )
    assert pairs(p) == []


def test_serialize_chains_each_file_nearest_first_with_no_redundant_order() -> None:
    p = plan(
        {"id": "a", "files": ["x.py"]},
        {"id": "b", "files": ["x.py"]},
        {"id": "c", "files": ["x.py", "y.py"]},
        {"id": "d", "files": ["y.py"], "depends_on": ["a"]},
    )
    assert pairs(p) == [("a", "b"), ("a", "c"), ("b", "c"), ("c", "d")]
    s = serialize_overlaps(p)
    assert {t.id: t.after for t in s.tasks} == {"a": (), "b": ("a",), "c": ("b",), "d": ("c",)}
    assert {t.id: t.depends_on for t in s.tasks} == {t.id: t.depends_on for t in p.tasks}
    assert find_overlaps(s) == [] and serialize_overlaps(s) == s  # nothing left: idempotent
    assert overlap_lines(s) == [
        "b runs after a: both name x.py",
        "c runs after b: both name x.py",
        "d runs after c: both name y.py",
    ]
    assert topological_layers(s.graph()) == [["a"], ["b"], ["c"], ["d"]]


def test_parallel_leaves_the_plan_and_says_what_may_conflict() -> None:
    p = plan({"id": "a", "files": ["x.py"]}, {"id": "b", "files": ["x.py"]})
    assert arrange_overlaps(p, "parallel") is p
    assert overlap_lines(p) == ["a and b may conflict: both name x.py, no order"]
    assert [t.after for t in arrange_overlaps(p, "serialize").tasks] == [(), ("a",)]


def test_the_demo_pair_is_ordered_by_serialize() -> None:
    p = parse_plan({"goal": "g", **demo_plan()})
    first, second = CONFLICTING_TASKS
    assert (first, second) in pairs(p)
    s = serialize_overlaps(p)
    assert s.by_id[second].after == (first,)
    assert find_overlaps(s) == []
    assert len(ordered_overlaps(s)) == 4  # shop/pricing.py's five tasks, in one chain


def test_after_round_trips_through_the_plan_file_and_is_validated(tmp_path: Path) -> None:
    s = serialize_overlaps(plan({"id": "a", "files": ["x.py"]}, {"id": "b", "files": ["x.py"]}))
    text = plan_to_toml(s)
    assert 'after = ["a"]' in text and "# after: not a dependency" in text
    path = tmp_path / "plan.toml"
    path.write_text(text)
    assert load_plan(path) == s
    with pytest.raises(PlanError) as info:
        validate_plan(plan({"id": "a", "after": ["a", "ghost"]}))
    assert info.value.problems == [
        "task 'a': runs after itself",
        "task 'a': runs after unknown task 'ghost'",
    ]
    with pytest.raises(PlanError, match="dependency cycle: a -> b -> a"):
        validate_plan(plan({"id": "a", "depends_on": ["b"]}, {"id": "b", "after": ["a"]}))


def test_a_plan_with_a_cycle_is_left_for_its_validation_to_name() -> None:
    p = plan(
        {"id": "a", "files": ["x.py"], "depends_on": ["b"]},
        {"id": "b", "depends_on": ["a"]},
        {"id": "c", "files": ["x.py"]},
    )
    assert serialize_overlaps(p) is p
