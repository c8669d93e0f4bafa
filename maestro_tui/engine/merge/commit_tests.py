"""CommitTests: the project's test command run on one commit, in a scratch worktree of its own.

The merge gate tests merged trees here, and the attempts ask here whether the integration
branch itself is green before they charge a task for red tests. They remember which trees
passed, so a head the gate has already tested is never tested again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.process import Sandbox, base_env
from maestro_tui.workspace.prepare import Preparer, SetupFailed
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.validate import TestResult, run_tests

GATE_DIR_PREFIX = "gate-"  # the run's scratch worktrees that merged trees are tested in


@dataclass(frozen=True)
class BaseVerdict:
    """Whether a base commit passes its tests, and the tests that fail on it."""

    passed: bool
    failing: frozenset[str] = frozenset()


class CommitTests:
    """Runs the test command on commits, each in a fresh detached worktree removed afterwards."""

    def __init__(
        self,
        bus: EventBus,
        ws: Workspace,
        command: str,
        timeout_s: float | None,
        env: Mapping[str, str],
        sandbox: Sandbox | None = None,
        preparer: Preparer | None = None,
    ) -> None:
        self._bus = bus
        self._preparer = preparer  # [worktree]: each tree made like the user's checkout
        self._ws = ws
        self.command = command
        self._timeout = timeout_s
        self._env = base_env(dict(env))
        self._sandbox = sandbox  # the run's; each scratch worktree is writable in it
        self._green: set[str] = set()  # trees known to pass
        self._bases: dict[str, asyncio.Future[BaseVerdict]] = {}  # tree -> its check
        self._names = itertools.count(1)
        self._cleanups: set[asyncio.Future[None]] = set()

    def passed(self, tree: str) -> None:
        """Remember a tree that passed (the gate tested it)."""
        self._green.add(tree)

    def seed(self, commit: str, tree: str, result: TestResult, found_by: str) -> None:
        """What a test run outside the trials found on `commit` (the preflight): a green tree
        is not tested again, a red one is a BaseRed at once."""
        if result.passed:
            self._green.add(tree)
            return
        verdict: asyncio.Future[BaseVerdict] = asyncio.get_running_loop().create_future()
        verdict.set_result(self._red(commit, tree, found_by, result))
        self._bases[tree] = verdict

    def known_green(self, tree: str) -> bool:
        return tree in self._green

    async def run(self, commit: str) -> TestResult:
        """The test command's result on `commit`; the worktree is removed, even on cancel."""
        # Not beside the task worktrees (`<run>/<task>`): a task may be called gate-1.
        path = self._ws.scratch_path(self._bus.run_id, f"{GATE_DIR_PREFIX}{next(self._names)}")
        added = asyncio.ensure_future(
            asyncio.to_thread(self._ws.add_scratch_worktree, path, commit)
        )
        try:
            await asyncio.shield(added)
            sandbox = self._sandbox and self._sandbox.for_task(path)
            return await self._test(path, sandbox)
        finally:
            # Removed only once it is made (a cancel can come while git still adds it), and
            # whatever happens to this task: closing waits for every removal.
            cleanup = asyncio.ensure_future(self._remove(added, path))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.shield(cleanup)

    async def _test(self, path: Path, sandbox: Sandbox | None) -> TestResult:
        """Prepare the tree, then run the tests; a setup that fails is a red result that says
        why (a result that breaks `npm ci` is red as merged)."""
        if self._preparer is None:
            return await run_tests(self.command, path, self._timeout, self._env, sandbox=sandbox)
        try:
            prepared = await self._preparer.prepare(path, self._env, sandbox)
        except SetupFailed as exc:
            return TestResult(False, None, None, None, 0.0, str(exc)[-4000:], False)
        return await self._preparer.run_tests(
            self.command, prepared, self._timeout, self._env, sandbox
        )

    async def _remove(self, added: asyncio.Future[Path], path: Path) -> None:
        with contextlib.suppress(Exception):
            await added
        if self._preparer is not None:
            self._preparer.release(path)
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self._ws.remove_worktree, path)

    async def base_verdict(self, commit: str, found_by: str) -> BaseVerdict:
        """Does `commit` pass its tests? Tested at most once per tree; a red one is a BaseRed."""
        (tree,) = await asyncio.to_thread(self._ws.rev_parse, f"{commit}^{{tree}}")
        if tree in self._green:
            return BaseVerdict(True)
        check = self._bases.get(tree)
        if check is None:
            check = asyncio.ensure_future(self._check(commit, tree, found_by))
            self._bases[tree] = check
        return await asyncio.shield(check)

    async def _check(self, commit: str, tree: str, found_by: str) -> BaseVerdict:
        result = await self.run(commit)
        if result.passed:
            self._green.add(tree)
            return BaseVerdict(True)
        return self._red(commit, tree, found_by, result)

    def _red(self, commit: str, tree: str, found_by: str, result: TestResult) -> BaseVerdict:
        self._bus.emit(
            ev.BaseRed,
            commit=commit,
            tree=tree,
            found_by=found_by,
            n_failed=result.n_failed,
            output_tail=result.output_tail[-4000:],
        )
        return BaseVerdict(False, result.failing)

    async def aclose(self) -> None:
        """Stop base checks still running, and wait until every scratch worktree is gone."""
        pending = [c for c in self._bases.values() if not c.done()]
        for check in pending:
            check.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await asyncio.gather(*self._cleanups, return_exceptions=True)
