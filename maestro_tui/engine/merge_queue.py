"""Merge queue: one merge into the integration branch at a time, by policy, or held for review."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.scheduler import Outcome
from maestro_tui.workspace.merge import ConflictFile, check_merge, merge_into, resolve_text
from maestro_tui.workspace.repo import Workspace

RESOLUTIONS = ("ours", "theirs")


class MergeNeedsResolution(Exception):
    """Approving a conflicting merge needs a resolution (ours/theirs or resolved files)."""

    def __init__(self, task_id: str, files: tuple[str, ...]) -> None:
        self.files = files
        super().__init__(
            f"task '{task_id}' conflicts with the integration branch in {', '.join(files)}:"
            " approve with --take ours|theirs, resolve it in the TUI's merge review, or reject it"
        )


@dataclass(frozen=True)
class MergeLimits:
    max_lines: int = 500
    max_files: int = 25


@dataclass(frozen=True)
class PendingMerge:
    task_id: str
    title: str
    commit: str
    summary: str = ""


@dataclass(frozen=True)
class Candidate:
    """A finished task's result as the queue judges it."""

    task_id: str
    title: str
    commit: str
    summary: str
    files_changed: int
    lines_changed: int
    tests_passed: bool | None = None  # None: no test command configured
    tests_detail: str = ""


class MergeQueue:
    """Checks each result with `git merge-tree` and merges it, or holds it for the human."""

    def __init__(
        self,
        bus: EventBus,
        ws: Workspace,
        integration_branch: str,
        *,
        policy: str = "auto",
        limits: MergeLimits | None = None,
        pending: Mapping[str, PendingMerge] | None = None,
    ) -> None:
        self._bus = bus
        self._ws = ws
        self._branch = integration_branch
        self._policy = policy
        self._limits = limits or MergeLimits()
        self._pending: dict[str, PendingMerge] = dict(pending or {})
        self._lock = asyncio.Lock()
        # More reasons to hold a result for the human (an inbox item's labels, say).
        self.extra_reasons: Callable[[Candidate], list[str]] | None = None

    @property
    def waiting(self) -> list[PendingMerge]:
        return list(self._pending.values())

    def _reasons(self, c: Candidate) -> list[str]:
        reasons = []
        if c.tests_passed is False:
            reasons.append(f"tests failed{f' ({c.tests_detail})' if c.tests_detail else ''}")
        if c.lines_changed > self._limits.max_lines:
            reasons.append(
                f"diff of {c.lines_changed} lines is over the limit of {self._limits.max_lines}"
            )
        if c.files_changed > self._limits.max_files:
            reasons.append(
                f"{c.files_changed} files changed, over the limit of {self._limits.max_files}"
            )
        if self._policy == "review":
            reasons.append("merge policy is review")
        if self.extra_reasons is not None:
            reasons += [r for r in self.extra_reasons(c) if r not in reasons]
        return reasons

    async def submit(self, c: Candidate) -> Outcome:
        """Merge a finished task's commit now if policy allows, else hold it for review."""
        self._bus.emit(
            ev.MergeQueued,
            task=c.task_id,
            commit=c.commit,
            files_changed=c.files_changed,
            lines_changed=c.lines_changed,
        )
        async with self._lock:
            head = self._head()
            check = await asyncio.to_thread(check_merge, self._ws, head, c.commit)
            reasons = self._reasons(c)
            if not check.clean:
                files = tuple(f.path for f in check.conflicts)
                self._bus.emit(ev.MergeConflict, task=c.task_id, files=files)
                reasons.insert(0, f"conflicts with the integration branch in {', '.join(files)}")
            if reasons:
                self._pending[c.task_id] = PendingMerge(c.task_id, c.title, c.commit, c.summary)
                self._bus.emit(ev.MergeWaiting, task=c.task_id, reasons=tuple(reasons))
                return Outcome.HELD
            new_head = await asyncio.to_thread(
                merge_into,
                self._ws,
                self._branch,
                c.commit,
                self._message(c.task_id, c.title, c.summary),
            )
            self._bus.emit(ev.Merged, task=c.task_id, commit=new_head, auto=True)
            return Outcome.SATISFIED

    async def conflicts(self, task_id: str) -> tuple[ConflictFile, ...]:
        """The conflicts a waiting merge has against the integration branch as it is now."""
        pending = self._get(task_id)
        check = await asyncio.to_thread(check_merge, self._ws, self._head(), pending.commit)
        return check.conflicts

    async def approve(self, task_id: str, resolution: str | Mapping[str, str] | None = None) -> str:
        """Merge a waiting result. Conflicts need `resolution`: "ours", "theirs" or path -> text."""
        pending = self._get(task_id)
        async with self._lock:
            check = await asyncio.to_thread(check_merge, self._ws, self._head(), pending.commit)
            resolved: Mapping[str, str] | None = None
            label = ""
            if not check.clean:
                files = tuple(f.path for f in check.conflicts)
                if resolution is None:
                    raise MergeNeedsResolution(task_id, files)
                if isinstance(resolution, str):
                    resolved = _take_side(task_id, check.conflicts, resolution)
                    label = resolution
                else:
                    resolved, label = resolution, "manual"
            new_head = await asyncio.to_thread(
                merge_into,
                self._ws,
                self._branch,
                pending.commit,
                self._message(task_id, pending.title, pending.summary),
                resolved,
            )
            del self._pending[task_id]
            self._bus.emit(ev.MergeApproved, task=task_id, resolution=label)
            self._bus.emit(ev.Merged, task=task_id, commit=new_head, auto=False)
            return new_head

    async def reject(self, task_id: str, reason: str = "") -> None:
        self._get(task_id)
        del self._pending[task_id]
        self._bus.emit(ev.MergeRejected, task=task_id, reason=reason or "rejected by the reviewer")

    def swap(self, task_id: str, commit: str) -> None:
        """Hold another result for the same task instead (the human picked another candidate)."""
        pending = self._get(task_id)
        self._pending[task_id] = PendingMerge(task_id, pending.title, commit, pending.summary)
        self._bus.emit(ev.MergeQueued, task=task_id, commit=commit)
        self._bus.emit(ev.MergeWaiting, task=task_id, reasons=("candidate picked by the reviewer",))

    def withdraw(self, task_id: str) -> None:
        """Drop a waiting result so its task can run again on the current integration branch."""
        self._get(task_id)
        del self._pending[task_id]
        self._bus.emit(
            ev.MergeRejected, task=task_id, reason="withdrawn: retrying on the current branch"
        )

    def _get(self, task_id: str) -> PendingMerge:
        try:
            return self._pending[task_id]
        except KeyError:
            waiting = ", ".join(sorted(self._pending)) or "none"
            raise KeyError(
                f"task '{task_id}' has no merge waiting for review (waiting: {waiting})"
            ) from None

    def _head(self) -> str:
        head = self._ws.branch_head(self._branch)
        if head is None:
            raise RuntimeError(f"integration branch {self._branch} is missing")
        return head

    def _message(self, task_id: str, title: str, summary: str) -> str:
        body = f"\n\n{summary.strip()}" if summary.strip() else ""
        return (
            f"Merge task {task_id}: {title}{body}\n\n"
            f"Maestro-Run: {self._bus.run_id}\nMaestro-Merged-Task: {task_id}\n"
        )


def _take_side(task_id: str, conflicts: tuple[ConflictFile, ...], side: str) -> dict[str, str]:
    if side not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}, got {side!r}")
    unresolvable = [f.path for f in conflicts if not f.hunks]
    if unresolvable:
        raise MergeNeedsResolution(task_id, tuple(unresolvable))
    return {f.path: resolve_text(f, [side] * len(f.hunks)) for f in conflicts}
