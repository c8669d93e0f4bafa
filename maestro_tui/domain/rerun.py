"""Which tasks a re-run runs again and which it takes over as they merged: pure DAG work.

`--from TASK` names the tasks under study: they run again, and so does everything that
depends on them (their old results were made on top of the old ones). Every other task that
settled as satisfied in the run re-run (merged, or done with nothing to merge) is taken over;
so is every task named with `--keep` (and what it depends on), which is how a re-run of the
whole plan (no `--from`) keeps a few tasks. A task that did not merge there cannot be taken
over: it runs again, and so does whatever depends on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from maestro_tui.domain.dag import descendants, topological_layers

SATISFIED = ("merged", "done")


class ScopeError(ValueError):
    """The tasks named cannot be re-run or kept that way; the message says why."""


@dataclass(frozen=True)
class RerunScope:
    """The tasks a re-run runs again and those it takes over, each in plan order."""

    rerun: tuple[str, ...]
    taken_over: tuple[str, ...]
    why: Mapping[str, str]  # task that runs again -> why

    def demote(self, task: str, why: str, graph: Mapping[str, Sequence[str]]) -> RerunScope:
        """Run `task` again after all (its result did not apply), with what depends on it."""
        order = list(graph)
        gone = {task} | _below(graph, [task])
        moved = [t for t in self.taken_over if t in gone]
        reasons = dict(self.why)
        for t in moved:
            reasons[t] = why if t == task else f"it depends on {task}, which runs again"
        rerun = set(self.rerun) | set(moved)
        return replace(
            self,
            rerun=tuple(t for t in order if t in rerun),
            taken_over=tuple(t for t in self.taken_over if t not in gone),
            why=reasons,
        )


def _below(graph: Mapping[str, Sequence[str]], tasks: Iterable[str]) -> set[str]:
    """Every task that depends on one of `tasks`, directly or not."""
    return set().union(*(descendants(graph, t) for t in tasks))


def _above(graph: Mapping[str, Sequence[str]], tasks: Iterable[str]) -> set[str]:
    """Every task that one of `tasks` depends on, directly or not."""
    out: set[str] = set()
    stack = [d for t in tasks for d in graph.get(t, ())]
    while stack:
        node = stack.pop()
        if node not in out and node in graph:
            out.add(node)
            stack.extend(graph[node])
    return out


def rerun_scope(
    graph: Mapping[str, Sequence[str]],
    statuses: Mapping[str, str],
    from_tasks: Sequence[str] = (),
    keep: Sequence[str] = (),
) -> RerunScope:
    """Split the plan (`graph`: task -> what it depends on, in plan order) into what runs again
    and what is taken over, given each task's status in the run re-run."""
    unknown = [t for t in (*from_tasks, *keep) if t not in graph]
    if unknown:
        raise ScopeError(
            f"no task {', '.join(repr(t) for t in unknown)} in the plan;"
            f" its tasks: {', '.join(graph)}"
        )
    studied = set(from_tasks) | _below(graph, from_tasks) if from_tasks else set(graph)
    kept = set(keep) | _above(graph, keep)
    clash = sorted(set(keep) & studied) if from_tasks else []
    if clash:
        raise ScopeError(
            f"cannot keep {', '.join(clash)}: it is, or depends on, a task re-run with --from"
        )
    for task in sorted(kept):
        if statuses.get(task) not in SATISFIED:
            raise ScopeError(
                f"cannot keep {task}: it ended {statuses.get(task, 'not run')} there,"
                " with no result to take over"
            )
    why: dict[str, str] = {}
    taken: set[str] = set()
    for layer in topological_layers(graph):
        for task in layer:
            missing = [d for d in graph[task] if d not in taken]
            if task in studied and task not in kept and task in from_tasks:
                why[task] = "under study (--from)"
            elif task in studied and task not in kept and not from_tasks:
                why[task] = "every task runs again"
            elif missing:
                why[task] = f"it depends on {missing[0]}, which runs again"
            elif statuses.get(task) not in SATISFIED:
                why[task] = f"it ended {statuses.get(task, 'not run')} there"
            else:
                taken.add(task)
    order = list(graph)
    return RerunScope(
        rerun=tuple(t for t in order if t not in taken),
        taken_over=tuple(t for t in order if t in taken),
        why=why,
    )
