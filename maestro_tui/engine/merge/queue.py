"""Merge queue: each result goes into the integration branch through the gate, or waits.

A finished result is checked with `git merge-tree` against the branch head and judged by
policy (size limits, `review`, red tests in its own worktree, an inbox's hints). What passes
goes into the gate (engine/gate.py), which tests it *as merged* and lands it only if green;
everything else waits for the human. Without a test command (or with `[merge] speculate = 0`)
there is nothing to test, so results merge at once, as they always did, and the run says so
once (GateSkipped).

**The API the merge review screen builds on** (all on `MergeQueue`, mirrored by the
orchestrator's `merges`, engine/merge/decisions.py):

- `await approve(task_id, resolution=None) -> str`: lands a waiting result through the gate
  and returns the branch's new head. `resolution` settles conflicts: `"ours"`/`"theirs"` takes
  that side of every conflicting hunk, as recomputed on the head the merge is built on; a
  mapping `path -> resolved text` (None deletes the file) is used as it is, provided those
  files have not changed on the branch since the approval. It raises, and nothing moves:
  `KeyError` (no such waiting merge), `ValueError` (a bad side, or already being approved),
  `MergeNeedsResolution` (conflicts left; `stale` when the branch changed the resolved files:
  decide again), `MergeRefused` (the merged tree fails the tests, or the gate broke: `.output`
  holds the test output tail, also in the `MergeTested` event). The gate's progress is visible
  meanwhile as `MergeTesting`/`MergeTested` events naming the task.
- `await trial(task_id, resolution=None) -> TrialMerge`: the same merge built on the branch as it
  is now and tested in a scratch worktree, landing nothing (a "test this resolution" key);
  `TrialMerge.commit` holds the resolved files for a preview (`git show COMMIT:PATH`).
- `await conflicts(task_id)`: the conflicts against the branch as it is now.
- `await reject(task_id, reason)`; `withdraw` (to retry) and `swap` (another ensemble
  candidate) are synchronous. Each stops an approval still in the gate.
- Every decision is reported once through `on_decided` (the orchestrator frees or re-runs
  the task in the scheduler).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from maestro_tui.config import Config
from maestro_tui.domain import events as ev
from maestro_tui.domain.state import RunState
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge.commit_tests import CommitTests
from maestro_tui.engine.merge.gate import Gate, GateItem, merge_message
from maestro_tui.engine.merge.outcomes import MergeOutcomes, branch_head
from maestro_tui.engine.merge.policy import (
    RESOLUTIONS,
    WITHDRAWN,
    Candidate,
    Decision,
    FixRequest,
    GateSettings,
    MergeLimits,
    MergeNeedsResolution,
    MergeRefused,
    PendingMerge,
    Resolution,
    hold_reasons,
    resolved_source,
    take_side,
)
from maestro_tui.engine.scheduler import Outcome
from maestro_tui.process import Sandbox
from maestro_tui.workspace.merge import (
    ConflictFile,
    MergeSource,
    SourceConflicts,
    check_merge,
    merge_into,
    merge_sources,
)
from maestro_tui.workspace.prepare import Preparer
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.validate import TestResult

__all__ = [
    "RESOLUTIONS",
    "Candidate",
    "Decision",
    "FixRequest",
    "GateSettings",
    "MergeLimits",
    "MergeNeedsResolution",
    "MergeQueue",
    "MergeRefused",
    "PendingMerge",
    "TrialMerge",
]


@dataclass(frozen=True)
class TrialMerge:
    """A waiting merge tested as resolved on the current branch, without landing it."""

    commit: str  # the merge commit tested (on no branch)
    tree: str
    result: TestResult


class MergeQueue:
    """Judges each result, sends it through the gate or holds it for the human; what becomes
    of what it holds, and the gate's verdicts, are its MergeOutcomes'."""

    def __init__(
        self,
        bus: EventBus,
        ws: Workspace,
        integration_branch: str,
        *,
        policy: str = "auto",
        limits: MergeLimits | None = None,
        pending: Mapping[str, PendingMerge] | None = None,
        gate: GateSettings | None = None,
        rounds_used: Callable[[str], int] = lambda task_id: 0,
        on_decided: Callable[[Decision], None] = lambda decision: None,
        summary_of: Callable[[str], str] = lambda task_id: "",
    ) -> None:
        self._bus = bus
        self._ws = ws
        self._branch = integration_branch
        self._policy = policy
        self._limits = limits or MergeLimits()
        self._settings = gate or GateSettings()
        self._rounds_used = rounds_used
        self._decide = on_decided
        self._lock = asyncio.Lock()
        self._checking: set[str] = set()  # approvals being checked, not yet in the gate
        self._said_off = False
        # More reasons to hold a result for the human (an inbox item's labels, say).
        self.extra_reasons: Callable[[Candidate], list[str]] | None = None
        self._outcomes = MergeOutcomes(
            bus, ws, integration_branch, self._settings,
            waiting=pending or {}, rounds_used=rounds_used, summary_of=summary_of,
            decide=on_decided,
        )  # fmt: skip
        s = self._settings
        self.trials: CommitTests | None = None
        self._gate: Gate | None = None
        if not s.off_reason:
            self.trials = CommitTests(bus, ws, s.command, s.timeout_s, s.env, s.sandbox, s.preparer)
            self._gate = Gate(
                bus, ws, integration_branch, self.trials, self._outcomes,
                speculate=s.speculate, max_batch=s.max_batch, retest_red=s.retest_red,
            )  # fmt: skip

    @classmethod
    def for_run(
        cls,
        bus: EventBus,
        ws: Workspace,
        config: Config,
        state: Callable[[], RunState],
        *,
        env: Mapping[str, str],
        preparer: Preparer,
        on_decided: Callable[[Decision], None],
    ) -> MergeQueue:
        """The queue of a run as recorded now: its branch, policy and waiting merges; its gate
        as [tests] and [merge] say, confined like the run's agents ([sandbox])."""
        s, c = state(), config
        sandbox = Sandbox.for_run(c, ws.root, ws.common_dir, ws.worktree_roots())
        pending = {
            t.id: PendingMerge(t.id, t.title, t.commit, t.summary)
            for t in s.waiting_merges
            if t.commit
        }

        def fix_rounds(task_id: str) -> int:
            task = state().tasks.get(task_id)
            return task.fix_rounds if task else 0

        def summary_of(task_id: str) -> str:
            task = state().tasks.get(task_id)
            return task.summary if task else ""

        return cls(
            bus,
            ws,
            s.integration_branch,
            policy=s.merge_policy,
            limits=MergeLimits(c.max_diff_lines, c.max_diff_files),
            pending=pending,
            gate=GateSettings.from_config(c, env, sandbox, preparer),
            rounds_used=fix_rounds,
            on_decided=on_decided,
            summary_of=summary_of,
        )

    @property
    def waiting(self) -> list[PendingMerge]:
        return list(self._outcomes.waiting.values())

    @property
    def gated(self) -> bool:
        return self._gate is not None

    def fit_gate(self, test_run_s: float) -> int | None:
        """The gate's speculation fitted to how long one test run takes (Gate.fit_to); its
        width, None without a gate."""
        return self._gate.fit_to(test_run_s) if self._gate is not None else None

    async def submit(self, c: Candidate) -> Outcome:
        """Hold a result for review, or send it into the gate (GATED: decided later through
        `on_decided`); without a gate, merge it now (SATISFIED) or hold it (HELD)."""
        self._bus.emit(
            ev.MergeQueued,
            task=c.task_id,
            commit=c.commit,
            files_changed=c.files_changed,
            lines_changed=c.lines_changed,
        )
        if self._gate is None:
            async with self._lock:  # check and merge against the same head
                if (kept := await self._held(c)) is not None:
                    return kept
                await self._merge_now(c.task_id, c.title, c.commit, c.summary)
                return Outcome.SATISFIED
        if (kept := await self._held(c)) is not None:
            return kept
        self._gate.enqueue(
            GateItem(c.task_id, c.title, MergeSource(c.commit), c.summary, attempt=c.attempt)
        )
        return Outcome.GATED

    async def _held(self, c: Candidate) -> Outcome | None:
        """HELD for the human if a conflict with the head or the policy says so; GATED when a
        conflict goes back to its agent or its task runs again instead (`on_conflict`: the
        decision is already on its way); None when the result may go on."""
        check = await asyncio.to_thread(check_merge, self._ws, self._head(), c.commit)
        reasons = hold_reasons(c, self._limits, self._policy, self.extra_reasons)
        pending = PendingMerge(c.task_id, c.title, c.commit, c.summary)
        if not check.clean:
            files = check.conflicted_paths
            self._bus.emit(ev.MergeConflict, task=c.task_id, files=files)
            if await self._outcomes.conflict_elsewhere(pending, check.conflicts):
                return Outcome.GATED
            reasons.insert(0, f"conflicts with the integration branch in {', '.join(files)}")
        if reasons:
            self._outcomes.hold(pending, reasons)
            return Outcome.HELD
        return None

    async def conflicts(self, task_id: str) -> tuple[ConflictFile, ...]:
        """The conflicts a waiting merge has against the integration branch as it is now."""
        pending = self._outcomes.get(task_id)
        check = await asyncio.to_thread(check_merge, self._ws, self._head(), pending.commit)
        return check.conflicts

    async def approve(self, task_id: str, resolution: Resolution = None) -> str:
        """Land a waiting result through the gate; see the module docstring for the contract."""
        pending = self._outcomes.get(task_id)
        if task_id in self._outcomes.approving or task_id in self._checking:
            raise ValueError(f"task '{task_id}' is already approved: its merge is being tested")
        if self._gate is None:
            async with self._lock:
                return await self._approve_now(task_id, resolution)
        head = self._head()
        self._checking.add(task_id)  # a second approval meanwhile (another client) is refused
        try:
            check = await asyncio.to_thread(check_merge, self._ws, head, pending.commit)
            source, label = resolved_source(task_id, pending.commit, check, head, resolution)
        finally:
            self._checking.discard(task_id)
        landed: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        item = GateItem(
            task_id, pending.title, source, pending.summary,
            approved=True, resolution=label, landed=landed,
        )  # fmt: skip
        self._outcomes.approving[task_id] = item
        self._gate.enqueue(item)
        return await asyncio.shield(landed)  # a caller that gives up leaves the approval in

    async def trial(self, task_id: str, resolution: Resolution = None) -> TrialMerge:
        """Test a waiting merge as resolved, on the branch as it is now; nothing lands."""
        pending = self._outcomes.get(task_id)
        if self.trials is None:
            raise ValueError(f"nothing to test the merge with: {self._settings.off_reason}")
        head = self._head()
        check = await asyncio.to_thread(check_merge, self._ws, head, pending.commit)
        source, _ = resolved_source(task_id, pending.commit, check, head, resolution)
        message = f"maestro: trial of task {task_id}"
        try:
            merged = await asyncio.to_thread(merge_sources, self._ws, head, [source], message)
        except SourceConflicts as exc:
            raise MergeNeedsResolution(task_id, exc.paths) from None
        return TrialMerge(merged.commit, merged.tree, await self.trials.run(merged.commit))

    async def _approve_now(self, task_id: str, resolution: Resolution) -> str:
        """No gate: merge the approved result at once, as resolved."""
        pending = self._outcomes.get(task_id)
        check = await asyncio.to_thread(check_merge, self._ws, self._head(), pending.commit)
        resolved: Mapping[str, str | None] | None = None
        label = ""
        if not check.clean:
            if resolution is None:
                raise MergeNeedsResolution(task_id, check.conflicted_paths)
            if isinstance(resolution, str):
                resolved, label = take_side(task_id, check.conflicts, resolution), resolution
            else:
                resolved, label = dict(resolution), "manual"
        head = await self._merge_now(
            task_id, pending.title, pending.commit, pending.summary, resolved, label
        )
        del self._outcomes.waiting[task_id]
        self._decide(Decision(task_id, Outcome.SATISFIED))
        return head

    async def reject(self, task_id: str, reason: str = "") -> None:
        self._outcomes.get(task_id)
        self._stop_approval(task_id, "it was rejected")
        del self._outcomes.waiting[task_id]
        self._bus.emit(ev.MergeRejected, task=task_id, reason=reason or "rejected by the reviewer")
        self._decide(Decision(task_id, Outcome.DEAD, reason=f"dependency '{task_id}' was rejected"))

    def swap(self, task_id: str, commit: str) -> None:
        """Hold another result for the same task instead (the human picked another candidate)."""
        pending = self._outcomes.get(task_id)
        self._stop_approval(task_id, "another candidate was picked")
        waiting = PendingMerge(task_id, pending.title, commit, pending.summary)
        self._outcomes.waiting[task_id] = waiting
        self._bus.emit(ev.MergeQueued, task=task_id, commit=commit)
        self._bus.emit(ev.MergeWaiting, task=task_id, reasons=("candidate picked by the reviewer",))

    def withdraw(self, task_id: str) -> None:
        """Drop a waiting result so its task can run again on the current integration branch."""
        self._outcomes.get(task_id)
        self._stop_approval(task_id, "it was withdrawn to run again")
        del self._outcomes.waiting[task_id]
        self._bus.emit(
            ev.MergeRejected, task=task_id, reason=f"{WITHDRAWN}: retrying on the current branch"
        )

    async def hand_to_agent(self, task_id: str) -> None:
        """The reviewer hands a waiting conflict to the task's agent (it counts as a fix round;
        the resolution comes back through the queue like any result)."""
        pending = self._outcomes.get(task_id)
        self._stop_approval(task_id, "handed to the agent")
        conflicts = await self.conflicts(task_id)
        if not conflicts:
            raise ValueError(f"task '{task_id}' does not conflict: approve, reject or retry it")
        fix = await self._outcomes.fix_request(pending, conflicts, self._rounds_used(task_id))
        del self._outcomes.waiting[task_id]  # it waits no more: the agent's new result will come
        self._decide(Decision(task_id, None, fix=fix))

    def drop(self, task_id: str) -> None:
        """Forget a task's result wherever it is (its task was cancelled)."""
        self._stop_approval(task_id, "its task was cancelled")
        self._outcomes.waiting.pop(task_id, None)
        if self._gate is not None:
            self._gate.remove(task_id)

    async def aclose(self) -> None:
        """Stop the gate's test runs; results still in it are tested again on resume."""
        if self._gate is not None:
            await self._gate.aclose()  # and its trials
        for task_id in list(self._outcomes.approving):
            self._stop_approval(task_id, "the run was closed")

    # --- helpers -----------------------------------------------------------------------------

    def _stop_approval(self, task_id: str, why: str) -> None:
        if self._outcomes.stop_approval(task_id, why) and self._gate is not None:
            self._gate.remove(task_id)

    async def _merge_now(
        self,
        task_id: str,
        title: str,
        commit: str,
        summary: str,
        files: Mapping[str, str | None] | None = None,
        resolution: str = "",
    ) -> str:
        """No gate: merge at once (one commit-tree and a compare-and-swap); under the lock."""
        if not self._said_off:
            self._said_off = True
            self._bus.emit(ev.GateSkipped, reason=self._settings.off_reason)
        item = GateItem(task_id, title, MergeSource(commit), summary)
        message = merge_message(self._bus.run_id, [item])
        head = await asyncio.to_thread(merge_into, self._ws, self._branch, commit, message, files)
        approved = task_id in self._outcomes.waiting
        if approved:
            self._bus.emit(ev.MergeApproved, task=task_id, resolution=resolution)
        self._bus.emit(ev.Merged, task=task_id, commit=head, auto=not approved)
        return head

    def _head(self) -> str:
        return branch_head(self._ws, self._branch)
