"""The local executor: each attempt works in a git worktree of the user's repository."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path

from maestro_tui.agents.base import Reporter, Worker, WorkerJob, WorkerResult
from maestro_tui.engine.executors.base import OnChange, WorkingCopy
from maestro_tui.process import LineSink, Sandbox
from maestro_tui.watch import watching
from maestro_tui.workspace.merge import check_out_merge
from maestro_tui.workspace.prepare import Prepared, Preparer
from maestro_tui.workspace.repo import CommitInfo, Workspace
from maestro_tui.workspace.validate import TestResult, run_tests


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
