"""Overlaps: tasks that name a common file and have no order between them.

Run at once from the same base, two such tasks may well edit the same lines and conflict at
merge time. The plan says so before anything runs: [plan] overlaps = "serialize" orders each
such pair (the later task in plan order runs `after` the earlier one, which is not a
dependency: it waits for the earlier task to settle, whatever its outcome, so it starts on top
of that work); "parallel" leaves them to run at once, and any conflict to the merge review.

A file is common to two tasks when both name it, or one names a folder holding the other's
file. Reviews (role "reviewer") change nothing, so they overlap with nothing. Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from maestro_tui.domain.dag import find_cycle, topological_layers
from maestro_tui.domain.plan import Plan, Task

POLICIES = ("serialize", "parallel")


@dataclass(frozen=True)
class Overlap:
    """Two tasks that name common files; `first` comes before `second` in plan order."""

    first: str
    second: str
    files: tuple[str, ...]

    def describe(self, ordered: bool) -> str:
        """One line: the order added for the pair, or the conflict it may bring."""
        shared = ", ".join(self.files[:3]) + (" …" if len(self.files) > 3 else "")
        if ordered:
            why = f": both name {shared}" if shared else ""
            return f"{self.second} runs after {self.first}{why}"
        return f"{self.first} and {self.second} may conflict: both name {shared}, no order"


def _changes_files(task: Task) -> bool:
    return bool(task.files) and task.role != "reviewer"


def _shared_files(plan: Plan) -> dict[tuple[int, int], set[str]]:
    """(earlier index, later index) -> the files both name, for every pair that shares one."""
    naming: dict[PurePosixPath, set[int]] = defaultdict(set)
    for i, task in enumerate(plan.tasks):
        if _changes_files(task):
            for name in task.files:
                naming[PurePosixPath(name)].add(i)
    shared: dict[tuple[int, int], set[str]] = defaultdict(set)
    for path, tasks in naming.items():
        # The same file, or a folder one task names and a file under it another names.
        for holder in (path, *path.parents):
            for i in naming.get(holder, ()):
                for j in tasks:
                    if i != j:
                        shared[(min(i, j), max(i, j))].add(str(path))
    return shared


class _Order:
    """Which tasks wait for which, transitively, as bit sets; edges can be added as it goes."""

    def __init__(self, tasks: Sequence[Task], graph: Mapping[str, Sequence[str]]) -> None:
        self.index = {t.id: i for i, t in enumerate(tasks)}
        self.waits: list[int] = [0] * len(tasks)  # bit j set: task i waits for task j
        for layer in topological_layers(graph):
            for node in layer:
                bits = 0
                for dep in graph[node]:
                    if dep in self.index:
                        bits |= self.waits[self.index[dep]] | 1 << self.index[dep]
                self.waits[self.index[node]] = bits

    def ordered(self, i: int, j: int) -> bool:
        return bool(self.waits[i] >> j & 1 or self.waits[j] >> i & 1)

    def add(self, later: int, earlier: int) -> None:
        """`later` now waits for `earlier`: so does everything that waits for `later`."""
        gained = self.waits[earlier] | 1 << earlier
        for n, bits in enumerate(self.waits):
            if n == later or bits >> later & 1:
                self.waits[n] = bits | gained


def find_overlaps(plan: Plan) -> list[Overlap]:
    """Pairs of tasks that name a common file and have no order between them, in plan order."""
    shared = _shared_files(plan)
    if not shared:
        return []
    order = _Order(plan.tasks, plan.graph())
    return [
        Overlap(plan.tasks[i].id, plan.tasks[j].id, tuple(sorted(files)))
        for (i, j), files in sorted(shared.items())
        if not order.ordered(i, j)
    ]


def ordered_overlaps(plan: Plan) -> list[Overlap]:
    """Each task's `after` orders, with the files the two tasks share."""
    index = {t.id: i for i, t in enumerate(plan.tasks)}
    shared = _shared_files(plan)
    found = []
    for task in plan.tasks:
        for earlier in task.after:
            if earlier in index:
                key = (min(index[earlier], index[task.id]), max(index[earlier], index[task.id]))
                found.append(Overlap(earlier, task.id, tuple(sorted(shared.get(key, ())))))
    return found


def serialize_overlaps(plan: Plan) -> Plan:
    """`plan` with an `after` order for each overlap: the later task in plan order runs after
    the nearest earlier one it overlaps, unless an order between them follows from others.
    A plan with a cycle is returned as it is (its validation names the cycle)."""
    shared = _shared_files(plan)
    if not shared or find_cycle(plan.graph()):
        return plan
    order = _Order(plan.tasks, plan.graph())
    partners: dict[int, list[int]] = defaultdict(list)
    for i, j in shared:
        partners[j].append(i)
    added: dict[int, list[str]] = defaultdict(list)
    for later in sorted(partners):
        for earlier in sorted(partners[later], reverse=True):  # the nearest first
            if not order.ordered(earlier, later):
                order.add(later, earlier)
                added[later].append(plan.tasks[earlier].id)
    if not added:
        return plan
    tasks = tuple(
        replace(t, after=(*t.after, *added[i])) if i in added else t
        for i, t in enumerate(plan.tasks)
    )
    return replace(plan, tasks=tasks)


def arrange_overlaps(plan: Plan, policy: str) -> Plan:
    """The plan as [plan] overlaps wants it: serialized, or as it is ("parallel")."""
    return serialize_overlaps(plan) if policy == "serialize" else plan


def overlap_lines(plan: Plan) -> list[str]:
    """What a person reviewing the plan should know of its overlaps, one line each."""
    lines = [o.describe(ordered=True) for o in ordered_overlaps(plan)]
    return lines + [o.describe(ordered=False) for o in find_overlaps(plan)]
