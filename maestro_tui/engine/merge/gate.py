"""The merge gate: the integration branch only ever moves to a tree whose tests passed as merged.

Results queue in arrival order. A *segment* (one result, or a batch of them) is merged onto the
segment ahead of it, or onto the branch head, into a commit on no branch; that exact tree is
tested in a scratch worktree. Up to `speculate` segments are tested at once (A, A+B, A+B+C:
Zuul's dependent pipeline), so no merge waits for the test run of the one before it.

- **Landing.** The green segments at the front of the chain land with one compare-and-swap
  of the branch to the newest of them. Segments chain, so every first-parent commit of the
  branch is a tree that was tested and passed.
- **Red.** A red segment throws away every segment behind it (their results queue again, to
  be tested without it) and waits as a *suspect* until everything ahead of it has landed:
  then its base is green and the red is its own. A single result is the culprit; a batch is
  split in halves that are tested again (bors-ng's bisection). If even the base is not known
  green, it is tested first: a red base is reported and nobody is blamed for it.
- **Batches.** When more results wait than there are free test slots, a slot takes
  ceil(waiting / free slots) of them at once (at most `max_batch`: a big batch is almost sure
  to hold a culprit, and each bisection costs a test cycle), so a queue costs few test runs.
- **Conflicts.** A result that conflicts with the branch head goes back to its owner. One that
  conflicts only with results ahead of it (not landed yet) waits until they land or fail.

The gate runs as one driver task that owns all of this state; test runs are tasks that wake it.
It knows nothing of policy: what happens to a landed, red or conflicting result is its owner's
business (the merge queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from maestro_tui.domain import events as ev
from maestro_tui.engine.bus import EventBus
from maestro_tui.engine.merge.commit_tests import BaseVerdict, CommitTests
from maestro_tui.engine.merge.pipeline import GateItem, Pipeline, Segment
from maestro_tui.workspace.merge import MergedSources, SourceConflicts, merge_sources
from maestro_tui.workspace.repo import Workspace
from maestro_tui.workspace.validate import TestResult

__all__ = ["Gate", "GateItem", "GateOwner", "merge_message"]

TAIL = 4000  # characters of test output kept in events
# A test run this long (seconds, measured on the base) keeps a core busy long enough that more
# runs at once than cores only slow each other down: the speculation is narrowed to the cores.
SLOW_TEST_RUN_S = 2.0


class GateOwner(Protocol):
    """What the gate reports; each call decides one result for good (or for this round)."""

    def landed(self, item: GateItem, head: str) -> None: ...

    def red(self, item: GateItem, result: TestResult, base_red: bool) -> None: ...

    def conflicted(self, item: GateItem, error: SourceConflicts) -> None: ...

    def broken(self, item: GateItem, reason: str) -> None: ...


@dataclass
class _Built:
    """What merging a batch onto its base gave: a commit of the items that merged, and the
    items that conflict with the head or (deferred) only with results ahead of them."""

    items: list[GateItem]
    merged: MergedSources | None = None
    base_tree: str = ""
    conflicted: list[tuple[GateItem, SourceConflicts]] = field(default_factory=list)
    deferred: list[GateItem] = field(default_factory=list)


def merge_message(run_id: str, items: Sequence[GateItem]) -> str:
    """The merge commit's message: what merged, with one Maestro-Merged-Task trailer each."""
    if len(items) == 1:
        item = items[0]
        body = f"\n\n{item.summary.strip()}" if item.summary.strip() else ""
        head = f"Merge task {item.task_id}: {item.title}{body}"
    else:
        lines = "\n".join(f"- {i.task_id}: {i.title}" for i in items)
        head = f"Merge tasks {', '.join(i.task_id for i in items)}\n\n{lines}"
    trailers = "".join(f"Maestro-Merged-Task: {i.task_id}\n" for i in items)
    return f"{head}\n\nMaestro-Run: {run_id}\n{trailers}"


class Gate:
    """Tests queued results as merged, speculatively, and lands the green ones."""

    def __init__(
        self,
        bus: EventBus,
        ws: Workspace,
        branch: str,
        trials: CommitTests,
        owner: GateOwner,
        *,
        speculate: int = 4,
        max_batch: int = 4,
        retest_red: bool = False,
    ) -> None:
        self._bus = bus
        self._ws = ws
        self._branch = branch
        self._trials = trials
        self._owner = owner
        self._slots = max(1, speculate)
        self._max_batch = max(1, max_batch)
        self._retest = retest_red
        self._p = Pipeline()
        self._removed: set[str] = set()
        self._landed: set[str] = set()  # commits the branch has moved to (all green)
        self._runs: set[asyncio.Task[TestResult]] = set()
        self._driver: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # --- commands ----------------------------------------------------------------------------

    def enqueue(self, item: GateItem) -> None:
        """Queue a result; the driver picks it up as soon as the event loop lets it."""
        self._p.add(item)
        self._kick()

    def remove(self, task_id: str) -> None:
        """Take a task's result out of the gate (cancelled, withdrawn); it does not land."""
        self._removed.add(task_id)
        self._kick()

    def fit_to(self, test_run_s: float, cores: int | None = None) -> int:
        """Narrow the speculation to the machine's cores when one test run is slow enough
        (SLOW_TEST_RUN_S) that more runs at once only slow each other down; the width."""
        cores = cores or os.cpu_count() or 1
        if test_run_s >= SLOW_TEST_RUN_S:
            self._slots = max(1, min(self._slots, cores))
        return self._slots

    def holds(self, task_id: str) -> bool:
        return task_id in {i.task_id for i in self._p.items()}

    async def aclose(self) -> None:
        """Stop the driver and every test run, and remove their scratch worktrees."""
        if self._driver is not None:
            self._driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._driver
        runs = list(self._runs)
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        await self._trials.aclose()

    # --- the driver --------------------------------------------------------------------------

    def _kick(self) -> None:
        self._wake.set()
        if self._driver is None or self._driver.done():
            self._driver = asyncio.create_task(self._drive(), name="merge-gate")

    async def _drive(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self._step()
            except Exception as exc:  # git broke under us: nothing lands, the human decides
                self._fail_all(f"the merge gate failed: {exc}")
            if self._p.idle and not self._removed:
                return  # the next enqueue starts a new driver
            await self._wake.wait()

    async def _step(self) -> None:
        head = await asyncio.to_thread(self._ws.branch_head, self._branch)
        if head is None:
            raise RuntimeError(f"integration branch {self._branch} is missing")
        p = self._p
        if p.chain and p.chain[0].base != head:  # moved by someone else: start again on it
            self._throw_back([*p.chain, *p.suspects])
        while self._removed:
            task_id = self._removed.pop()
            self._throw_back(p.holding(task_id))
            p.forget(task_id)
        for seg in list(p.chain):
            if seg in p.chain and seg.verdict is None and seg.run is not None and seg.run.done():
                self._judge(seg)
        head = await self._land(head)
        self._settle_suspects(head)
        await self._pump(head)

    def _judge(self, seg: Segment) -> None:
        """A test run finished: a verdict, a retest, or a red that throws back what is behind."""
        assert seg.run is not None
        try:
            result = seg.run.result()
        except Exception as exc:  # the trial itself broke (a worktree could not be made)
            why = f"the gate could not test: {exc}"
            result = TestResult(False, None, None, None, 0.0, why, False)
        if not result.passed and self._retest and seg.first_red is None:
            self._report(seg, result)
            seg.first_red = result
            self._start(seg, retest=True)
            return
        flaky: tuple[str, ...] = ()
        if result.passed and seg.first_red is not None:
            flaky = tuple(sorted(seg.first_red.failing)) or ("(unnamed)",)
        self._report(seg, result, flaky=flaky)
        seg.result, seg.verdict = result, result.passed
        if result.passed:
            self._trials.passed(seg.merged.tree)
            return
        self._throw_back(self._p.behind(seg))
        self._p.suspect(seg)

    async def _land(self, head: str) -> str:
        """Move the branch over the green segments at the front, in one compare-and-swap."""
        p = self._p
        landing = p.green_front()
        if not landing:
            return head
        top = landing[-1].merged.commit
        reason = f"maestro: merge {', '.join(t for s in landing for t in s.tasks)}"
        moved = await asyncio.to_thread(self._ws.update_branch, self._branch, top, head, reason)
        if not moved:  # someone else moved it: the next step tests everything again
            self._wake.set()
            return head
        del p.chain[: len(landing)]
        self._landed.update(s.merged.commit for s in landing)
        p.release_deferred()
        for seg in landing:
            for item in seg.items:
                self._owner.landed(item, top)
        return top

    def _settle_suspects(self, head: str) -> None:
        """Suspects with nothing undecided ahead of them: blame the culprit, bisect a batch."""
        p = self._p
        for seg in sorted(p.suspects, key=lambda s: s.seq):
            if p.ahead_of(seg):
                continue  # something ahead of it may still be the cause
            if seg.base != head and seg.base not in self._landed:
                self._throw_back([seg])  # its base never landed: test it again
                continue
            if seg.base_check is None:
                seg.base_check = self._base_check(seg)
            check = seg.base_check
            if not check.done():
                continue
            base_ok = not check.cancelled() and not check.exception() and check.result().passed
            assert seg.result is not None
            if base_ok and len(seg.items) > 1:
                p.bisect(seg)
                continue
            p.suspects.remove(seg)
            p.release_deferred()
            for item in seg.items:
                self._owner.red(item, seg.result, base_red=not base_ok)

    def _base_check(self, seg: Segment) -> asyncio.Future[BaseVerdict]:
        """Is the suspect's base green? Known for every tree the gate passed; else tested."""
        if self._trials.known_green(seg.base_tree):
            done: asyncio.Future[BaseVerdict] = asyncio.get_running_loop().create_future()
            done.set_result(BaseVerdict(True))
            return done
        check = asyncio.ensure_future(self._trials.base_verdict(seg.base, "gate"))
        check.add_done_callback(lambda _: self._wake.set())
        return check

    async def _pump(self, head: str) -> None:
        """Start testing waiting results while test slots are free."""
        p = self._p
        while p.backlog and p.testing() < self._slots:
            base = p.chain[-1].merged.commit if p.chain else head
            items, fixed = p.take(self._slots, self._max_batch)
            built = await asyncio.to_thread(self._merge, base, head, items)
            for item, error in built.conflicted:
                self._owner.conflicted(item, error)
            p.deferred += built.deferred
            if built.merged is not None:
                self._start(p.extend(built.items, base, built.base_tree, built.merged, fixed))

    def _merge(self, base: str, head: str, items: list[GateItem]) -> _Built:
        """Merge `items` onto `base` (git only: it runs in a thread). One that conflicts with
        the head is sent back; one that conflicts only with results ahead of it waits."""
        built = _Built(items=list(items))
        while built.items:
            message = merge_message(self._bus.run_id, built.items)
            try:
                sources = [i.source for i in built.items]
                built.merged = merge_sources(self._ws, base, sources, message)
            except SourceConflicts as exc:
                item = built.items.pop(exc.index)
                if base == head and exc.index == 0:
                    built.conflicted.append((item, exc))
                    continue
                try:
                    merge_sources(self._ws, head, [item.source], "maestro: conflict check")
                    built.deferred.append(item)
                except SourceConflicts as alone:
                    built.conflicted.append((item, alone))
                continue
            (built.base_tree,) = self._ws.rev_parse(f"{base}^{{tree}}")
            break
        return built

    def _start(self, seg: Segment, retest: bool = False) -> None:
        self._bus.emit(
            ev.MergeTesting,
            tasks=seg.tasks,
            commit=seg.merged.commit,
            tree=seg.merged.tree,
            prefix=seg.prefix,
            speculative=seg.speculative,
            retest=retest,
        )
        run = asyncio.create_task(self._trials.run(seg.merged.commit), name=f"gate {seg.tasks}")
        self._runs.add(run)
        run.add_done_callback(self._runs.discard)
        run.add_done_callback(lambda _: self._wake.set())
        seg.run = run

    def _report(
        self, seg: Segment, result: TestResult | None, *, flaky: tuple[str, ...] = ()
    ) -> None:
        self._bus.emit(
            ev.MergeTested,
            tasks=seg.tasks,
            commit=seg.merged.commit,
            tree=seg.merged.tree,
            passed=bool(result and result.passed),
            n_passed=result.n_passed if result else None,
            n_failed=result.n_failed if result else None,
            duration_s=round(result.duration_s, 3) if result else 0.0,
            output_tail=result.output_tail[-TAIL:] if result else "",
            prefix=seg.prefix,
            speculative=seg.speculative,
            retest=seg.first_red is not None,
            cancelled=result is None,
            flaky=flaky,
        )

    def _throw_back(self, segments: list[Segment]) -> None:
        """Segments are void: stop their tests; their results queue again (pipeline)."""
        for seg in self._p.throw_back(segments):
            if seg.run is not None and not seg.run.done():
                seg.run.cancel()
                self._report(seg, None)
            if seg.base_check is not None:
                seg.base_check.cancel()

    def _fail_all(self, reason: str) -> None:
        """Give every result back to the owner: the gate cannot go on safely."""
        items = self._p.items()
        for seg in [*self._p.chain, *self._p.suspects]:
            if seg.run is not None:
                seg.run.cancel()
        self._p = Pipeline()
        for item in items:
            self._owner.broken(item, reason)
