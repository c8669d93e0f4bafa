"""DAG algorithms."""

from __future__ import annotations

import random

import pytest

from maestro_tui.domain.dag import (
    critical_path,
    critical_path_lengths,
    descendants,
    find_cycle,
    topological_layers,
)


def test_layers_and_critical_path() -> None:
    g = {"a": [], "b": [], "c": ["a"], "d": ["a", "b"], "e": ["c", "d"]}
    assert topological_layers(g) == [["a", "b"], ["c", "d"], ["e"]]
    assert critical_path_lengths(g) == {"e": 1, "c": 2, "d": 2, "a": 3, "b": 3}
    assert critical_path(g)[0] in {"a", "b"} and critical_path(g)[-1] == "e"
    assert descendants(g, "a") == {"c", "d", "e"}


def test_cycle_detection_and_layers_refuse_cycles() -> None:
    assert find_cycle({"a": ["b"], "b": ["a"]}) in (["a", "b", "a"], ["b", "a", "b"])
    assert find_cycle({"a": [], "b": ["a"]}) is None
    with pytest.raises(ValueError, match="cycle"):
        topological_layers({"a": ["b"], "b": ["a"]})


def test_long_chain_has_no_recursion_limit() -> None:
    g = {f"n{i}": [f"n{i - 1}"] if i else [] for i in range(20_000)}
    assert find_cycle(g) is None
    assert len(topological_layers(g)) == 20_000
    assert critical_path_lengths(g)["n0"] == 20_000


def test_random_dags_layers_respect_dependencies() -> None:
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(1, 60)
        g = {f"t{i}": [f"t{j}" for j in range(i) if rng.random() < 0.1] for i in range(n)}
        layer_of = {node: k for k, layer in enumerate(topological_layers(g)) for node in layer}
        for node, deps in g.items():
            assert all(layer_of[d] < layer_of[node] for d in deps)
