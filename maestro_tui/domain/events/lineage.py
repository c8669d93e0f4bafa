"""Events that say where a run comes from: its settings, the run it re-runs, what it took over.

A run records the settings it ran with (`RunConfigured`), so that `maestro-tui rerun` can run
the same plan again the same way with one thing changed. A re-run says which run it re-runs
(`RerunOf`), and each task it did not run again but took over as it had merged there
(`TaskTakenOver`): those are in its integration branch from the start and cost nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from maestro_tui.domain.events.base import Event


@dataclass(frozen=True, kw_only=True, slots=True)
class RunConfigured(Event):
    """The settings the run was started with, as JSON (a text field: keys are redacted from it
    like from any other), and which worker each task of the plan was given."""

    settings: str  # {"config": {...Config fields...}, "env": {...extra environment...}}
    workers: dict[str, str]  # task id -> the worker's name (e.g. "llm:demo/coder", "claude")


@dataclass(frozen=True, kw_only=True, slots=True)
class RerunOf(Event):
    """This run re-runs `source`: the same plan on the same base commit, with `changes`."""

    source: str  # the run it re-runs
    # The branch `source` started from: this run starts from the same commit, which the
    # branch may have moved past since, and lands where `source` would.
    base_branch: str = ""
    from_tasks: tuple[str, ...] = ()  # the tasks under study (--from); () = every task
    rerun: tuple[str, ...] = ()  # the tasks it runs again
    taken_over: tuple[str, ...] = ()  # the tasks it takes over as they merged in `source`
    changes: tuple[str, ...] = ()  # what differs, as the user gave it ("model=…", "merge.x=…")
    why_rerun: tuple[tuple[str, str], ...] = ()  # (task, why) for a task not taken over


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskTakenOver(Event):
    """A task settled as it merged in `source`, without running again (nothing paid for it).

    `commit` is what the re-run's integration branch moved to with it (None: the task had
    changed nothing there); `source_commit` the merge (or task commit) it was taken from.
    """

    task: str
    source: str
    source_commit: str | None = None
    commit: str | None = None
