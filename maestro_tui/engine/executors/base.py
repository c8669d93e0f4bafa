"""What every executor gives an attempt: a working copy of its task branch, wherever it is.

The attempt runner decides what happens (rounds, the fix loop, the critic); an executor
decides where. The local executor gives each attempt a git worktree of the user's repository;
the Ray executor (`engine.executors.ray_executor`) a clone on a cluster node. Either way the task's
commit ends up in the repository here, on the task's branch, for the merge queue.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from maestro_tui.agents.base import Reporter, Worker, WorkerJob, WorkerResult
from maestro_tui.process import LineSink, Sandbox
from maestro_tui.workspace.repo import CommitInfo
from maestro_tui.workspace.validate import TestResult

OnChange = Callable[[str, str], None]  # (repo-relative path, "added" | "modified" | "deleted")


class ExecutorError(Exception):
    """The executor cannot run attempts (Ray not installed, the cluster not reachable); the
    message says what to do. Bad input: found before the run starts."""


class WorkingCopy(Protocol):
    """One attempt's checkout of the task branch, wherever it is."""

    path: Path  # where the agent works, as the agent sees it
    shown: str  # the path to show a person on this machine; "" when it is elsewhere
    steerable: bool  # can the person's messages reach the agent while it works
    env: Mapping[str, str]  # what preparing the checkout added to its processes' environment

    async def prepare(
        self, env: Mapping[str, str], sandbox: Sandbox | None, on_line: LineSink
    ) -> None:
        """Make the checkout like the user's ([worktree]: copy, port, Python, setup) before
        the agent starts; raises SetupFailed."""
        ...

    async def check_out_merge(self, onto: str, commit: str) -> tuple[str, ...]:
        """Put `commit` merged onto the base in the files, uncommitted, conflicts marked;
        returns the conflicted paths."""
        ...

    def watching(self, on_change: OnChange) -> contextlib.AbstractAsyncContextManager[None]:
        """Report the files the agent changes while the context is open."""
        ...

    async def run(self, worker: Worker, job: WorkerJob, report: Reporter) -> WorkerResult: ...

    async def commit(
        self,
        base: str,
        subject: str,
        body: str,
        trailers: Mapping[str, str],
        exclude: Sequence[str] = (),
    ) -> CommitInfo | None:
        """Squash the agent's work since `base` into one commit on the task branch, in the
        repository here; None when nothing changed."""
        ...

    async def run_tests(
        self,
        command: str,
        timeout_s: float | None,
        env: Mapping[str, str],
        sandbox: Sandbox | None = None,
    ) -> TestResult:
        """The test command on the committed work, confined like the agent when `sandbox`."""
        ...

    async def close(self) -> None:
        """Remove the checkout (the task branch stays)."""
        ...


class Executor(Protocol):
    async def open(self, run_id: str, label: str, attempt: int, base: str) -> WorkingCopy:
        """A fresh checkout of the task branch `label`, reset to `base`."""
        ...

    async def aclose(self) -> None: ...
