"""Executors: where an attempt's agent works, commits and runs the tests.

The attempt runner decides what happens (rounds, the fix loop, the critic); an executor
decides where. The local executor gives each attempt a git worktree of the user's repository;
the Ray executor (`engine.ray_executor`) a clone on a cluster node. Either way the task's
commit ends up in the repository here, on the task's branch, for the merge queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from maestro_tui.agents.base import Reporter, Worker, WorkerJob, WorkerResult
from maestro_tui.process import LineSink, Sandbox
from maestro_tui.watch import watching
from maestro_tui.workspace.merge import check_out_merge
from maestro_tui.workspace.prepare import Prepared, Preparer
from maestro_tui.workspace.repo import CommitInfo, Workspace
from maestro_tui.workspace.validate import TestResult, run_tests

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


class LocalCopy:
    """A git worktree of the user's repository, under the worktree root ([run] worktree_root)."""

    def __init__(self, ws: Workspace, path: Path, preparer: Preparer | None = None) -> None:
        self.ws = ws
        self.path = path
        self.shown = str(path)
        self.steerable = True
        self.env: Mapping[str, str] = {}
        self._preparer = preparer
        self._prepared: Prepared | None = None

    async def prepare(
        self, env: Mapping[str, str], sandbox: Sandbox | None, on_line: LineSink
    ) -> None:
        if self._preparer is not None:
            self._prepared = await self._preparer.prepare(self.path, env, sandbox, on_line)
            self.env = self._prepared.env

    async def check_out_merge(self, onto: str, commit: str) -> tuple[str, ...]:
        return await asyncio.to_thread(check_out_merge, self.ws, self.path, onto, commit)

    def watching(self, on_change: OnChange) -> contextlib.AbstractAsyncContextManager[None]:
        return watching(self.path, on_change)

    async def run(self, worker: Worker, job: WorkerJob, report: Reporter) -> WorkerResult:
        return await worker.run(job, report)

    async def commit(
        self,
        base: str,
        subject: str,
        body: str,
        trailers: Mapping[str, str],
        exclude: Sequence[str] = (),
    ) -> CommitInfo | None:
        return await asyncio.to_thread(
            self.ws.commit_all, self.path, base, subject, body, trailers, exclude
        )

    async def run_tests(
        self,
        command: str,
        timeout_s: float | None,
        env: Mapping[str, str],
        sandbox: Sandbox | None = None,
    ) -> TestResult:
        if self._preparer is not None and self._prepared is not None:
            return await self._preparer.run_tests(command, self._prepared, timeout_s, env, sandbox)
        return await run_tests(command, self.path, timeout_s, env=env, sandbox=sandbox)

    async def close(self) -> None:
        if self._preparer is not None:
            self._preparer.release(self.path)
        await asyncio.shield(asyncio.to_thread(self.ws.remove_worktree, self.path))


class LocalExecutor:
    """Today's way: every attempt in a worktree of the repository, on this machine."""

    def __init__(self, ws: Workspace, preparer: Preparer | None = None) -> None:
        self.ws = ws
        self.preparer = preparer

    async def open(self, run_id: str, label: str, attempt: int, base: str) -> WorkingCopy:
        path = await asyncio.to_thread(self.ws.add_worktree, run_id, label, attempt, base)
        return LocalCopy(self.ws, path, self.preparer)

    async def aclose(self) -> None:
        return None
