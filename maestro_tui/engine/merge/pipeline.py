"""The merge gate's queue as data: waiting results, the chain of merged trees under test, and
the red ones waiting to be blamed. No git and no I/O here: engine/gate.py drives it."""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from maestro_tui.engine.merge.commit_tests import BaseVerdict
from maestro_tui.workspace.merge import MergedSources, MergeSource
from maestro_tui.workspace.validate import TestResult


@dataclass(eq=False)
class GateItem:
    """One result on its way into the integration branch."""

    task_id: str
    title: str
    source: MergeSource
    summary: str = ""
    attempt: int = 0
    approved: bool = False  # a human approved it (resolution: how conflicts were settled)
    resolution: str = ""
    landed: asyncio.Future[str] | None = None  # an approval waits on this
    order: int = 0  # arrival in the gate: results thrown back keep their place in the queue


@dataclass(eq=False)
class Segment:
    """Results merged onto the segment ahead (or the branch head), as one commit under test."""

    seq: int
    items: list[GateItem]
    base: str
    base_tree: str
    merged: MergedSources
    prefix: tuple[str, ...]  # every task from the branch head to this segment's top
    fixed: bool = False  # a bisected half: queued again as one batch if thrown away
    run: asyncio.Task[TestResult] | None = None
    verdict: bool | None = None  # None: being tested
    result: TestResult | None = None
    first_red: TestResult | None = None  # the red run before a retest
    base_check: asyncio.Future[BaseVerdict] | None = None

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(i.task_id for i in self.items)

    @property
    def speculative(self) -> bool:
        """Built on results that have not landed yet."""
        return len(self.prefix) > len(self.items)


@dataclass
class Entry:
    """Waiting results: one loose result, or a bisected half that is tested as one batch."""

    items: list[GateItem]
    fixed: bool = False


@dataclass
class Pipeline:
    """Where every result in the gate is: waiting, deferred, under test, or suspected."""

    backlog: list[Entry] = field(default_factory=list)
    deferred: list[GateItem] = field(default_factory=list)  # conflict with results ahead only
    chain: list[Segment] = field(default_factory=list)  # testing or green, in queue order
    suspects: list[Segment] = field(default_factory=list)  # red, until their base is settled
    _arrivals: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _seqs: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(self, item: GateItem) -> None:
        item.order = next(self._arrivals)
        self.backlog.append(Entry([item]))

    def items(self) -> list[GateItem]:
        segments = [*self.chain, *self.suspects]
        waiting = [i for e in self.backlog for i in e.items] + self.deferred
        return waiting + [i for s in segments for i in s.items]

    @property
    def idle(self) -> bool:
        return not (self.backlog or self.deferred or self.chain or self.suspects)

    def testing(self) -> int:
        return sum(1 for s in self.chain if s.verdict is None)

    def green_front(self) -> list[Segment]:
        """The segments at the front of the chain that passed: they can land together."""
        n = 0
        while n < len(self.chain) and self.chain[n].verdict:
            n += 1
        return self.chain[:n]

    def take(self, slots: int, max_batch: int) -> tuple[list[GateItem], bool]:
        """A bisected half as it is, or a batch of ceil(loose / free slots) loose results
        (at most `max_batch`)."""
        if self.backlog[0].fixed:
            return self.backlog.pop(0).items, True
        loose = next((i for i, e in enumerate(self.backlog) if e.fixed), len(self.backlog))
        size = min(max_batch, math.ceil(loose / (slots - self.testing())))
        taken = [e.items[0] for e in self.backlog[:size]]
        del self.backlog[:size]
        return taken, False

    def extend(
        self,
        items: list[GateItem],
        base: str,
        base_tree: str,
        merged: MergedSources,
        fixed: bool,
    ) -> Segment:
        """A new segment at the end of the chain."""
        ahead = tuple(t for s in self.chain for t in s.tasks)
        prefix = (*ahead, *(i.task_id for i in items))
        seg = Segment(next(self._seqs), items, base, base_tree, merged, prefix, fixed)
        self.chain.append(seg)
        return seg

    def behind(self, seg: Segment) -> list[Segment]:
        """Segments built on top of `seg`: later in the chain, or suspects made after it."""
        later = self.chain[self.chain.index(seg) + 1 :] if seg in self.chain else []
        return later + [s for s in self.suspects if s.seq > seg.seq]

    def suspect(self, seg: Segment) -> None:
        self.chain.remove(seg)
        self.suspects.append(seg)

    def ahead_of(self, seg: Segment) -> bool:
        """Is anything that `seg` was built on still undecided?"""
        return any(c.seq < seg.seq for c in self.chain)

    def bisect(self, seg: Segment) -> None:
        """A red batch on a green base: test each half again, first in the queue."""
        self.suspects.remove(seg)
        half = len(seg.items) // 2
        self.backlog[:0] = [Entry(seg.items[:half], True), Entry(seg.items[half:], True)]

    def throw_back(self, segments: Sequence[Segment]) -> list[Segment]:
        """Take segments out and queue their results again, in front, in arrival order.
        Returns those that were still in (their test runs are the caller's to stop)."""
        gone = []
        for seg in segments:
            if seg in self.chain:
                self.chain.remove(seg)
            elif seg in self.suspects:
                self.suspects.remove(seg)
            else:
                continue  # already thrown back
            gone.append(seg)
        entries = [
            e
            for seg in gone
            for e in ([Entry(seg.items, True)] if seg.fixed else [Entry([i]) for i in seg.items])
        ]
        self.backlog[:0] = sorted(entries, key=lambda e: e.items[0].order)
        if gone:
            self.release_deferred()
        return gone

    def holding(self, task_id: str) -> list[Segment]:
        """The segments to throw back to take `task_id` out: its own and all behind it."""
        for seg in [*self.chain, *self.suspects]:
            if task_id in seg.tasks:
                return [seg, *self.behind(seg)]
        return []

    def forget(self, task_id: str) -> None:
        """Drop a waiting result."""
        self.deferred = [i for i in self.deferred if i.task_id != task_id]
        for entry in self.backlog:
            entry.items = [i for i in entry.items if i.task_id != task_id]
        self.backlog = [e for e in self.backlog if e.items]

    def release_deferred(self) -> None:
        """The chain changed: results that conflicted with it get another look, in front."""
        self.backlog[:0] = [Entry([i]) for i in self.deferred]
        self.deferred = []
