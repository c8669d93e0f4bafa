"""Pure DAG algorithms over `{node: dependencies}` maps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

Graph = Mapping[str, Sequence[str]]


def dependents_of(graph: Graph) -> dict[str, list[str]]:
    """Invert the graph: node -> the nodes that depend on it directly."""
    dependents: dict[str, list[str]] = {n: [] for n in graph}
    for node, deps in graph.items():
        for dep in deps:
            if dep in dependents:
                dependents[dep].append(node)
    return dependents


def find_cycle(graph: Graph) -> list[str] | None:
    """Return one dependency cycle as a path `[a, b, ..., a]`, or None if the graph is acyclic."""
    WHITE, GREY, BLACK = 0, 1, 2
    colour = dict.fromkeys(graph, WHITE)
    for root in graph:
        if colour[root] != WHITE:
            continue
        # Iterative DFS so a 10k-node chain does not hit the recursion limit.
        stack: list[tuple[str, int]] = [(root, 0)]
        path: list[str] = [root]
        colour[root] = GREY
        while stack:
            node, i = stack[-1]
            deps = [d for d in graph.get(node, ()) if d in colour]
            if i < len(deps):
                stack[-1] = (node, i + 1)
                dep = deps[i]
                if colour[dep] == GREY:
                    return path[path.index(dep) :] + [dep]
                if colour[dep] == WHITE:
                    colour[dep] = GREY
                    stack.append((dep, 0))
                    path.append(dep)
            else:
                colour[node] = BLACK
                stack.pop()
                path.pop()
    return None


def topological_layers(graph: Graph) -> list[list[str]]:
    """Group nodes into layers: layer k holds nodes whose dependencies all lie in layers < k."""
    remaining = {n: sum(1 for d in deps if d in graph) for n, deps in graph.items()}
    dependents = dependents_of(graph)
    layer = [n for n, count in remaining.items() if count == 0]
    layers: list[list[str]] = []
    while layer:
        layers.append(layer)
        nxt: list[str] = []
        for node in layer:
            for child in dependents[node]:
                remaining[child] -= 1
                if remaining[child] == 0:
                    nxt.append(child)
        layer = nxt
    if sum(len(lay) for lay in layers) != len(graph):
        raise ValueError("graph has a cycle: " + " -> ".join(find_cycle(graph) or []))
    return layers


def critical_path_lengths(
    graph: Graph, weight: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Longest path (in node weights, default 1) from each node to the end of the DAG.

    A node with a long chain of dependents behind it should start first.
    """
    dependents = dependents_of(graph)
    length: dict[str, float] = {}
    for layer in reversed(topological_layers(graph)):
        for node in layer:
            w = weight.get(node, 1.0) if weight else 1.0
            length[node] = w + max((length[c] for c in dependents[node]), default=0.0)
    return length


def critical_path(graph: Graph) -> list[str]:
    """The longest dependency chain, first task first."""
    lengths = critical_path_lengths(graph)
    if not lengths:
        return []
    dependents = dependents_of(graph)
    node = max(lengths, key=lambda n: (lengths[n], n))
    path = [node]
    while dependents[node]:
        node = max(dependents[node], key=lambda n: (lengths[n], n))
        path.append(node)
    return path


def descendants(graph: Graph, node: str) -> set[str]:
    """Every node that depends on `node`, directly or not."""
    dependents = dependents_of(graph)
    out: set[str] = set()
    stack = list(dependents.get(node, ()))
    while stack:
        n = stack.pop()
        if n not in out:
            out.add(n)
            stack.extend(dependents[n])
    return out
