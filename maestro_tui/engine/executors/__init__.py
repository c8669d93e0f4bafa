"""Executors: where an attempt's agent works, commits and runs the tests.

The attempt runner decides what happens (rounds, the fix loop, the critic); an executor decides
where. The local executor gives each attempt a git worktree of the user's repository; the Ray
executor a clone on a cluster node. Either way the task's commit ends up in the repository
here, on the task's branch, for the merge queue. A person looking at a task's work gets its live
worktree or a scratch checkout (`checkout_for`).
"""

from typing import TYPE_CHECKING, Any

from maestro_tui.engine.executors.base import Executor, ExecutorError, OnChange, WorkingCopy
from maestro_tui.engine.executors.checkout import (
    NothingToSee,
    TaskCheckout,
    checkout_for,
    release,
)
from maestro_tui.engine.executors.local import LocalCopy, LocalExecutor

if TYPE_CHECKING:
    from maestro_tui.engine.executors.ray_executor import RayCopy, RayExecutor


def __getattr__(name: str) -> Any:
    """The Ray executor's names load on first use: most runs never touch Ray."""
    if name in ("RayCopy", "RayExecutor"):
        from maestro_tui.engine.executors import ray_executor

        return getattr(ray_executor, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Executor",
    "ExecutorError",
    "LocalCopy",
    "LocalExecutor",
    "NothingToSee",
    "OnChange",
    "RayCopy",
    "RayExecutor",
    "TaskCheckout",
    "WorkingCopy",
    "checkout_for",
    "release",
]
